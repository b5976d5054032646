"""The orchestrator's speed work changes how fast a debate runs, never what it records: each lever here is
checked for the behaviour it must keep (real store, real synthetic server, real LangGraph checkpointer)."""

from __future__ import annotations

import asyncio
import gc
import json
import math

import httpx
import pytest

from gauntlet.agents.http_transport import AiohttpJsonClient, HttpxJsonClient
from gauntlet.agents.structured import parse_json
from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.run import collector, event_loop
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.run.runner import Runner, _compiled_without_saver, compiled, run_stats
from gauntlet.graphs.store.store import canonical_json

from tests.conftest import run_debate


# the cyclic collector ------------------------------------------------------------------------------------
def test_collector_is_tuned_inside_a_debate_and_restored_after_the_last_one():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collector.debate_collector():
        assert gc.get_threshold() == collector.DEBATE_THRESHOLDS and collector.active()
        assert gc.get_freeze_count() > frozen  # what existed at the start is out of every collection
        with collector.debate_collector():  # a second debate in the same process shares the entry
            pass
        assert gc.get_threshold() == collector.DEBATE_THRESHOLDS  # the inner exit did not restore early
    assert gc.get_threshold() == before and not collector.active()
    assert gc.get_freeze_count() == frozen


def test_collector_still_collects_cycles_made_during_a_debate():
    import weakref

    class Node:
        pass

    with collector.debate_collector():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
        ref = weakref.ref(a)
        del a, b
        gc.collect()
        assert ref() is None


# the event loop ------------------------------------------------------------------------------------------
async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_event_loop_is_uvloop_when_installed_unless_opted_out(monkeypatch):
    pytest.importorskip("uvloop")
    assert event_loop.run(_loop_module()).startswith("uvloop") and event_loop.loop_name() == "uvloop"
    monkeypatch.setenv("GAUNTLET_EVENT_LOOP", "asyncio")
    assert event_loop.run(_loop_module()).startswith("asyncio") and event_loop.loop_name() == "asyncio"


# JSON on the per-call path -------------------------------------------------------------------------------
def test_parse_json_takes_orjson_fast_path_and_stdlib_leftovers_without_calling_them_repairs():
    assert parse_json('{"a": [1, 2], "b": "é"}') == ({"a": [1, 2], "b": "é"}, False)
    value, repaired = parse_json('{"x": NaN, "big": 123456789012345678901234567890}')  # orjson refuses both
    assert not repaired and math.isnan(value["x"]) and value["big"] == 123456789012345678901234567890
    value, repaired = parse_json("{'critiques': [")  # broken: the repairer's business, and flagged
    assert repaired
    assert parse_json("[1, 2]") == (None, False)  # valid JSON, but not an object


def test_canonical_json_is_sorted_and_round_trips_what_the_stdlib_would_store():
    payload = {"b": 1, "a": {"z": [1.5, None, "ünïcode"], "y": True}, "n": 2**80}  # past 64 bits: stdlib path
    assert json.loads(canonical_json(payload)) == json.loads(json.dumps(payload, sort_keys=True))
    assert json.loads(canonical_json({3: "int key", "k": 1})) == {"3": "int key", "k": 1}
    assert canonical_json({"b": 1, "a": 2}) == '{"a":2,"b":1}'


# HTTP ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("client_cls", [AiohttpJsonClient, HttpxJsonClient])
def test_json_clients_post_and_raise_the_transport_errors_the_backend_retries(client_cls, synthetic_url):
    body = {"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}

    async def go() -> None:
        client = client_cls(synthetic_url, {}, 4, 10.0)
        reply = await client.post_json("/chat/completions", body)
        assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"]
        bad = await client.post_json("/nope", body)
        assert bad.status_code == 404 and "Not Found" in bad.text
        await client.aclose()
        assert client.is_closed
        down = client_cls("http://127.0.0.1:9/v1", {}, 1, 2.0)
        with pytest.raises(httpx.TransportError):
            await down.post_json("/chat/completions", body)
        await down.aclose()

    asyncio.run(go())


# the runner ----------------------------------------------------------------------------------------------
def test_each_run_gets_the_cached_compiled_graph_with_its_own_saver(store):
    factory = PROTOCOLS["gauntlet"]

    async def go() -> None:
        async with checkpointer_for(store) as saver:
            app = compiled(factory, saver)
            assert app.checkpointer is saver
            assert app.nodes.keys() == _compiled_without_saver(factory).nodes.keys()
            assert _compiled_without_saver(factory).checkpointer is None  # the shared copy never holds a saver

    asyncio.run(go())
    assert _compiled_without_saver(factory) is _compiled_without_saver(factory)


def test_final_state_from_the_stream_matches_the_checkpoint_and_every_item_is_an_event(store, demo, synthetic_url):
    run_id = run_debate(store, demo, synthetic_url)

    async def final_state() -> dict:
        async with checkpointer_for(store) as saver:
            app = compiled(PROTOCOLS[demo.config.protocol], saver)
            return (await app.aget_state({"configurable": {"thread_id": run_id}})).values

    state = asyncio.run(final_state())
    keys = {e.key for e in store.events(run_id)}
    assert {f"call/{c['key']}" for c in state["calls"]} <= keys
    assert {f"node/{n['id']}" for n in state["nodes"]} <= keys
    assert {f"edge/{e['src']}/{e['kind']}/{e['dst']}" for e in state["edges"]} <= keys
    stats = run_stats(store, run_id)
    assert stats["calls"] == len(state["calls"]) and stats["prompt_tokens"] > 0
    # The runner's stats come from the final state's calls (stats_of), not a re-read: the same figures.
    stored = json.loads(store.run(run_id).stats_json)
    assert {k: v for k, v in stored.items() if k != "wall_s"} == stats


def test_a_resumed_run_writes_what_the_checkpoint_holds_but_the_log_missed(store, demo, synthetic_url):
    """The re-derivation at the end is what makes a kill between checkpoint and event write harmless: drop some
    events from the log of a finished run, resume-style re-drive it, and they come back."""
    from sqlalchemy import delete

    from gauntlet.graphs.store.tables import Event

    run_id = run_debate(store, demo, synthetic_url)
    lost = [e.key for e in store.events(run_id, kinds=("llm_call",))][:3]
    with store.write_engine.begin() as conn:
        conn.execute(delete(Event).where(Event.run_id == run_id, Event.key.in_(lost)))
    store.set_status(run_id, "interrupted")

    async def redrive() -> None:
        from gauntlet.agents.openai_backend import OpenAIBackend

        llm = OpenAIBackend(synthetic_url, "synthetic")
        try:
            runner = Runner(store, llm=llm)
            await runner._drive(run_id, runner._context(run_id, runner.loaded_config(run_id)), None)
        finally:
            await llm.aclose()

    asyncio.run(redrive())
    assert set(lost) <= {e.key for e in store.events(run_id)}


def test_group_committed_task_writes_all_land_with_upstream_semantics(store):
    """Writes of many tasks finishing together share transactions, and each comes back on load as upstream's
    saver would store it (a regular write is kept on a repeat, INSERT OR IGNORE)."""
    from langgraph.checkpoint.base import empty_checkpoint

    async def go() -> list:
        async with checkpointer_for(store) as saver:
            assert type(saver).__name__ == "GroupCommitSqliteSaver"
            cfg = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
            cfg = await saver.aput(cfg, empty_checkpoint(), {"step": 0}, {})
            await asyncio.gather(*(saver.aput_writes(cfg, [("nodes", [{"id": f"n{i}"}]), ("calls", [i])],
                                                     f"task-{i}") for i in range(60)))
            await saver.aput_writes(cfg, [("nodes", [{"id": "again"}])], "task-0")  # a repeat: first kept
            return (await saver.aget_tuple(cfg)).pending_writes

    pending = asyncio.run(go())
    assert len(pending) == 120
    assert {(t, c) for t, c, _ in pending} == {(f"task-{i}", c) for i in range(60) for c in ("nodes", "calls")}
    assert [v for t, c, v in pending if t == "task-0" and c == "nodes"] == [[{"id": "n0"}]]


# the echo check ------------------------------------------------------------------------------------------
def test_echo_check_answers_as_the_full_ratio_does():
    """The LCS bound (gauntlet.similarity) only skips pairs the full ratio would also reject: same answer on
    near-copies, reworded copies, unrelated text and edge cases."""
    import random
    from difflib import SequenceMatcher

    from gauntlet.graphs.protocols.rebuttals import ECHO_RATIO, echoes

    def full_ratio(reason: str, critique: str) -> bool:
        a, b = " ".join(reason.lower().split()), " ".join(critique.lower().split())
        if not a or not b:
            return False
        head = b[:len(a)] if len(a) < len(b) else b
        return SequenceMatcher(None, a, head, autojunk=False).ratio() >= ECHO_RATIO

    rng = random.Random(7)
    words = "the proposal assumes honest reporting but a deceptive model could game the probe overseer reward".split()
    pairs = [("", "x"), ("x", ""), ("Same  TEXT", "same text"), ("a", "a longer critique text")]
    for _ in range(3000):
        critique = " ".join(rng.choice(words) for _ in range(rng.randint(3, 25)))
        kind = rng.random()
        if kind < 0.3:  # a near-copy: a few words changed
            reason = " ".join(w if rng.random() > 0.15 else rng.choice(words) for w in critique.split())
        elif kind < 0.5:  # a prefix of it, with words dropped
            reason = " ".join(w for w in critique.split()[:rng.randint(1, 25)] if rng.random() > 0.1)
        else:
            reason = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
        pairs.append((reason.upper() if rng.random() < 0.1 else reason, critique))
    got = [echoes(r, c) for r, c in pairs]
    assert got == [full_ratio(r, c) for r, c in pairs]
    assert 100 < sum(got) < len(got) - 100  # both answers well represented


# schema narrowing ---------------------------------------------------------------------------------------
def test_schema_for_narrows_as_a_full_walk_does():
    """schema_for finds the named properties from paths found once per model; the result is what walking the
    whole schema (the way it was done per call before) gives, for every move model and field name."""
    import itertools

    import orjson
    from pydantic import BaseModel

    from gauntlet.agents import protocol_prompts, schemas
    from gauntlet.agents.schemas import _base_schema, schema_for

    def walked(model, enums, items):
        schema = orjson.loads(orjson.dumps(_base_schema(model)))

        def walk(node):
            if isinstance(node, dict):
                for name, prop in (node.get("properties") or {}).items():
                    if name in enums:
                        prop.clear()
                        prop.update({"type": "string", "enum": list(enums[name])})
                    if name in items and prop.get("type") == "array":
                        lo, hi = items[name]
                        cap = prop.get("maxItems", hi)
                        prop["minItems"], prop["maxItems"] = min(lo, cap), min(hi, cap)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(schema)
        return schema

    models = {m for mod in (schemas, protocol_prompts) for m in vars(mod).values()
              if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel}
    checked = 0
    for model in sorted(models, key=lambda m: m.__name__):
        names = sorted(schemas._property_paths(model))  # every property name the model has, at any depth
        for a, b in itertools.zip_longest(names, reversed(names)):
            enums = {a: ["x", "y"]} if a else {}
            items = {b: (1, 2)} if b else {}
            assert schema_for(model, enums=enums, items=items) == walked(model, enums, items), (model, a, b)
            checked += 1
    assert checked > 50
