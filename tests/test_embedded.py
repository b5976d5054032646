"""The embedded default model (llama.cpp on the CPU): real debates through the real CLI, repeatable from a seed.

The debates run as `gauntlet run` subprocesses: that is what a user runs, and a crash in native code then fails
one test instead of the whole session."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.agents.embedded import DEFAULT_MODEL, EmbeddedBackend, model_path
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import show

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "data" / "tiny_embedded.yaml"


def test_model_assembles_from_chunk_packages():
    path = model_path()
    assert path.stat().st_size == DEFAULT_MODEL.size
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_schema_constrained_output_parses():
    from gauntlet.agents.schemas import Proposal, proposal_schema
    from gauntlet.agents.structured import complete_structured

    async def go():
        llm = EmbeddedBackend(max_tokens=160, seed=1)
        msgs = [{"role": "user", "content": "Propose one AI-safety research idea as JSON."}]
        return await complete_structured(llm, msgs, Proposal, schema=proposal_schema(), seed=11)

    value, c = asyncio.run(go())
    assert value.title and c.completion_tokens > 0 and c.model.startswith("embedded:")


def _run(db: Path) -> tuple[str, Store]:
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(TINY), "--db", str(db), "--json", "-q"],
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)["run_id"], Store(str(db))


def test_seeded_debate_repeats_exactly(tmp_path):
    a, sa = _run(tmp_path / "a.sqlite")
    b, sb = _run(tmp_path / "b.sqlite")
    doc = show(sa, a)
    assert doc["status"] == "done" and len(doc["ideas"]) == 1 and doc["edges"] >= 1

    def content(store, run_id):
        return [(n.id, n.kind, n.title, n.text) for n in store.nodes(run_id)]

    assert content(sa, a) == content(sb, b)
    calls_a = [json.loads(e.payload)["response"] for e in sa.events(a, kinds=["llm_call"])]
    calls_b = [json.loads(e.payload)["response"] for e in sb.events(b, kinds=["llm_call"])]
    assert calls_a == calls_b and len(calls_a) >= 2
