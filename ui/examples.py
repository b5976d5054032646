"""The example debates in `runs/examples/`: saved runs a newcomer opens in seconds, and the script that remakes them.

    python -m gauntlet.ui.examples                      # regenerate with each config's model (the embedded one)
    python -m gauntlet.ui.examples --synthetic          # a quick check of the script against the test double

Regenerate whenever the run format or a protocol changes (tests/test_run_file.py checks the shipped files still
import). On the embedded CPU model run it under the shared lock: `flock /tmp/gauntlet-llm.lock python -m ...`.
Each example is a shipped config cut down to one round and a small panel, so the files stay a few KB in git.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]  # the repository (editable install); absent from a wheel
EXAMPLES_DIR = ROOT / "runs" / "examples"
CONFIGS_DIR = ROOT / "runs" / "configs"
SUFFIX = ".run.jsonl.gz"


@dataclass(frozen=True)
class Example:
    name: str  # the file is runs/examples/<name>.run.jsonl.gz
    config: str  # a file in runs/configs
    trim: dict[str, Any] = field(default_factory=dict)  # top-level keys replaced to keep the debate small
    fork_note: str = ""  # non-empty: the example is a fork of the previous one with this human intervention
    notes: tuple[tuple[str, str], ...] = ()  # (node kind, reviewer comment) added to the first node of that kind


SMALL_PANEL = {"proposers": ["ml-empiricist"], "critics": ["security-engineer", "formal-methods-researcher"],
               "judge": "philosopher-of-science"}

EXAMPLES = (
    Example("demo", "demo.yaml", {"panel": SMALL_PANEL, "critiques_per_critic": 1}),
    Example("annotated-fork", "demo.yaml",
            fork_note="A capable model can tell a honeypot from deployment by its artificial details, so "
                      "identical behaviour under honeypots is weak evidence.",
            notes=(("idea", "Reviewer: the seed idea assumes the model cannot recognise a test; the fork "
                            "asks the panel to weigh that."),
                   ("human_note", "Reviewer: this intervention is the point of the fork; compare the idea's "
                                  "status here with the parent run."))),
    Example("tournament", "tournament.yaml"),
    Example("red-team", "red_team.yaml", {"rounds": 1, "panel": {
        "proposers": ["ml-empiricist"], "critics": ["security-engineer", "causal-statistician", "linguist"],
        "judge": "philosopher-of-science"}}),
    Example("false-claim", "false_claim.yaml",
            notes=(("formal_result", "Checked by hand: e = 1/2 gives e*e = 1/4 < 1/2, so the claim is false, "
                                     "as z3's counterexample says."),)),
)


def example_files(directory: Path = EXAMPLES_DIR) -> list[Path]:
    return sorted(directory.glob("*" + SUFFIX)) if directory.is_dir() else []


def load_examples(store: Any, directory: Path = EXAMPLES_DIR) -> list[str]:
    """Import every shipped example into `store` (idempotent); the run ids."""
    from gauntlet.graphs.store.run_import import import_file
    return [import_file(store, f).run_id for f in example_files(directory)]


def _loaded(ex: Example):
    from gauntlet.graphs.run.loading import parse_config
    data = yaml.safe_load((CONFIGS_DIR / ex.config).read_text(encoding="utf-8"))
    data.update(ex.trim)
    source = f"runs/configs/{ex.config}" + (" (cut down for runs/examples)" if ex.trim else "")
    return parse_config(yaml.safe_dump(data, sort_keys=False), source=source, base_dir=CONFIGS_DIR)


def _first(store: Any, run_id: str, kind: str) -> str | None:
    return next((n.id for n in store.nodes(run_id) if n.kind == kind), None)


async def _make(store: Any, ex: Example, previous: str | None, llm: Any) -> str:
    from gauntlet.graphs.run.fork import ForkSpec, fork_run
    from gauntlet.graphs.run.runner import Runner
    if ex.fork_note:
        assert previous is not None, "a fork example follows the run it forks"
        step = max(e.seq for e in store.events(previous) if e.phase == "critique")
        res = await fork_run(store, previous, step, ForkSpec(note=ex.fork_note, note_on="seed-1", author="reviewer"))
        run_id = await Runner(store, llm=llm).resume(res.run_id)
    else:
        run_id = await Runner(store, llm=llm).start(_loaded(ex))
    for kind, text in ex.notes:
        node = _first(store, run_id, kind)
        if node is None:
            raise RuntimeError(f"example {ex.name}: no {kind} node to annotate; check the config still makes one")
        store.annotate(run_id, node, text=text, author="gauntlet examples")
    return run_id


@contextlib.contextmanager
def _model_url(synthetic: bool) -> Iterator[str | None]:
    if not synthetic:
        yield None  # each config's own model (the embedded one for the shipped configs)
        return
    from gauntlet.testing.synthetic_server import running_server
    with running_server(latency_ms=0) as url:
        yield url


def _wanted(only: list[str] | None) -> set[str]:
    wanted = set(only) if only else {e.name for e in EXAMPLES}
    for i, ex in enumerate(EXAMPLES):
        if ex.fork_note and ex.name in wanted:
            wanted.add(EXAMPLES[i - 1].name)  # a fork needs the run it forks
    return wanted


async def _make_all(store: Any, out: Path, url: str | None, wanted: set[str]) -> list[Path]:
    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.graphs.store import run_file
    llm = OpenAIBackend(url, "synthetic", backoff_s=0.01) if url else None
    written, previous = [], None
    try:
        for ex in EXAMPLES:
            if ex.name not in wanted:
                continue
            print(f"[examples] {ex.name} ...", file=sys.stderr, flush=True)
            run_id = previous = await _make(store, ex, previous, llm)
            info = store.run_info(store.run(run_id))
            if info.status != "done":
                raise RuntimeError(f"example {ex.name} ended {info.status}: {info.error}")
            path = out / (ex.name + SUFFIX)
            end = run_file.write_file(store, run_id, path)
            print(f"[examples] wrote {path} ({path.stat().st_size / 1024:.1f} KB, {end['events']} events)",
                  file=sys.stderr, flush=True)
            written.append(path)
    finally:
        if llm is not None:
            await llm.aclose()
    return written


def regenerate(out: Path = EXAMPLES_DIR, *, synthetic: bool = False, only: list[str] | None = None,
               db: Path | None = None) -> list[Path]:
    """Run each example debate in a scratch database (or `db`, kept) and write its run file and the format's
    schema to `out`."""
    from gauntlet.graphs.store import run_file
    from gauntlet.graphs.store.store import Store
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gauntlet-examples-") as tmp, _model_url(synthetic) as url:
        store = Store(str(db or Path(tmp) / "examples.sqlite"))
        written = asyncio.run(_make_all(store, out, url, _wanted(only)))
    (out / "run-format.schema.json").write_text(json.dumps(run_file.json_schema(), indent=2) + "\n",
                                                encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m gauntlet.ui.examples", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="where to write (default runs/examples)")
    p.add_argument("--synthetic", action="store_true", help="use the synthetic test server, not the real model")
    p.add_argument("--only", nargs="*", help="example names to remake (default: all)")
    p.add_argument("--db", type=Path, help="keep the debates in this database (default: a scratch one)")
    args = p.parse_args(argv)
    regenerate(args.out, synthetic=args.synthetic, only=args.only, db=args.db)


if __name__ == "__main__":
    main()
