"""Several endpoints routed per persona: config validation and a real debate against two real servers."""

from __future__ import annotations

import asyncio
import json

import pytest

from gauntlet.agents.routing import RoutedLLM, persona_endpoints
from gauntlet.testing.synthetic_server import running_server
from gauntlet.graphs.run.loading import parse_config
from gauntlet.errors import InputError
from gauntlet.graphs.run.runner import Runner

PANEL = "panel: {proposers: [ml-empiricist], critics: [security-engineer, mechanism-designer], " \
        "judge: philosopher-of-science}\n"


def routed(default_url: str, strong_url: str) -> str:
    return (f"topic: t\nseed: 3\n{PANEL}"
            f"model: {{backend: openai, base_url: '{default_url}', name: cheap, max_retries: 1}}\n"
            f"endpoints:\n  strong: {{backend: openai, base_url: '{strong_url}', name: strong}}\n"
            "routes: {judge: strong, mechanism-designer: strong}\n")


def test_routes_map_roles_and_personas_and_a_persona_beats_its_role():
    cfg = parse_config(f"topic: t\n{PANEL}endpoints: {{a: {{}}, b: {{}}}}\n"
                       "routes: {critics: a, security-engineer: b}\n").config
    got = persona_endpoints(cfg)
    assert got == {"security-engineer": "b", "mechanism-designer": "a"}


@pytest.mark.parametrize("routes, message", [("{judge: nowhere}", "not under endpoints"),
                                             ("{somebody: a}", "neither a panel persona")])
def test_bad_routes_are_one_line_errors(routes, message):
    with pytest.raises(InputError, match=message) as exc:
        parse_config(f"topic: t\n{PANEL}endpoints: {{a: {{}}}}\nroutes: {routes}\n")
    assert "\n" not in exc.value.one_line()


def test_a_debate_sends_each_persona_to_its_endpoint(store):
    with running_server() as cheap, running_server() as strong:
        loaded = parse_config(routed(cheap, strong))
        run_id = asyncio.run(Runner(store).start(loaded))
    calls = [json.loads(e.payload) for e in store.events(run_id, kinds=("llm_call",))]
    by_persona = {c["persona"]: c["model"] for c in calls}
    assert by_persona["philosopher-of-science"] == "strong"
    assert by_persona["mechanism-designer"] == "strong"
    assert by_persona["security-engineer"] == "cheap"
    assert by_persona["ml-empiricist"] == "cheap"


def test_routed_llm_closes_every_backend(synthetic_url):
    from gauntlet.agents.openai_backend import OpenAIBackend

    a, b = OpenAIBackend(synthetic_url, "a"), OpenAIBackend(synthetic_url, "b")
    llm = RoutedLLM(a, {"x": b}, {"p": "x"})
    assert llm.for_persona("p") is b and llm.for_persona("q") is a
    asyncio.run(llm.aclose())
    assert a._client.is_closed and b._client.is_closed
