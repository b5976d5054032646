"""`gauntlet eval clone CARD`: a clone's fidelity on the author's held-out stances (agents/fidelity.py has the
parts and the figures).

Prepared once (and journaled): the split of the card's corpus, the held-out stances, and a clone drafted from the
training part only. Each case is one held-out stance, asked of the clone at two seeds, of a same-discipline card with
no corpus and of a generic panelist. Right = the clone (first seed) takes the author's stance, wrong otherwise; it
never abstains. Its confidence is its agreement with itself across the two seeds.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gauntlet.agents import fidelity
from gauntlet.agents.cloning import draft_card, unverified
from gauntlet.agents.corpus_files import CorpusFile, read_corpus
from gauntlet.agents.persona import Persona, Stance, library, load_card, user_cards
from gauntlet.agents.quotes import QuoteBook
from gauntlet.agents.stances import extract
from gauntlet.errors import InputError
from gauntlet.graphs.evals.report import CaseResult, figures
from gauntlet.graphs.evals.task import EvalContext, Task

ANSWERERS = ("clone", "clone_seed2", "baseline", "generic")


def find_card(ref: str) -> Persona:
    """A card by file path, else by name among the library and the user's cards."""
    path = Path(ref)
    if path.is_file():
        return load_card(path)
    cards = {**library(), **user_cards()}
    if ref in cards:
        return cards[ref]
    raise InputError(f"no persona card {ref!r}", field="CARD",
                     fix="give a card file or a name from `gauntlet persona list`")


@dataclass(frozen=True)
class Source:
    """What the eval holds stances out of: the card and its corpus (whose changed files are named)."""
    id: str
    card: Persona
    files: list[CorpusFile]
    changed: list[str]


@dataclass(frozen=True)
class HeldStance:
    id: str
    index: int
    stance: Stance


class CloneEval(Task):
    name = "clone"
    default_file: Path | None = None  # the card is required

    def load(self, path: Path) -> list[Source]:
        card = find_card(str(path))
        if not card.corpus:
            raise InputError(f"card {card.name!r} has no corpus to hold stances out of", field="CARD",
                             fix="draft it from writings with `gauntlet persona new NAME --from DIR`")
        files = read_corpus(Path(card.corpus), field=f"{card.name}.corpus")
        recorded = {s.path: s.sha256 for s in card.sources}
        changed = [f.source for f in files if recorded and recorded.get(f.source) != f.sha256]
        return [Source(card.name, card, files, changed)]

    def fingerprint(self, path: Path, cases: list[Source]) -> bytes:
        src = cases[0]
        return json.dumps([src.card.model_dump(mode="json"), [(f.source, f.sha256) for f in src.files]]).encode()

    async def prepare(self, cases: list[Source], ctx: EvalContext) -> dict[str, Any]:
        src, seed, meter = cases[0], ctx.seed, ctx.resources["meter"]
        if src.changed:
            ctx.note(f"note: corpus changed since the card was drafted ({', '.join(src.changed[:3])}); stances "
                     "whose quotes no longer check are left out")
        card, llm = src.card, ctx.llm
        sp = fidelity.split(src.files, seed)
        held = fidelity.in_part(card.stances, sp.held_out)
        if not held:
            held = await extract(llm, QuoteBook(sp.held_out), card.label, meter, seed=seed + 2000)
        held = random.Random(seed).sample(held, min(ctx.resources.get("max_claims", 12), len(held)))
        train_stances = fidelity.in_part(card.stances, sp.train)
        clone = await draft_card(llm, sp.train, card.name, card.label, meter, seed=seed,
                                 with_stances=not card.stances)
        if not card.stances:
            train_stances = list(clone.stances)
        baseline = Persona(name=f"{card.name[:50]}-baseline", discipline=clone.discipline,
                           worldview=f"A researcher in {clone.discipline}.")
        return {"split": {"mode": sp.mode, "train": [f.source for f in sp.train],
                          "held_out": [f.source for f in sp.held_out]},
                "held": [s.model_dump() for s in held], "train_stances": [s.model_dump() for s in train_stances],
                "clone": clone.model_dump(), "baseline": baseline.model_dump(),
                "clone_unverified_quotes": unverified(clone, list(sp.train))}

    def prepared_cases(self, cases: list[Source], ctx: EvalContext) -> list[HeldStance]:
        ctx.resources["source"] = cases[0]
        return [HeldStance(f"stance-{i + 1}", i, Stance.model_validate(s)) for i, s in enumerate(ctx.state["held"])]

    def retriever(self, ctx: EvalContext) -> fidelity.Retriever:
        """Retrieval over the training part only (the split is seeded, so a resumed eval rebuilds the same one)."""
        if "retriever" not in ctx.resources:
            files = ctx.resources["source"].files
            sp = fidelity.split(files, ctx.seed)
            ctx.resources["retriever"] = fidelity.Retriever(sp.train, ctx.resources.get("embed"))
        return ctx.resources["retriever"]

    async def run_case(self, case: HeldStance, ctx: EvalContext) -> CaseResult:
        state, meter, seed = ctx.state, ctx.resources["meter"], ctx.seed
        clone, baseline = Persona.model_validate(state["clone"]), Persona.model_validate(state["baseline"])
        kw: dict[str, Any] = {"stances": [Stance.model_validate(s) for s in state["train_stances"]],
                              "retriever": self.retriever(ctx), "embed": ctx.resources.get("embed")}
        claim, i = case.stance.claim, case.index
        got = {"clone": await fidelity.answer(ctx.llm, clone, claim, i, meter, seed=seed, **kw),
               "clone_seed2": await fidelity.answer(ctx.llm, clone, claim, i, meter, seed=seed + 1, **kw),
               "baseline": await fidelity.answer(ctx.llm, baseline, claim, i, meter, seed=seed),
               "generic": await fidelity.answer(ctx.llm, fidelity.GENERIC, claim, i, meter, seed=seed)}
        return CaseResult(id=case.id, outcome="right" if got["clone"] == case.stance.stance else "wrong",
                          confidence=1.0 if got["clone"] == got["clone_seed2"] else 0.5,
                          claim=claim, stance=case.stance.stance, quote=case.stance.quote,
                          source=case.stance.source, **got, note=f"clone {got['clone']}, author {case.stance.stance}")

    def summarise(self, results: list[CaseResult], ctx: EvalContext) -> dict[str, Any]:
        rows = [r.model_dump() for r in results]
        truth = [r["stance"] for r in rows]
        answers = {k: [r[k] for r in rows] for k in ANSWERERS}
        doc = fidelity.report(truth, *answers.values())
        majority = [doc["majority_stance"]] * len(rows)
        state, src = ctx.state, ctx.resources.get("source")
        doc.update({"card": src.card.name if src else None, "seed": ctx.seed, "split": state.get("split"),
                    "clone_card": {k: state["clone"].get(k) for k in ("discipline", "worldview", "evidence")}
                    if state else None,
                    "clone_unverified_quotes": state.get("clone_unverified_quotes", []),
                    "items": [{k: r[k] for k in ("claim", "stance", "quote", "source", *ANSWERERS)} for r in rows],
                    "cost": ctx.resources["meter"].cost(),
                    "baselines": {name: figures(["right" if a == t else "wrong" for a, t in zip(said, truth)])
                                  for name, said in (("same_discipline", answers["baseline"]),
                                                     ("generic", answers["generic"]), ("majority", majority))}})
        return doc


TASK = CloneEval()
