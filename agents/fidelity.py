"""How faithful is a clone? Held-out stances, after Park et al. 2024 ("Generative Agent Simulations of 1,000
People"): hide part of the corpus, draft the clone from the rest, and ask it to take a stance on each position
the author states in the hidden part. Agreement is compared with baselines (a card with the same discipline and
no corpus; a generic panelist; always answering the majority stance) and normalised by the clone's own
consistency across two seeds (the ceiling: a clone cannot agree with its author more reliably than with itself).

The parts: the split, the stances on each side, retrieval from the training side, one stance answer, the figures.
The eval that runs them case by case is graphs/evals/clone.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np

from gauntlet import metrics
from gauntlet.agents import prompts
from gauntlet.agents.corpus import Passage, chunk_text
from gauntlet.agents.corpus_files import CorpusFile, is_verbatim
from gauntlet.agents.llm import LLM, Message
from gauntlet.agents.metered import Meter
from gauntlet.agents.persona import Persona, Stance
from gauntlet.agents.schemas import MoveModel, schema_for
from gauntlet.agents.stances import nearest

GENERIC = Persona(name="generic-panelist", discipline="AI alignment",
                  worldview="A thoughtful alignment researcher with no particular school or agenda.")


class StanceAnswer(MoveModel):
    stance: Literal["agree", "disagree"]


@dataclass(frozen=True)
class Split:
    mode: str  # "file" or "passage"
    train: list[CorpusFile]
    held_out: list[CorpusFile]


def split(files: Sequence[CorpusFile], seed: int, *, min_files: int = 4) -> Split:
    """Hold out about a third of the corpus: whole files when there are `min_files` or more, else every third
    paragraph of each file (a small corpus split by file would leave one side nearly empty). Seeded."""
    files = list(files)
    if len(files) >= min_files:
        order = sorted(files, key=lambda f: f.source)
        random.Random(seed).shuffle(order)
        k = max(1, round(len(order) / 3))
        held = {f.source for f in order[:k]}
        return Split("file", [f for f in files if f.source not in held], [f for f in files if f.source in held])
    train, held_out = [], []
    for f in files:
        paras = [p for p in f.text.split("\n\n") if p.strip()]
        offset = random.Random(f"{seed}/{f.source}").randrange(3)
        hold = [p for i, p in enumerate(paras) if i % 3 == offset]
        keep = [p for i, p in enumerate(paras) if i % 3 != offset]
        train.append(CorpusFile(f.source, f.sha256, "\n\n".join(keep)))
        held_out.append(CorpusFile(f.source, f.sha256, "\n\n".join(hold)))
    return Split("passage", [f for f in train if f.text.strip()], [f for f in held_out if f.text.strip()])


def in_part(stances: Sequence[Stance], part: Sequence[CorpusFile]) -> list[Stance]:
    """The stances whose quote lies in this part of the corpus (verbatim, in the same file)."""
    by_source = {f.source: f.text for f in part}
    return [s for s in stances if s.source in by_source and is_verbatim(s.quote, by_source[s.source])]


class Retriever:
    """Nearest passages of the training part only (the clone must not read the held-out text)."""

    def __init__(self, files: Sequence[CorpusFile], embed) -> None:
        self.passages = [(f.source, c) for f in files for c in chunk_text(f.text)]
        self.embed = embed
        self.mat = embed([c for _, c in self.passages]) if self.passages and embed else None

    def search(self, query: str, k: int = 2) -> list[Any]:
        if self.mat is None:
            return []
        scores = self.mat @ self.embed([query])[0]
        return [Passage(self.passages[i][0], self.passages[i][1], float(scores[i]))
                for i in np.argsort(-scores, kind="stable")[:k] if scores[i] >= 0.1]


def stance_messages(card: Persona, claim: str, stances: Sequence[Stance], passages: Sequence[Any]) -> list[Message]:
    task = (f"Claim: {claim}\n\nDo you, {card.label}, agree or disagree with this claim? Answer as yourself, "
            "from your own views.")
    msgs = prompts.with_passages([prompts.system_message(card), {"role": "user", "content": task}], passages)
    return prompts.with_stances(msgs, stances)


async def answer(llm: LLM, card: Persona, claim: str, index: int, meter: Meter, *, seed: int,
                 stances: Sequence[Stance] = (), retriever: Retriever | None = None, embed=None) -> str:
    """The persona's stance on one claim, seeded by the claim's place among the held-out claims."""
    shown = nearest(stances, claim, 3, embed=embed) if stances and embed else list(stances[:3])
    passages = retriever.search(claim) if retriever else []
    got = await meter.ask(llm, stance_messages(card, claim, shown, passages), StanceAnswer,
                          schema_for(StanceAnswer), seed=seed * 1_000_003 + index, max_tokens=24)
    return got.stance


def agreement(predicted: Sequence[str], truth: Sequence[str]) -> float | None:
    return round(sum(p == t for p, t in zip(predicted, truth)) / len(truth), 4) if truth else None


def wilson(k: int, n: int) -> list[float] | None:
    """The 95% Wilson interval of a proportion k/n, rounded: how much a handful of claims can tell."""
    interval = metrics.wilson(k, n)
    return None if interval is None else [round(x, 4) for x in interval]


def verdict(clone: float | None, baseline: float | None, generic: float | None, majority: float | None) -> str:
    """One line a reader can act on; a clone that does not beat its baselines is reported as such."""
    if clone is None:
        return "no held-out stances: nothing measured (the held-out part stated no positions that checked)"
    best = max(x for x in (baseline, generic, majority) if x is not None)
    if clone > best:
        return f"clone beats its baselines ({clone:.2f} vs best baseline {best:.2f})"
    return f"clone does NOT beat its baselines ({clone:.2f} vs best baseline {best:.2f})"


def report(truth: Sequence[str], clone: Sequence[str], clone2: Sequence[str], baseline: Sequence[str],
           generic: Sequence[str]) -> dict[str, Any]:
    """The figures of one evaluation, from the answers (pure: the tests call it directly)."""
    n = len(truth)
    majority = max(("agree", "disagree"), key=lambda s: sum(t == s for t in truth)) if n else "agree"
    a = agreement(clone, truth)
    consistency = agreement(clone2, clone)
    b, g, m = agreement(baseline, truth), agreement(generic, truth), agreement([majority] * n, truth)
    return {"n": n, "agreement": a, "agreement_ci95": wilson(sum(p == t for p, t in zip(clone, truth)), n),
            "baseline_agreement": b, "generic_agreement": g, "majority_agreement": m, "majority_stance": majority,
            "self_consistency": consistency,
            "normalised_agreement": round(a / consistency, 4) if a is not None and consistency else None,
            "beats_baseline": a is not None and b is not None and a > b,  # the same-discipline card only
            "beats_all_baselines": a is not None and all(a > x for x in (b, g, m) if x is not None),
            "verdict": verdict(a, b, g, m)}
