"""Anchoring (exact, snapped, rejected), the re-ask, and unanchored comments that attack nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.schemas import CritiqueItem, critique_schema
from gauntlet.graphs.argument.anchors import locate, openings, spans, widen
from gauntlet.graphs.protocols import critique_moves, critiques
from gauntlet.graphs.protocols.state import DebateContext
from gauntlet.testing.synthetic_server import running_server

TEXT = ("Place the model in realistic situations where defecting looks safe and unobserved; a model that behaves "
        "identically whether or not it believes it is watched is unlikely to be deceptively aligned.")


def test_exact_anchor_ignores_case_and_whitespace_and_returns_the_targets_own_words():
    a = locate("A MODEL that behaves\n  identically", TEXT)
    assert a.match == "exact" and a.quote == "a model that behaves identically"
    assert TEXT[a.start:a.end] == a.quote


def test_near_miss_is_snapped_to_the_closest_real_span():
    a = locate("a model which behaves identically whether or not it believe it is watched", TEXT)
    assert a.match == "snapped" and a.ratio >= 0.8
    assert a.quote == "a model that behaves identically whether or not it believes it is watched"
    assert TEXT[a.start:a.end] == a.quote


@pytest.mark.parametrize("anchor", ["models can be trained to be honest about their goals", "model", ""])
def test_words_not_in_the_target_or_too_short_are_no_anchor(anchor):
    assert locate(anchor, TEXT).match == "none"


def test_spans_are_verbatim_pieces_of_the_text():
    pieces = spans(TEXT)
    assert len(pieces) >= 2 and all(locate(p, TEXT).match == "exact" for p in pieces)


def test_openings_name_their_spans_and_widen_back():
    """The anchor enum offers each span's opening words (a grammar-constrained critic copies ~5 tokens, not ~20);
    every opening is unique, a prefix of its span, and widens back to it; other quotes pass through unchanged."""
    pieces = spans(TEXT) + ["a model that behaves identically under audit", "a model that"]
    heads = openings(pieces)
    assert len(set(h.casefold() for h in heads)) == len(heads)
    for head, piece in zip(heads, pieces):
        assert piece.startswith(head) and len(head) >= 8 and widen(head, pieces) == piece
        assert widen(f'"{head.upper()}"', pieces) == piece  # quotes and case do not matter
    assert len(heads[0].split()) == 4  # no other piece starts with its first four words
    assert widen("looks safe and unobserved", pieces) == "looks safe and unobserved"


def test_a_critique_quoting_an_opening_is_anchored_on_the_whole_span():
    node = {"id": "seed-1", "kind": "idea", "text": TEXT}
    offered = critiques.quotable([node])["seed-1"]
    item = CritiqueItem(target="seed-1", kind="objection", anchor=offered[0], text="t")
    ((_, anchor, _),) = critiques.place([item], {"seed-1": node})
    assert anchor.match == "exact" and anchor.quote == spans(TEXT)[0] and len(anchor.quote) > len(offered[0])


def test_critique_schema_offers_each_target_only_its_own_spans():
    schema = critique_schema(["a", "b"], 2, {"a": ["alpha words here"], "b": ["beta words here"]})
    variants = schema["properties"]["critiques"]["items"]["anyOf"]
    assert [(v["properties"]["target"]["enum"], v["properties"]["anchor"]["enum"]) for v in variants] == [
        (["a"], ["alpha words here"]), (["b"], ["beta words here"])]


def test_only_a_formal_result_offers_the_formalisation_fields():
    """An idea's variant has no failed_check and no unfaithful_formalisation kind (the model filled them with noise,
    a dozen tokens an item); a formal result's keeps both, and the answers validate either way."""
    schema = critique_schema(["i1", "f1"], 2, {"i1": ["alpha words here"]}, formal={"f1"})
    idea, formal = schema["properties"]["critiques"]["items"]["anyOf"]
    assert "failed_check" not in idea["properties"] and "failed_check" not in idea["required"]
    kinds = idea["properties"]["kind"]["enum"] + idea["properties"]["flaw_type"]["enum"]
    assert "unfaithful_formalisation" not in kinds
    assert "failed_check" in formal["required"] and "unfaithful_formalisation" in formal["properties"]["kind"]["enum"]
    item = CritiqueItem.model_validate({"target": "i1", "kind": "objection", "anchor": "alpha words here",
                                        "flaw_type": "none", "severity": "minor", "text": "It is vague."})
    assert item.failed_check == ""


def _item(anchor: str, kind: str = "objection", target: str = "i1") -> CritiqueItem:
    return CritiqueItem(target=target, kind=kind, anchor=anchor, flaw_type="evaluator_fooled", severity="fatal",
                        text="A deceptive model can tell a test from deployment.")


def test_records_attack_only_when_anchored_and_supports_need_no_anchor():
    by_id = {"i1": {"id": "i1", "text": TEXT}}
    placed = critiques.place([_item("realistic situations where defecting looks safe"), _item("nothing like it at all"),
                              _item("", kind="support")], by_id)
    nodes, edges = critiques.critique_records(placed, "critic", 1, "c")
    assert [e["kind"] for e in edges] == ["attacks", "answers", "supports"]
    assert nodes[0]["data"]["anchor"] == "realistic situations where defecting looks safe"
    assert nodes[1]["data"]["unanchored"] and nodes[1]["data"]["anchor"] == ""
    assert critiques.misses(placed) == [1]


def _reply(anchor: str) -> str:
    return json.dumps({"critiques": [{"target": "seed-1", "kind": "objection", "anchor": anchor,
                                      "flaw_type": "deceptive_alignment", "severity": "fatal", "failed_check": "",
                                      "text": "A deceptive model behaves well exactly when it suspects a test."}]})


def _ask(demo, script: list[str]) -> dict:
    """critique_moves.ask_critiques against a real HTTP server whose replies are scripted (it ignores the schema)."""
    target = {"id": "seed-1", "kind": "idea", "persona": "seed", "round": 1, "title": "Honeypots", "text": TEXT,
              "data": {}}

    async def go() -> dict:
        with running_server(script=script) as url:
            llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
            try:
                ctx = DebateContext(run_id="t", config=demo.config, personas=dict(demo.personas), llm=llm)
                msgs = [{"role": "user", "content": "critique seed-1"}]
                return await critique_moves.ask_critiques(ctx, "security-engineer", "critique", 1, msgs, [target],
                                                          1, "c")
            finally:
                await llm.aclose()
    return asyncio.run(go())


def test_a_missed_anchor_is_reasked_once_and_kept_when_the_second_answer_quotes(demo):
    out = _ask(demo, [_reply("honeypots prove alignment"), _reply("unlikely to be deceptively aligned")])
    assert len(out["calls"]) == 2 and out["calls"][1]["key"].endswith("/reanchor")
    assert "not verbatim" in out["calls"][1]["messages"][-1]["content"]
    (node,), (edge,) = out["nodes"], out["edges"]
    assert edge["kind"] == "attacks" and node["data"]["reasked"] and node["data"]["anchor_match"] == "exact"


def test_a_critique_that_misses_twice_is_an_unanchored_comment_that_attacks_nothing(demo):
    out = _ask(demo, [_reply("honeypots prove alignment"), _reply("still not a quote of anything")])
    (node,), (edge,) = out["nodes"], out["edges"]
    assert edge["kind"] == "answers" and node["data"]["unanchored"] and len(out["calls"]) == 2


def test_a_snapped_anchor_needs_no_reask(demo):
    out = _ask(demo, [_reply("a model which behaves identically whether or not it believe it is watched")])
    (node,), (edge,) = out["nodes"], out["edges"]
    assert len(out["calls"]) == 1 and edge["kind"] == "attacks" and node["data"]["anchor_match"] == "snapped"
    assert node["data"]["anchor_given"].startswith("a model which")


def test_unfaithful_formalisation_names_the_check_it_believes_failed_and_others_name_none():
    by_id = {"f1": {"id": "f1", "kind": "formal_result", "text": "z3 refuted: for all x, x*x >= x"}}
    items = [CritiqueItem(target="f1", kind="unfaithful_formalisation", anchor="for all x, x*x >= x",
                          flaw_type="none", severity="major", failed_check="symbol_table", text="x ranges over reals."),
             CritiqueItem(target="f1", kind="objection", anchor="for all x, x*x >= x", flaw_type="counterexample",
                          severity="major", failed_check="vacuity", text="x = 0.5 breaks it.")]
    nodes, _ = critiques.critique_records(critiques.place(items, by_id), "critic", 1, "c")
    assert nodes[0]["data"]["failed_check"] == "symbol_table"
    assert nodes[0]["data"]["flaw_type"] == "unfaithful_formalisation"  # implied by the kind when none is named
    assert nodes[1]["data"]["failed_check"] == ""


def test_unfaithful_formalisation_of_something_not_formal_is_a_plain_objection():
    by_id = {"i1": {"id": "i1", "kind": "idea", "text": TEXT}}
    item = CritiqueItem(target="i1", kind="unfaithful_formalisation", anchor="realistic situations",
                        flaw_type="does_not_scale", severity="major", failed_check="symbol_table", text="t")
    ((placed, _, _),) = critiques.place([item], by_id)
    assert placed.kind == "objection" and placed.failed_check == ""


def test_every_quotable_span_fits_the_critique_anchor_field():
    """The critique schema offers a target's spans as the anchor's enum; a span the grammar lets the model pick
    must also validate, or the critic's call fails as a schema violation (it did with a 160-character bound)."""
    import inspect

    from gauntlet.agents.schemas import CritiqueItem
    from gauntlet.graphs.argument.anchors import spans

    longest = inspect.signature(spans).parameters["max_chars"].default
    text = " ".join(["word"] * 200) + "."  # one sentence far longer than any span
    offered = spans(text)
    assert offered and max(len(s) for s in offered) <= longest
    for s in offered:
        CritiqueItem(target="t", kind="objection", anchor=s, text="Two sentences.")
    limit = next(m.max_length for m in CritiqueItem.model_fields["anchor"].metadata if hasattr(m, "max_length"))
    assert limit >= longest


def test_only_a_formal_target_brings_the_formalisation_wording_into_the_prompt():
    """An idea cannot be attacked as unfaithful_formalisation (its schema variant drops that kind and failed_check),
    so a critic of ideas is not told about them (~60 prompt tokens a critic)."""
    from gauntlet.agents.persona import Persona
    from gauntlet.agents.prompts import critique_messages
    ada = Persona(name="ada", discipline="logic", worldview="Proofs or it did not happen.")
    ideas = critique_messages(ada, "safety", "[I1] an idea", ["I1"], 1, assigned=["I1"])[-1]["content"]
    formal = critique_messages(ada, "safety", "[F1] a formal result", ["F1"], 1, formal=True)[-1]["content"]
    assert "unfaithful_formalisation" not in ideas and "failed_check" not in ideas
    assert "unfaithful_formalisation" in formal and "failed_check" in formal
    assert ideas.startswith("Topic: safety") and "choose kind (objection" in ideas
