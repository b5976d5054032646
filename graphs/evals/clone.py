"""`gauntlet eval clone CARD`: a clone's fidelity on the author's held-out stances, read from answer-token
probabilities, calibrated, with abstention (agents/fidelity.py has the parts).

Prepared once (and journaled): the split of the card's corpus, the held-out stances, and a clone drafted from the
training part only. Each held-out stance is one item, and goes to the calibration or the test split
(`item_splits`): the items ordered by stance, then by SHA-256 of "clone-split-v1" and the claim, go alternately to
calibration and test, calibration first. The split is fixed by the items (no seed), and where there are two items
of each stance both sides hold both.

Each item is read (agents/fidelity.py `read_stance`: P(Yes) vs P(No) in both answer orders, the content-free bias
removed) by the clone (its card, its stated positions from the training part, passages retrieved from the
training part), by a same-discipline card with no corpus and by a generic panelist. Once every item is in, a
logistic calibration of the clone's margin is fitted on the calibration split, with the acceptance threshold for
the target error (`target_error`, default 5%), and the test split is reported: right / wrong / abstained among the
accepted verdicts, coverage, the error bound, the risk-coverage curve, AURC and AUC. Baselines, on the same test
items from the same run: the majority stance of the calibration split, the content-free input's stance (the
clone prompt's label bias), the same-discipline card and the generic panelist (each calibrated the same way on
its own margin), and MiniLM similarity between the claim and the clone's stated positions (likewise).
`agreement` and its neighbours are the readings' likelier stance on every held-out item, and `auc_all_items`
how each panelist's margin ranks every held-out item: no fit, no abstention.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any, Sequence

from gauntlet.agents import fidelity
from gauntlet.agents.calibration import model_slug
from gauntlet.agents.cloning import draft_card, unverified
from gauntlet.agents.corpus_files import CorpusFile, read_corpus
from gauntlet.agents.persona import Persona, Stance, library, load_card, user_cards
from gauntlet.agents.quotes import QuoteBook
from gauntlet.agents.scoring import DEFAULT_TARGET_ERROR
from gauntlet.agents.stance_questions import LABELS, stance_similarity
from gauntlet.agents.stances import extract
from gauntlet.errors import InputError
from gauntlet.graphs.evals import split_figures
from gauntlet.graphs.evals.report import CaseResult
from gauntlet.graphs.evals.rulings_set import SPLITS
from gauntlet.graphs.evals.task import EvalContext, Task
from gauntlet.metrics import auc

PANELISTS = ("clone", "baseline", "generic")  # the clone, the same-discipline card without corpus, the generic one
SPLIT_SALT = "clone-split-v1"
QUESTION_VERSION = "scored-stance-v1"  # in the journal key: readings of another question are never reused
MAX_POSITIONS = 12  # stated positions shown to the clone (all of them, up to this, so every claim shares them)


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


def item_splits(stances: Sequence[Stance]) -> list[str]:
    """calibration or test for each item, fixed by the items (see the module's docstring)."""
    def key(i: int) -> tuple[str, str]:
        claim = " ".join(stances[i].claim.split()).lower()
        return stances[i].stance, hashlib.sha256(f"{SPLIT_SALT}\x00{claim}".encode()).hexdigest()

    out = [""] * len(stances)
    for rank, i in enumerate(sorted(range(len(stances)), key=key)):
        out[i] = SPLITS[rank % 2]
    return out


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
    split: str


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
        return json.dumps([QUESTION_VERSION, src.card.model_dump(mode="json"),
                           [(f.source, f.sha256) for f in src.files]]).encode()

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
                "clone_unverified_quotes": unverified(clone, list(sp.train)), "draft_cost": meter.cost()}

    def prepared_cases(self, cases: list[Source], ctx: EvalContext) -> list[HeldStance]:
        ctx.resources["source"] = cases[0]
        held = [Stance.model_validate(s) for s in ctx.state["held"]]
        return [HeldStance(f"stance-{i + 1}", i, s, side) for i, (s, side) in enumerate(zip(held, item_splits(held)))]

    def retriever(self, ctx: EvalContext) -> fidelity.Retriever:
        """Retrieval over the training part only (the split is seeded, so a resumed eval rebuilds the same one)."""
        if "retriever" not in ctx.resources:
            files = ctx.resources["source"].files
            sp = fidelity.split(files, ctx.seed)
            ctx.resources["retriever"] = fidelity.Retriever(sp.train, ctx.resources.get("embed"))
        return ctx.resources["retriever"]

    async def run_case(self, case: HeldStance, ctx: EvalContext) -> CaseResult:
        state, claim = ctx.state, case.stance.claim
        scorer = ctx.resources.setdefault("scorer", fidelity.stance_scorer())
        personas = {"clone": Persona.model_validate(state["clone"]),
                    "baseline": Persona.model_validate(state["baseline"]), "generic": fidelity.GENERIC}
        positions = [Stance.model_validate(s) for s in state["train_stances"]][:MAX_POSITIONS]
        passages = self.retriever(ctx).search(claim)
        reads = {}
        for who, card in personas.items():  # the clone first: its long shared prefix is evaluated once
            mine = who == "clone"
            reads[who] = await fidelity.read_stance(ctx.llm, scorer, card, claim, stances=positions if mine else (),
                                                    passages=passages if mine else None, seed=ctx.seed)
        # The outcome is settled in summarise, once the calibration is fitted on every calibration item.
        return CaseResult(id=case.id, outcome="abstained", split=case.split, claim=claim,
                          stance=case.stance.stance, quote=case.stance.quote, source=case.stance.source,
                          passages=[p.source for p in passages], **reads,
                          note=f"read ({case.split}); decided after the fit")

    def summarise(self, results: list[CaseResult], ctx: EvalContext) -> dict[str, Any]:
        state = ctx.state
        rows = [r.model_dump() for r in results]
        positions = [Stance.model_validate(s) for s in state.get("train_stances", [])][:MAX_POSITIONS]
        embed = ctx.resources.get("embed")
        if embed is not None:
            for row, sim in zip(rows, stance_similarity([r["claim"] for r in rows], positions, embed)):
                row["similarity"] = sim
        model = next((r["clone"]["model"] for r in rows if r["clone"].get("model")), ctx.model)
        doc = scored_report(rows, model=model,
                            target_error=float(ctx.settings.get("target_error") or DEFAULT_TARGET_ERROR))
        src, meter = ctx.resources.get("source"), ctx.resources["meter"]
        doc.update({"card": src.card.name if src else None, "seed": ctx.seed, "split": state.get("split"),
                    "clone_card": {k: state["clone"].get(k) for k in ("discipline", "worldview", "evidence")}
                    if state else None, "clone_unverified_quotes": state.get("clone_unverified_quotes", []),
                    "cost": {**meter.cost(), "draft": state.get("draft_cost"),
                             "score_reads": sum(r[w]["reads"] for r in rows for w in PANELISTS),
                             "score_model_s": round(sum(r[w]["model_s"] for r in rows for w in PANELISTS), 2)}})
        return doc


def _stance(p_agree_side: bool) -> str:
    return LABELS[0] if p_agree_side else LABELS[1]


def scored_report(rows: Sequence[dict[str, Any]], *, model: str,
                  target_error: float = DEFAULT_TARGET_ERROR) -> dict[str, Any]:
    """The report from the items' readings (pure: the tests call it on fixed scores). `rows[i]` has `split`,
    `claim`, `stance` (the author's), and per panelist a reading {margin, scored, content_free_margin,
    orders_agree}; `similarity` when the embedding model was there."""
    cal = [r for r in rows if r["split"] == "calibration"]
    test = [r for r in rows if r["split"] == "test"]
    everything = {"items": [_item(r) for r in rows], "calibration_split": {"cases": len(cal), "rule": _RULE},
                  "target_error": target_error, **_unfitted(rows, cal)}
    if not cal or not test:
        return {**everything, "baselines": {},
                "note": "too few held-out stances to fit a calibration on one split and test it on the other"}
    truth_cal = [r["stance"] == LABELS[0] for r in cal]
    truth = [r["stance"] == LABELS[0] for r in test]

    def scored_panelist(who: str, feature: str = "margin") -> tuple[dict[str, Any], Any]:
        def value(r: dict[str, Any]) -> dict[str, float]:
            return {feature: r[who]["margin"] if feature == "margin" else r[feature]}
        fitted = split_figures.fit([value(r) for r in cal], truth_cal, (feature,),
                                   name=f"stance-{who}-{model_slug(model)}", model=model, task="stance",
                                   labels=LABELS, target_error=target_error,
                                   fitted_on={"split": "calibration", "cases": len(cal)})
        scored = [bool(r[who]["scored"]) if feature == "margin" else True for r in test]
        return split_figures.decided(fitted, [value(r) for r in test], truth, scored), fitted

    main, calibration = scored_panelist("clone")
    calibration.metrics = {"calibration_accuracy": split_figures.decided(
        calibration, [{"margin": r["clone"]["margin"]} for r in cal], truth_cal)["accuracy_all"]}
    labels = [r["stance"] for r in test]
    free = _stance(fmean(r["clone"]["content_free_margin"] for r in test) > 0)
    baselines = {"majority": split_figures.constant(everything["majority_stance"], labels,
                                                    "the calibration split's majority stance, every time"),
                 "content_free": split_figures.constant(free, labels, "the stance the clone's prompt gives with "
                                                                      "N/A for the claim (its label bias)"),
                 "same_discipline": split_figures.summary(scored_panelist("baseline")[0]),
                 "generic": split_figures.summary(scored_panelist("generic")[0])}
    if all("similarity" in r for r in rows):
        baselines["similarity"] = {**split_figures.summary(scored_panelist("clone", "similarity")[0]),
                                   "note": "MiniLM: cosine to the nearest stated position agreed with minus the "
                                           "nearest rejected"}
    per_case = [_case(r, d, outcome) for r, d, outcome in zip(test, main["decisions"], main["outcomes"])]
    seconds = [r.get("seconds", 0.0) for r in rows]
    return {**everything, **split_figures.summary(main), "risk_coverage": main["risk_coverage"], "cases": len(test),
            "calibration": calibration.to_dict(), "baselines": baselines, "per_case": per_case,
            "seconds_per_case": round(fmean(seconds), 2) if seconds else None,
            "verdict": everything["verdict"] + "; " + _scored_verdict(main, baselines)}


_RULE = ("items ordered by the author's stance, then by sha256('clone-split-v1' NUL claim), alternately "
         "calibration and test, calibration first")


def _unfitted(rows: Sequence[dict[str, Any]], cal: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Agreement of each panelist's likelier stance (the sign of its debiased margin) on every held-out item."""
    majority = _stance(sum(r["stance"] == LABELS[0] for r in cal) * 2 >= len(cal))
    said = {w: [_stance(r[w]["margin"] >= 0) for r in rows] for w in PANELISTS}
    doc = fidelity.report([r["stance"] for r in rows], said["clone"], said["baseline"], said["generic"],
                          majority=majority, orders_agree=[r["clone"]["orders_agree"] for r in rows])
    # Kept for readers of the earlier report: a scored read has no seed, so its self-consistency is across orders.
    doc["self_consistency"] = doc["order_consistency"]
    truth = [r["stance"] == LABELS[0] for r in rows]
    ranked = {w: [r[w]["margin"] for r in rows] for w in PANELISTS}
    if rows and all("similarity" in r for r in rows):
        ranked["similarity"] = [r["similarity"] for r in rows]
    doc["auc_all_items"] = {w: _round(auc(v, truth)) for w, v in ranked.items()}
    return doc


def _item(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: r.get(k) for k in ("id", "split", "claim", "stance", "quote", "source", "passages")}
    out.update({f"{w}_margin": r[w]["margin"] for w in PANELISTS})
    out.update({w: _stance(r[w]["margin"] >= 0) for w in PANELISTS})
    if "similarity" in r:
        out["similarity"] = r["similarity"]
    return out


def _case(r: dict[str, Any], d: Any, outcome: str) -> dict[str, Any]:
    return {**_item(r), "outcome": outcome, "decided": d.accepted, "verdict": d.label, "p_agree": round(d.p, 4),
            "confidence": round(d.confidence, 4), "threshold": d.threshold, "seconds": r.get("seconds", 0.0)}


def _scored_verdict(main: dict[str, Any], baselines: dict[str, dict[str, Any]]) -> str:
    bound = main["error_upper_95"]
    return (f"on the test split at the calibrated threshold the clone decided {main['accepted']} of "
            f"{main['accepted'] + main['abstained']} ({main['wrong']} wrong, 95% bound "
            f"{'-' if bound is None else f'{bound:.2f}'}), AUC {_fmt(main['auc'])} vs generic "
            f"{_fmt(baselines['generic']['auc'])}, same discipline {_fmt(baselines['same_discipline']['auc'])}")


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


TASK = CloneEval()
