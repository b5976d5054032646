"""A juror's vote read from the answer probabilities, not from a verdict it writes.

Each juror is asked, per anchored critique, the short scored questions of agents/juror_questions.py (the proposal,
then the critique with its anchor and the author's replies and revisions, then one yes/no question each), in both
answer orders beside the content-free input. The questions' debiased margins and the MiniLM text features
(agents/juror_features.py) go through the juror model's calibration (agents/calibration.py), the very features
`gauntlet eval rulings` fitted it on: the overall question is asked first (its answer names the model), then only
the questions the calibration weighs. A calibration fitted with a linear probe (agents/probe.py) reads the juror
model's hidden state at the overall question's prompt, which the context still holds. A calibration whose features
this vote cannot compute (MiniLM missing, a question no longer asked, a probe on a backend without hidden states)
gives way to the shipped default, and the vote says so. The vote is `p_sustained` with
the threshold and calibration id; below the threshold it is an abstention that still shows p. No reason is
generated: a small model's reasons restated the critique or contradicted its own vote.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from gauntlet.agents import juror_questions, prompts
from gauntlet.agents.calibration import Scorer, usable
from gauntlet.agents.juror_features import TEXT_FEATURES, minilm_features
from gauntlet.agents.llm import LLMError, reads_hidden_states
from gauntlet.agents.probe import PROBE_FEATURE, read_probe
from gauntlet.agents.routing import for_persona
from gauntlet.graphs.protocols.state import Call, DebateContext, Node
from gauntlet.graphs.protocols.toolkit import call_seed
from gauntlet.payloads import LLMCallPayload

LABELS = ("sustained", "overruled")
SEVERITY_LABELS = ("serious", "minor")  # serious: the critic's fatal or major stands; minor: a revision request
FIRST = "margin"  # the overall question, asked first by every vote
# Text features per (proposal, critique, anchor, reply): each juror of a critique reuses them; bounded.
_TEXT: dict[tuple[str, str, str, str], dict[str, float] | None] = {}
_TEXT_MAX = 1024


def new_scorer() -> Scorer:
    return Scorer("rulings", LABELS)


def severity_scorer() -> Scorer:
    return Scorer("severity", SEVERITY_LABELS)


def reply_text(answers: list[Node], revisions: list[Node]) -> str:
    """What the author answered: each rebuttal with its action, and the revisions that claim to fix the critique."""
    parts = [f"({r['data'].get('action')}) {r['text']}" for r in answers]
    parts += [f"(revised to) {r['title'] + ': ' if r['title'] else ''}{r['text']}" for r in revisions]
    return " ".join(parts)


def target_text(t: Node) -> str:
    return f"{t['title'] + ': ' if t['title'] else ''}{t['text']}"


async def text_features(proposal: str, critique: str, anchor: str, reply: str) -> dict[str, float] | None:
    """The MiniLM text features of one critique (None when MiniLM is not installed), computed once per critique."""
    key = (proposal, critique, anchor, reply)
    if key not in _TEXT:
        rows = await asyncio.to_thread(minilm_features, [key])
        while len(_TEXT) >= _TEXT_MAX:
            _TEXT.pop(next(iter(_TEXT)))
        _TEXT[key] = rows[0] if rows else None
    return _TEXT[key]


async def vote(ctx: DebateContext, scorer: Scorer, juror: str, rnd: int, target: Node, critique: Node,
               reply: str, tag: str = "") -> tuple[dict[str, Any], Call]:
    """One juror's scored vote on one critique, and the call record of its passes; the features the calibration
    weighs are computed here (the text features once per critique, shared by its jurors)."""
    anchor = critique["data"].get("anchor", "")
    proposal = target_text(target)
    # The juror reads the critique as the calibration was fitted on it: its text alone. A library critique's
    # escape condition ("does not apply when ...") appended here moved the probe toward `sustained` on decoys
    # (24 rulings calibration items, nearest entry's condition appended: overruled items' mean probe -1.42 ->
    # -0.29, one wrong accepted vote where there was none); the library check weighs that condition instead.
    said = critique["text"]

    key = f"r{rnd}/rule/{juror}/{tag or critique['id']}"
    seed = call_seed(ctx.config.seed, key)
    llm = for_persona(ctx.llm, juror)

    async def ask(questions: list[str]) -> tuple[dict[str, float], bool, dict[str, Any]]:
        for _ in range(len(questions) * len(scorer.orders())):
            ctx.budget.reserve_call()
        return await juror_questions.read(llm, scorer, proposal, said, anchor, reply, questions, seed)

    margins, scored, passes = await ask([FIRST])
    model = next((p.model for p in passes[FIRST] if p.model), llm.name)
    text = await text_features(proposal, critique["text"], anchor, reply)
    available = [*juror_questions.QUESTIONS, *(TEXT_FEATURES if text is not None else ()),
                 *((PROBE_FEATURE,) if reads_hidden_states(llm) else ())]
    cal, note = usable(*scorer.calibration(model), available)
    more = [q for q in juror_questions.asked(cal.features) if q != FIRST]
    if more:
        got, more_scored, more_passes = await ask(more)
        margins, scored, passes = {**margins, **got}, scored and more_scored, {**passes, **more_passes}
    values = {**(text or {}), **margins}
    if PROBE_FEATURE in cal.features:
        probe = cal.probe or {}
        try:
            values[PROBE_FEATURE], _ = await read_probe(llm, probe, juror_questions.messages(
                str(probe.get("question", FIRST)), proposal, said, anchor, reply, scorer.answers))
        except (LLMError, KeyError, ValueError) as exc:
            cal, note = usable(cal, note, [f for f in available if f != PROBE_FEATURE])
            note = f"{note} (the probe could not be read: {exc})"
    if not scored:
        note = (note + "; " if note else "") + "unscored: the backend gave no probabilities"
    decision = cal.decide(values, scored=scored, note=note)
    confidence = decision.p if decision.label == "sustained" else 1.0 - decision.p
    entry: dict[str, Any] = {"juror": juror, "vote": decision.label, "p_sustained": round(decision.p, 4),
                             "threshold": _finite(decision.threshold), "calibration": decision.calibration,
                             "accepted": decision.accepted, "scored": decision.scored,
                             "margin": round(margins[FIRST], 4),
                             "similarity": round((text or {}).get("similarity", 0.0), 4),
                             "features": {f: round(float(values.get(f, 0.0)), 4) for f in cal.features}}
    if decision.note:
        entry["note"] = decision.note
    if not decision.accepted:
        entry["abstained"] = (f"{decision.label} at confidence {confidence:.2f}, below the threshold "
                              f"{_shown(decision.threshold)}" if decision.scored else
                              "unscored: the backend gave no probabilities")
    every = [p for got in passes.values() for p in got]
    prompt_tokens = sum(p.prompt_tokens for p in every)
    ctx.budget.record(prompt_tokens)
    record = LLMCallPayload(key=key, persona=juror, phase="rule", round=rnd,
                            messages=juror_questions.messages(FIRST, proposal, said, anchor, reply, scorer.answers),
                            response=f"P(sustained) = {decision.p:.3f}", model=model, prompt_tokens=prompt_tokens,
                            completion_tokens=0, latency_s=round(sum(p.latency_s for p in every), 3))
    call = record.model_dump(exclude_unset=True)
    call.update({"scored": decision.scored, "critique": critique["id"], "questions": list(passes),
                 "passes": [{k: (round(v, 4) if math.isfinite(v) else None) for k, v in p.logprobs.items()}
                            for p in every]})
    return entry, call


def _finite(t: float | None) -> float | None:
    return None if t is None or not math.isfinite(t) else round(t, 4)


def _shown(t: float | None) -> str:
    return "(none: this label is never accepted)" if t is None else f"{t:.2f}"


def settled_severity(given: str | None, label: str, accepted: bool) -> str | None:
    """The critic's severity unless an accepted score contradicts it: a `minor` the juror scores serious becomes
    `major`; a fatal or major it scores minor becomes `minor`. An abstention keeps the critic's label."""
    if not accepted or given is None:
        return given
    if label == "serious":
        return "major" if given == "minor" else given
    return "minor"


async def severity(ctx: DebateContext, scorer: Scorer, juror: str, rnd: int, target: Node,
                   critique: Node) -> tuple[dict[str, Any], Call]:
    """The severity of a sustained critique, scored by one juror: (what the ruling records, the call record)."""
    persona = ctx.personas.get(juror)
    topic, anchor = ctx.config.topic, critique["data"].get("anchor", "")
    key = f"r{rnd}/rule/{juror}/{critique['id']}/severity"
    for _ in scorer.orders():
        ctx.budget.reserve_call()
    decision, how = await scorer.decide(
        for_persona(ctx.llm, juror),
        lambda order: prompts.severity_question(target_text(target), critique["text"], anchor, order, topic=topic,
                                                persona=persona),
        lambda order: prompts.severity_question_content_free(order, topic=topic, persona=persona),
        seed=call_seed(ctx.config.seed, key))
    ctx.budget.record(how["prompt_tokens"])
    given = critique["data"].get("severity")
    scored = {"juror": juror, "p_serious": round(decision.p, 4), "threshold": _finite(decision.threshold),
              "calibration": decision.calibration, "accepted": decision.accepted, "given": given,
              "severity": settled_severity(given, decision.label, decision.accepted)}
    record = LLMCallPayload(key=key, persona=juror, phase="rule", round=rnd,
                            messages=prompts.severity_question(target_text(target), critique["text"], anchor,
                                                               scorer.answers, topic=topic, persona=persona),
                            response=f"P(serious) = {decision.p:.3f}", model=how["model"],
                            prompt_tokens=how["prompt_tokens"], completion_tokens=0, latency_s=how["latency_s"])
    call = record.model_dump(exclude_unset=True)
    call.update({"scored": decision.scored, "passes": how["passes"], "critique": critique["id"],
                 "question": "severity"})
    return scored, call
