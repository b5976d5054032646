"""A tournament match decided by score: P(A) against P(B) read from the judge's answer probabilities, in both orders.

The judge sees the two ideas blind (labels A and B, names scrubbed) with their advocates' arguments, and is asked
which is the better research bet; no answer or reason is generated. The match is asked twice, the ideas swapped.
Each order's margin log P(A) - log P(B) carries the judge's position bias with the same sign for whichever idea
is shown first, so half the difference of the two margins is the first idea's advantage with that bias removed.
It goes through the judge model's `match` calibration (the shipped default when there is none, noted): a winner
only when its probability reaches the threshold, otherwise the match is a tie, as a disagreement between the two
orders was before.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from gauntlet.agents.calibration import calibration_for
from gauntlet.agents.llm import ChoiceScores
from gauntlet.agents.routing import for_persona
from gauntlet.agents.scoring import order_margin
from gauntlet.graphs.protocols.state import Call, DebateContext, Node
from gauntlet.graphs.protocols.toolkit import call_seed
from gauntlet.payloads import LLMCallPayload

LABELS = ("first", "second")  # the idea shown as A in the first order wins / the other one does


def advantage(first_order: ChoiceScores, swapped: ChoiceScores) -> float:
    """The first idea's margin, position bias removed: it is A in `first_order` and B in `swapped`."""
    return (order_margin(first_order, "A", "B") - order_margin(swapped, "A", "B")) / 2


async def decide(ctx: DebateContext, judge: str, rnd: int, i: int, a: Node, b: Node,
                 build: Callable[[Node, Node], list[Any]]) -> tuple[str | None, dict[str, Any], Call]:
    """(the winner's id or None for a tie, the decision record for the judgement node, the call record).
    `build(first, second)` returns the blind match question with `first` shown as A."""
    key = f"r{rnd}/judge/{judge}/m{i}"
    llm = for_persona(ctx.llm, judge)
    seed = call_seed(ctx.config.seed, key)
    passes = []
    for first, second in ((a, b), (b, a)):
        ctx.budget.reserve_call()
        passes.append(await llm.score(build(first, second), ["A", "B"], seed=seed))
    ctx.budget.record(sum(p.prompt_tokens for p in passes))
    margin = advantage(passes[0], passes[1])
    model = next((p.model for p in passes if p.model), llm.name)
    cal, note = calibration_for(model, "match", LABELS, features=("margin",))
    decision = cal.decide({"margin": margin}, scored=all(p.scored for p in passes), note=note)
    winner = None
    if decision.accepted:
        winner = a["id"] if decision.label == "first" else b["id"]
    record = {"p_a": round(decision.p, 4), "margin": round(margin, 4), "threshold": decision.threshold,
              "calibration": decision.calibration, "accepted": decision.accepted, "scored": decision.scored,
              **({"note": decision.note} if decision.note else {})}
    call = LLMCallPayload(key=key, persona=judge, phase="judge", round=rnd, messages=build(a, b),
                          response=f"P({a['id']} better) = {decision.p:.3f}", model=model,
                          prompt_tokens=sum(p.prompt_tokens for p in passes), completion_tokens=0,
                          latency_s=round(sum(p.latency_s for p in passes), 4)).model_dump(exclude_unset=True)
    call.update({"scored": decision.scored,
                 "passes": [{k: (round(v, 4) if math.isfinite(v) else None) for k, v in p.logprobs.items()}
                            for p in passes]})
    return winner, record, call
