"""Prompt building, as pure functions. Layout is prefix-cache friendly: the shared rules and the persona card
come first (identical across a persona's calls), the debate context and the task last."""

from __future__ import annotations

from typing import Any, Iterable

from gauntlet.agents.llm import Message
from gauntlet.agents.persona import Persona
from gauntlet.agents.schemas import FLAW_TYPES, FORMAL_CHECKS

RULES = (
    "You are one member of a panel of researcher clones stress-testing AI-alignment proposals. "
    "Argue in character, be concrete and brief, and never invent citations. "
    "Shoot down ideas that are clearly bad; support ideas that survive scrutiny. "
    "Answer only with JSON matching the requested schema, in English."
)


def persona_card(p: Persona) -> str:
    lines = [f"You are {p.label}, a {p.discipline} researcher.", f"Worldview: {p.worldview}"]
    if p.research_style:
        lines.append(f"Research style: {p.research_style}")
    if p.vocabulary:
        lines.append("You think in terms of: " + ", ".join(p.vocabulary) + ".")
    if p.typical_objections:
        lines.append("Objections you often raise: " + "; ".join(p.typical_objections) + ".")
    if p.would_change_mind:
        lines.append(f"What would change your mind: {p.would_change_mind}")
    if p.temperament:
        lines.append(f"Temperament: {p.temperament}")
    return "\n".join(lines)


def system_message(p: Persona) -> Message:
    return {"role": "system", "content": RULES + "\n\n" + persona_card(p)}


def describe_nodes(nodes: Iterable[dict], *, limit_chars: int = 2400) -> str:
    """The debate so far as compact lines `[id] (kind by persona) title: text`, newest last, within a budget."""
    lines = []
    for n in nodes:
        head = f"[{n['id']}] ({n['kind']} by {n.get('persona') or 'user'})"
        body = (n.get("title") + ": " if n.get("title") else "") + n.get("text", "")
        lines.append(f"{head} {body}".strip())
    text = "\n".join(lines)
    if len(text) > limit_chars:  # keep the newest context; drop from the front
        text = "…\n" + text[-limit_chars:]
    return text


def propose_messages(p: Persona, topic: str, context: str) -> list[Message]:
    task = (f"Topic: {topic}\n\n"
            + (f"Ideas already on the table:\n{context}\n\n" if context else "")
            + "Propose ONE new, concrete research idea on this topic from your perspective. Give a short title, "
              "a one-sentence claim, a brief rationale, and up to two precise mathematical claims it relies on "
              "(e.g. inequalities or bounds), or none. For each, give kind `theorem` only if it follows from "
              "definitions and numbers (a bound, an inequality, a probability computation), `empirical` for a "
              "measurement, forecast or trend; and list the quantities it is about (e.g. \"detection "
              "probability p\", \"number of honeypots n\").")
    return [system_message(p), {"role": "user", "content": task}]


def flaw_taxonomy(formal: bool = True) -> str:
    """The flaw types with what each means; without `formal`, no unfaithful_formalisation (only a formal result
    can have that flaw, and its schema variant is the only one that offers it)."""
    return "; ".join(f"{k} ({v})" for k, v in FLAW_TYPES.items() if formal or k != "unfaithful_formalisation")


def critique_guide(formal: bool = False) -> str:
    """What each critique gives, after "For each, ". `formal`: the targets include a formal result, which alone can
    be attacked as unfaithful_formalisation (an idea's schema variant offers neither that kind nor failed_check,
    so describing them to a critic of ideas only costs ~60 prompt tokens)."""
    kinds = ("objection, counterexample, missing_assumption, "
             + ("unfaithful_formalisation for a formal result whose formal text does not match its claim, " if formal
                else "")
             + "or support if it is sound")
    return (f"choose kind ({kinds}). "
            "anchor: copy, word for word, the exact words of the target you attack (a phrase, not the whole text). "
            f"flaw_type, one of: {flaw_taxonomy(formal)}. severity: fatal (the idea cannot work), major (it fails "
            "unless fixed) or minor (worth revising). "
            + (f"For unfaithful_formalisation, failed_check names the check you believe failed "
               f"({', '.join(FORMAL_CHECKS)}); otherwise leave it empty. " if formal else "")
            + "In text, say in two sentences why the quoted words are wrong (or right), in your own words about "
              "this item, not a stock objection.")


def critique_messages(p: Persona, topic: str, context: str, targets: list[str], max_items: int,
                      assigned: list[str] | None = None, formal: bool = False) -> list[Message]:
    """`assigned`: the ideas the protocol allocated to this critic, each of which must get its own critique (the
    order the context lists them in is shuffled per call by the caller, so position does not decide attention).

    The guide stays in the task, after the debate: moved into a system prefix shared by all critics (~340 tokens
    read once a round instead of once per critic, ~10 s of the demo), it sat ~500 tokens before the answer, and
    on the panel eval the critics chose `support` more often (35-37 attacks to rule on its 22 cases against 47)
    and found fewer flaws (BENCHMARKS.md, 2026-12-07, "Cheaper critiques")."""
    if assigned:
        others = [t for t in targets if t not in assigned]
        scope = (f"You were assigned these ideas: {', '.join(assigned)}. Write one critique for EACH of them, naming "
                 "its id as target"
                 + (f"; you may also critique {', '.join(others)}" if others and max_items > len(assigned) else "")
                 + ". For each, ")
    else:
        scope = f"Critique up to {max_items} of these items: {', '.join(targets)}. For each, name its id as target, "
    task = f"Topic: {topic}\n\nThe debate so far:\n{context}\n\n" + scope + critique_guide(formal)
    return [system_message(p), {"role": "user", "content": task}]


def reanchor_messages(first: list[Message], answer: str, misses: list[tuple[str, str, str]]) -> list[Message]:
    """The one re-ask for critiques whose anchor is not in their target: (target id, bad anchor, target text)."""
    lines = "\n".join(f"- {t}: your anchor \"{a}\" is not in its text: \"{text}\"" for t, a, text in misses)
    task = ("These anchors are not verbatim quotes of their targets:\n" + lines + "\nGive each of these "
            "critiques again, with anchor copied exactly from the target's text.")
    return first + [{"role": "assistant", "content": answer}, {"role": "user", "content": task}]


JUROR_RULES = ("You are an independent juror on a panel stress-testing AI-alignment proposals. You judge whether "
               "a critique is right about the proposal as it is written. Answer with one word.")
CONTENT_FREE = "N/A"


def severity_question(target: str, critique: str, anchor: str, answers: tuple[str, str], *, topic: str = "",
                      persona: Persona | None = None) -> list[Message]:
    """The scored severity question on a sustained critique: does the proposal fail unless it is changed (fatal or
    major), or is this a weakness worth revising (minor)? One message per part, the answer order alone in the last,
    so prefix caching reads the proposal once and the second order as a few tokens."""
    system = JUROR_RULES + ("\n\n" + persona_card(persona) if persona is not None else "")
    return [{"role": "system", "content": system},
            {"role": "user", "content": (f"Topic: {topic}\n\n" if topic else "") + f"The proposal:\n{target}"},
            {"role": "user", "content": f"A critique of it, attacking the words \"{anchor}\":\n{critique}\n\n"
                                        "Suppose the critique is right. Does the proposal then fail at its own "
                                        "goal unless it is changed, rather than merely needing a revision?"},
            {"role": "user", "content": f"Answer {answers[0]} or {answers[1]}."}]


def match_question(p: Persona, topic: str, a: str, b: str, case_a: str, case_b: str) -> list[Message]:
    """The scored tournament question: which of two blind ideas (A, B) is the better research bet after both
    advocates' arguments? Read from P(A) and P(B), asked in both orders by the caller."""
    task = (f"Topic: {topic}\n\nTwo ideas meet in a tournament match.\n{a}\nIts advocate: {case_a}\n\n{b}\n"
            f"Its advocate: {case_b}\n\nAs judge: which idea is the better research bet after both arguments?")
    return [system_message(p), {"role": "user", "content": task}, {"role": "user", "content": "Answer A or B."}]


def severity_question_content_free(answers: tuple[str, str], *, topic: str = "",
                                   persona: Persona | None = None) -> list[Message]:
    return severity_question(CONTENT_FREE, CONTENT_FREE, CONTENT_FREE, answers, topic=topic, persona=persona)


def flaw_match_messages(flaw: str, critique: str) -> list[Message]:
    task = (f"Known flaw: {flaw}\n\nCritique: {critique}\n\nDoes the critique state this flaw (the same "
            "objection, possibly in other words)? Answer states_flaw true or false, and quote the critique's "
            "words that are your evidence.")
    return [{"role": "system", "content": "You compare objections precisely. Answer only with JSON."},
            {"role": "user", "content": task}]


def rebuttal_messages(p: Persona, topic: str, context: str, targets: list[str]) -> list[Message]:
    task = (f"Topic: {topic}\n\nYour ideas were attacked:\n{context}\n\n"
            f"Answer each critique ({', '.join(targets)}), naming it as target: concede if it is right, revise "
            "your idea (give revised_title and revised_claim) if it can be fixed, or counter if the critique is "
            "wrong. Your text must agree with your action: a concession says why the critique is right, a "
            "counter why it is wrong. Leave revised_title and revised_claim empty unless you revise.")
    return [system_message(p), {"role": "user", "content": task}]


JUDGE_RUBRIC = (
    "Score each idea from 1 to 10 on this rubric: (a) soundness: does its central claim survive the critiques "
    "it received, or did they expose a real flaw? (b) substance: is it concrete enough to act on or test? "
    "(c) relevance: does it address the topic's core difficulty rather than an easier problem? "
    "1-3: a flaw it cannot answer; 4-6: promising but with open problems; 7-10: sound, concrete and on target. "
    "An idea marked UNEXAMINED has not been tested by the panel: do not reward it for having no critiques. "
    "Judge the ideas, not their order or their authors (authors are hidden)."
)


def judge_messages(p: Persona, topic: str, context: str, targets: list[str]) -> list[Message]:
    """A blind judgement: `context` shows ideas by neutral labels (`targets`) in a shuffled order, no author names."""
    task = (f"Topic: {topic}\n\nThe ideas and what the panel found (in no particular order):\n{context}\n\n"
            f"As judge, score every idea ({', '.join(targets)}). {JUDGE_RUBRIC} Give each a one-sentence reason "
            "that names what decided its score.")
    return [system_message(p), {"role": "user", "content": task}]


def with_passages(messages: list[Message], passages: Iterable[Any]) -> list[Message]:
    """The persona's retrieved passages put before the task (after the cacheable system prefix)."""
    shown = [f"[S{i}] ({p.source}) {p.text}" for i, p in enumerate(passages, 1)]
    if not shown:
        return messages
    head = ("Passages from your own writings; draw on them where they bear on the task, and never attribute "
            "anything else to them:\n" + "\n".join(shown) + "\n\n")
    return messages[:-1] + [{"role": messages[-1]["role"], "content": head + messages[-1]["content"]}]


def with_stances(messages: list[Message], stances: Iterable[Any]) -> list[Message]:
    """A clone's own stated positions (`Stance`s, relevant ones first) put before the task with their quotes,
    labelled [P1].. so its answer can cite them (see gauntlet.agents.stances)."""
    shown = [f"[P{i}] You {s.stance} that: {s.claim} (you wrote: \"{s.quote}\", {s.source})"
             for i, s in enumerate(stances, 1)]
    if not shown:
        return messages
    head = ("Positions you have stated in your own writings; stay consistent with them, and cite the label "
            "(e.g. [P1]) where one bears on your answer:\n" + "\n".join(shown) + "\n\n")
    return messages[:-1] + [{"role": messages[-1]["role"], "content": head + messages[-1]["content"]}]


def tidy(text: str, max_len: int) -> str:
    """Model text cut at its length limit ends mid-word; end it at the last whole word instead."""
    text = " ".join(text.split())
    if len(text) >= max_len - 1 and text[-1].isalnum() and " " in text[-30:]:
        cut = text.rsplit(" ", 1)[0]
        return cut.rstrip(",;:") + "…"
    return text
