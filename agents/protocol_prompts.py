"""Prompts and output schemas of the tournament, deconfusion and red-team protocols, as pure functions.

Same layout as agents/prompts.py (rules and persona card first, the debate and the task last) so a persona's
calls share a cacheable prefix whichever protocol runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gauntlet.agents.llm import Message
from gauntlet.agents.persona import Persona
from gauntlet.agents.prompts import flaw_taxonomy, system_message
from gauntlet.agents.schemas import FlawType, MoveModel, anchored_variants, schema_for

# A match argument and a toy case attack like any critique, so they quote the words they attack and name
# the flaw and its severity; jurors then rule on them, and only sustained fatal/major ones defeat.
_ANCHOR_TASK = ("Copy into anchor, word for word, the words of {what} you attack; name flaw_type, one of: {flaws}; "
                "and severity: fatal (it cannot work), major (it fails unless fixed) or minor (worth revising).")


# --- tournament ---------------------------------------------------------------------------------------------
class MatchArgument(MoveModel):
    # Field order is generation order: the rival's words, the verdict on them, then the case.
    anchor: str = Field(default="", max_length=240)
    flaw_type: FlawType = "none"
    severity: Literal["fatal", "major", "minor"] = "major"
    text: str = Field(max_length=360)


class MatchDecision(MoveModel):
    winner: str
    reason: str = Field(default="", max_length=240)


def match_argument_schema(rival_spans: list[str] | None = None) -> dict[str, Any]:
    """With the rival's quotable spans, anchor is an enum of them (a grammar-constrained model quotes real words)."""
    return schema_for(MatchArgument, enums={"anchor": rival_spans} if rival_spans else None)


def match_decision_schema(ids: list[str]) -> dict[str, Any]:
    return schema_for(MatchDecision, enums={"winner": ids})


def match_argument_messages(p: Persona, topic: str, mine: str, theirs: str, grounding: str = "") -> list[Message]:
    task = (f"Topic: {topic}\n\n{grounding}Your idea:\n{mine}\n\nThe rival idea:\n{theirs}\n\n"
            "In a head-to-head match, argue in at most three sentences why your idea is the better research bet "
            "and name the rival's most serious weakness. "
            + _ANCHOR_TASK.format(what="the rival idea", flaws=flaw_taxonomy()))
    return [system_message(p), {"role": "user", "content": task}]


def match_decision_messages(p: Persona, topic: str, a: str, b: str, case_a: str, case_b: str) -> list[Message]:
    task = (f"Topic: {topic}\n\nTwo ideas meet in a tournament match.\n{a}\nIts advocate: {case_a}\n\n{b}\n"
            f"Its advocate: {case_b}\n\nAs judge, pick the winner (the better research bet after both arguments) "
            "by its id, with a one-sentence reason.")
    return [system_message(p), {"role": "user", "content": task}]


# --- deconfusion ----------------------------------------------------------------------------------------------
class Intuition(MoveModel):
    title: str = Field(max_length=90)
    intuition: str = Field(max_length=320)


class ToyCase(MoveModel):
    target: str
    verdict: Literal["undermines", "supports"]
    anchor: str = Field(default="", max_length=240)
    flaw_type: FlawType = "counterexample"
    severity: Literal["fatal", "major", "minor"] = "major"
    case: str = Field(max_length=420)


def intuition_schema() -> dict[str, Any]:
    return schema_for(Intuition)


def toy_case_schema(ids: list[str], spans: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """With spans (intuition id → its quotable spans), one variant per intuition whose anchor quotes only it."""
    schema = schema_for(ToyCase, enums={"target": ids})
    return anchored_variants(schema, ids, spans) if spans else schema


def intuition_messages(p: Persona, topic: str, rival: str = "") -> list[Message]:
    if rival:
        task = (f"Topic: {topic}\n\nAnother panellist holds this intuition:\n{rival}\n\nState YOUR intuition on "
                "the topic where it is most in tension with theirs: a short title and one sharp sentence you "
                "believe and they would deny.")
    else:
        task = (f"Topic: {topic}\n\nState the intuition about this topic you hold most firmly and others most "
                "often deny: a short title and one sharp sentence.")
    return [system_message(p), {"role": "user", "content": task}]


def toy_case_messages(p: Persona, topic: str, tension: str, ids: list[str], earlier: str = "") -> list[Message]:
    task = (f"Topic: {topic}\n\nTwo intuitions are in tension:\n{tension}\n\n"
            + (f"Toy cases so far:\n{earlier}\n\n" if earlier else "")
            + f"Build ONE new concrete toy case (a small, fully specified scenario, model or example) that bears on "
              f"them. Name the intuition it bears on ({', '.join(ids)}) as target and say whether the case "
              "undermines or supports it. If it undermines it, "
            + _ANCHOR_TASK.format(what="that intuition", flaws=flaw_taxonomy()))
    return [system_message(p), {"role": "user", "content": task}]


def hold_messages(p: Persona, topic: str, mine: str, cases: str, ids: list[str]) -> list[Message]:
    task = (f"Topic: {topic}\n\nYour intuition:\n{mine}\n\nToy cases built against it:\n{cases}\n\n"
            f"For each case ({', '.join(ids)}): concede if it really breaks your intuition (you give way), "
            "revise to a weaker intuition that survives it (give revised_title and revised_claim), or counter "
            "if the case does not show what it claims. Leave revised_title and revised_claim empty unless you "
            "revise.")
    return [system_message(p), {"role": "user", "content": task}]


# --- red team -------------------------------------------------------------------------------------------------
def red_team_messages(p: Persona, topic: str, context: str, targets: list[str], max_items: int) -> list[Message]:
    task = (f"Topic: {topic}\n\nYou are on a red team. The items still standing:\n{context}\n\n"
            f"Find the fastest way to shoot down these items ({', '.join(targets)}): one attack on EACH of them "
            f"({max_items} in all), each the single cheapest decisive objection, counterexample or missing "
            "assumption you can see. "
            "Name the item's id as target, copy into anchor the exact words of it you attack, name flaw_type "
            "and severity (fatal, major or minor), and say in two sentences why it fails. Use kind support only "
            "if you truly cannot break it.")
    return [system_message(p), {"role": "user", "content": task}]


def defence_messages(p: Persona, topic: str, context: str, targets: list[str]) -> list[Message]:
    task = (f"Topic: {topic}\n\nYou defend these ideas alone against a red team. The attacks:\n{context}\n\n"
            f"Answer each attack ({', '.join(targets)}): counter it if it is wrong, revise the idea if it can be "
            "fixed (give revised_title and revised_claim), or concede if it is right. Leave revised_title and "
            "revised_claim empty unless you revise.")
    return [system_message(p), {"role": "user", "content": task}]


# --- the failure-mode library in a critique -------------------------------------------------------------------
def with_library(messages: list[Message], shown: list[Any]) -> list[Message]:
    """Known failure modes that a scored check found applicable to the critic's ideas, put before the task with
    labels [L1].. (see graphs/protocols/library_grounding.py). Each shows when it does NOT apply, so the critic
    does not raise an objection the idea already answers; objections of the critic's own stay welcome."""
    # One line per entry, naming each (label, target) it was found for: an entry found for two ideas is written
    # out once (~110 tokens saved a repeat in the demo's critic prompts).
    by_entry: dict[str, list[Any]] = {}
    for s in shown:
        by_entry.setdefault(s.entry.id, []).append(s)
    lines = [", ".join(f"[{s.label}] for {s.target}" for s in group) + f": {e.name} ({e.severity}). {e.statement} "
             f"It does NOT apply when: {e.does_not_apply_when}"
             for group in by_entry.values() for e in [group[0].entry]]
    if not lines:
        return messages
    head = ("Known failure modes from the literature that a check found may apply to these ideas. Use one where "
            "it fits the idea's own words: quote those words as the anchor, name the failure mode and cite its "
            "label (e.g. [L1]) in your text. Do not raise one whose 'does NOT apply' condition the idea already "
            "meets. You may also raise objections of your own.\n" + "\n".join(lines) + "\n\n")
    return messages[:-1] + [{"role": messages[-1]["role"], "content": head + messages[-1]["content"]}]
