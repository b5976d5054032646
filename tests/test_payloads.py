"""The typed vocabulary of the event log (gauntlet.payloads): every event a real debate writes fits its kind's
model, the store refuses one that does not (writing nothing), and so does an imported run file."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from gauntlet.errors import InputError
from gauntlet.graphs.store import run_file
from gauntlet.graphs.store.store import NewEvent, typed_payload
from gauntlet.kinds import EVENT_KINDS, NODE_KINDS
from gauntlet.payloads import (EVENT_PAYLOADS, NODE_DATA, CritiqueData, LLMCallPayload, NodePayload, node_data,
                               parse_payload)
from tests.conftest import run_debate

EXAMPLES = Path(__file__).resolve().parents[1] / "runs" / "examples"


def test_every_event_kind_has_a_payload_model_and_node_data_kinds_are_node_kinds():
    assert set(EVENT_PAYLOADS) == set(EVENT_KINDS)
    assert set(NODE_DATA) <= set(NODE_KINDS)


def test_a_real_debate_writes_only_typed_payloads(store, demo, synthetic_url):
    run_id = run_debate(store, demo, synthetic_url)
    events = store.events(run_id)
    typed = [typed_payload(e) for e in events]
    assert {type(p).__name__ for p in typed} >= {"RunStartedPayload", "NodePayload", "EdgePayload",
                                                  "LLMCallPayload", "RunEndedPayload"}
    nodes = [p for p in typed if isinstance(p, NodePayload)]
    kinds = {n.kind for n in nodes}
    assert {"idea", "critique", "judgement"} <= kinds
    for n in nodes:  # each node's data reads as its kind's model, with the typed fields the views rely on
        data = n.typed_data()
        assert isinstance(data, NODE_DATA.get(n.kind, type(data)))
    critiques = [n.typed_data() for n in nodes if n.kind == "critique"]
    assert critiques and all(isinstance(c, CritiqueData) and c.target for c in critiques)
    calls = store.payloads(run_id, "llm_call")
    assert calls and all(isinstance(c, LLMCallPayload) and c.messages for c in calls)


@pytest.mark.parametrize("kind, payload, field", [
    ("node", {"id": "c1", "kind": "critique", "data": {"severity": "catastrophic"}}, "data.severity"),
    ("node", {"id": "c1", "kind": "verdict"}, "kind"),
    ("node", {"id": "", "kind": "idea"}, "id"),
    ("edge", {"src": "a", "dst": "b", "kind": "attacks", "weight": 3}, "weight"),
    ("llm_call", {"key": "k", "persona": "p", "phase": "critique", "round": -1}, "round"),
    ("node", {"id": "f1", "kind": "formal_result", "data": {"verdict": "probably"}}, "data.verdict"),
    ("round_started", {"round": "two"}, "round"),
])
def test_a_bad_payload_is_refused_naming_its_field(kind, payload, field):
    with pytest.raises(InputError) as err:
        parse_payload(kind, payload, where="event e1")
    line = err.value.one_line()
    assert "\n" not in line and field in line and "event e1" in line


def test_open_records_keep_unknown_fields_and_closed_envelopes_do_not():
    data = node_data("critique", {"target": "i1", "severity": "minor", "note_from_a_newer_move": 1})
    assert data.severity == "minor" and data.model_extra == {"note_from_a_newer_move": 1}
    with pytest.raises(InputError):
        parse_payload("node", {"id": "a", "kind": "idea", "colour": "red"})


def test_the_store_refuses_a_bad_event_and_writes_nothing_of_its_batch(store):
    store.create_run("r", topic="t", config={}, source="s", seed=0, model="m", personas=[])
    good = NewEvent("node/i1", "node", {"id": "i1", "kind": "idea", "persona": "p", "round": 1})
    bad = NewEvent("edge/i1/attacks/x", "edge", {"src": "i1", "dst": "x", "kind": "refutes"})
    with pytest.raises(InputError, match="edge/i1/attacks/x"):
        store.append("r", [good, bad])
    assert store.events("r") == [] and store.nodes("r") == []


def _example_lines(name: str) -> list[dict]:
    with gzip.open(EXAMPLES / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_shipped_run_files_fit_the_generated_schema_with_typed_payloads():
    validator = jsonschema.Draft202012Validator(run_file.json_schema())
    lines = [rec for p in sorted(EXAMPLES.glob("*.run.jsonl.gz")) for rec in _example_lines(p.name)]
    assert len(lines) > 50
    for rec in lines:
        validator.validate(rec)
    # The schema ties a payload to its kind: a node payload with a stray field is not a valid line.
    event = next(r for r in lines if r["type"] == "event" and r["kind"] == "node")
    event = {**event, "payload": {**event["payload"], "colour": "red"}}
    assert not validator.is_valid(event)


def test_import_refuses_a_run_file_whose_payload_is_wrong(tmp_path):
    lines = _example_lines("demo.run.jsonl.gz")
    i = next(k for k, r in enumerate(lines) if r["type"] == "event" and r["kind"] == "node"
             and r["payload"]["kind"] == "critique")
    lines[i]["payload"]["data"]["severity"] = "catastrophic"
    body = lines[:-1]
    sha = run_file.hashlib.sha256("".join(run_file.canonical(r) + "\n" for r in body).encode()).hexdigest()
    lines[-1]["sha256"] = sha  # a well-formed file, hash and all: only the payload is wrong
    path = tmp_path / "bad.run.jsonl"
    path.write_text("".join(run_file.canonical(r) + "\n" for r in lines), encoding="utf-8")
    db = tmp_path / "x.sqlite"
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "import", str(path), "--db", str(db)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and f"line {i + 1}" in err[0] and "data.severity" in err[0]
