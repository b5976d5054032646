"""How faithful is a clone? Held-out stances, after Park et al. 2024 ("Generative Agent Simulations of 1,000
People"): hide part of the corpus, draft the clone from the rest, and ask it to take a stance on each position
the author states in the hidden part. The stance is read, not written: P(Yes) vs P(No) of the answer token
(agents/stance_questions.py), both answer orders, the content-free bias removed. Agreement is compared with
baselines (a card with the same discipline and no corpus; a generic panelist; always answering the majority stance).

The parts: the split, the stances on each side, retrieval from the training side, one stance reading, the figures.
The eval that runs them case by case is graphs/evals/clone.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from gauntlet import metrics
from gauntlet.agents.calibration import Scorer
from gauntlet.agents.corpus import Passage, chunk_text
from gauntlet.agents.corpus_files import CorpusFile, is_verbatim
from gauntlet.agents.llm import LLM, Message
from gauntlet.agents.persona import Persona, Stance
from gauntlet.agents.scoring import order_margin
from gauntlet.agents.stance_questions import (ANSWERS, LABELS, stance_question,
                                              stance_question_content_free)

GENERIC = Persona(name="generic-panelist", discipline="AI alignment",
                  worldview="A thoughtful alignment researcher with no particular school or agenda.")


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


async def read_stance(llm: LLM, scorer: Scorer, card: Persona, claim: str, *, stances: Sequence[Stance] = (),
                      passages: Sequence[Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """One persona's reading of one claim, from answer-token probabilities (no generated text): `margin` is
    log P(Yes) - log P(No) averaged over both answer orders with the content-free margin of each order removed;
    `orders_agree` whether the two orders, each debiased, lean the same way (a read that flips with the order
    of the options is position bias, not a stance)."""
    with_passages = passages is not None

    def build(order: tuple[str, str]) -> list[Message]:
        return stance_question(card, claim, order, stances=stances, passages=passages)

    def free(order: tuple[str, str]) -> list[Message]:
        return stance_question_content_free(card, order, stances=stances, with_passages=with_passages)

    margin, scored, passes = await scorer.features(llm, build, free, seed)
    pos, neg = scorer.answers
    asked, bias = passes[:2], passes[2:4]
    per_order = [order_margin(a, pos, neg) - order_margin(b, pos, neg) for a, b in zip(asked, bias)]
    return {"margin": round(margin, 4), "scored": scored,
            "raw_margin": round(sum(order_margin(a, pos, neg) for a in asked) / len(asked), 4),
            "content_free_margin": round(sum(order_margin(b, pos, neg) for b in bias) / max(1, len(bias)), 4),
            "orders_agree": len({m >= 0 for m in per_order}) == 1,
            "model": next((p.model for p in passes if p.model), llm.name),
            # The asked passes only: a content-free pass is measured once per prompt and reused (its cost is
            # the first read's).
            "model_s": round(sum(p.latency_s for p in asked), 3), "reads": len(asked)}


def stance_scorer() -> Scorer:
    """The scorer of stance questions: labels agree/disagree, read from Yes/No."""
    return Scorer("stance", LABELS, ANSWERS)


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


def report(truth: Sequence[str], clone: Sequence[str], baseline: Sequence[str], generic: Sequence[str], *,
           majority: str | None = None, orders_agree: Sequence[bool] = ()) -> dict[str, Any]:
    """Agreement figures from the stances read (each panelist's likelier label, no abstention; pure: the tests call
    it directly). `majority` is the stance "always answer the majority" gives (default: the majority of `truth`);
    `order_consistency` the share of claims whose reading does not flip with the order of the options."""
    n = len(truth)
    majority = majority or (max(LABELS, key=lambda s: sum(t == s for t in truth)) if n else LABELS[0])
    a = agreement(clone, truth)
    b, g, m = agreement(baseline, truth), agreement(generic, truth), agreement([majority] * n, truth)
    return {"n": n, "agreement": a, "agreement_ci95": wilson(sum(p == t for p, t in zip(clone, truth)), n),
            "baseline_agreement": b, "generic_agreement": g, "majority_agreement": m, "majority_stance": majority,
            "order_consistency": round(sum(orders_agree) / len(orders_agree), 4) if orders_agree else None,
            "beats_baseline": a is not None and b is not None and a > b,  # the same-discipline card only
            "beats_all_baselines": a is not None and all(a > x for x in (b, g, m) if x is not None),
            "verdict": verdict(a, b, g, m)}
