"""`gauntlet eval rulings [FILE]`: how well a model's *scored* juror vote separates sustained from overruled critiques.

Per item, the juror's short yes/no questions (agents/juror_questions.py: the overall question and one per way a
critique fails) are each scored in both answer orders beside their content-free input, giving one debiased margin
per question; MiniLM text features (agents/juror_features.py) ride beside them. A logistic calibration over
`FEATURES` is fitted on the calibration split, thresholds are chosen there for the target error, and everything is
reported on the test split only: AUC, the risk-coverage curve and AURC, accepted, wrong, the 95% upper bound on
the error of accepted verdicts, coverage, and the same figures for the baselines (majority label, similarity alone,
the overall question's margin alone, the questions alone, the text features alone, the content-free input, a
shuffled proposal). Every item is read with every question, so a feature set can be chosen on the calibration
split without reading the model again.

Where the backend gives hidden states (the embedded model), each item's state at the overall question's prompt is
read too, and a linear probe on it (agents/probe.py) becomes the calibration's feature (`PROBE_FEATURES`): fitted on
the calibration split, the calibration itself fitted there on cross-fitted probe scores (each item scored by a
probe that never saw its proposal), the probe saved inside the calibration file.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gauntlet.agents import juror_questions
from gauntlet.agents.calibration import Scorer, file_hash, recorded_path, save_calibration
from gauntlet.agents.juror_features import TEXT_FEATURES, minilm_features
from gauntlet.agents.llm import LLM, back_to_back, reads_hidden_states
from gauntlet.agents.probe import PROBE_FEATURE, cross_fitted_scores, fit_probe
from gauntlet.agents.scoring import (DEFAULT_THRESHOLD_RULE, DEFAULT_TARGET_ERROR, THRESHOLD_RULES, Calibration,
                                    fit_calibration, label_thresholds)
from gauntlet.errors import InputError
from gauntlet.graphs.evals.report import CaseResult
from gauntlet.graphs.evals.rulings_cv import candidate_aucs
from gauntlet.graphs.evals.rulings_fixed import report_fixed, shipped_calibration
from gauntlet.graphs.evals.rulings_set import LABELS, RulingCase, load_cases, shuffled_proposals, with_training
from gauntlet.metrics import aurc, auc, error_upper_95, risk_coverage

# The calibration's features, chosen by leave-one-proposal-out cross-validation on the calibration split only
# (embedded 1.5B, 130 items, 22 proposals): the overall question, "is the critique's point missing from the
# proposal's text?" and cos(anchor, critique) gave AUC 0.65; every question and text feature together 0.64, the
# overall question alone 0.53, with similarity 0.48.
FEATURES = ("margin", "q_unanswered", "sim_anchor")
# With hidden states: the probe alone. On the calibration split (leave-one-proposal-out) it gave AUC 0.88 where the
# best question-and-text set gave 0.66 (BENCHMARKS.md, "Scored verdicts").
PROBE_FEATURES = (PROBE_FEATURE,)
PROBE_QUESTION = "margin"  # the probe reads the state at this question's prompt, answers offered (Yes, No)
QUESTION_FEATURES = tuple(juror_questions.QUESTIONS)
# Calibration items are read with every question (a feature set can then be chosen there without reading the model
# again); test items and their shuffled copies only with the questions the report needs.
TEST_QUESTIONS = tuple(juror_questions.asked(("margin", *FEATURES)))
SHUFFLED, SHUFFLED_SUFFIX = "shuffled", "~shuffled"  # a test item read with another proposal in place of its own
# A calibration item read with another proposal: only its hidden state, which trains the probe as an unsound item.
SHUFFLED_CALIBRATION = "shuffled-calibration"
COPIES = (SHUFFLED, SHUFFLED_CALIBRATION)
# A threshold must rest on at least this many calibration verdicts of its label: one lucky item is no evidence.
MIN_ACCEPTED = 5
# Jurors' thresholds: one for both labels, where the posterior median of the error meets the target. Chosen before
# the fresh held-out file's second read, as the rule nested cross-validation put nearest the target; on that file
# it and the rule before (observed error per label) both left about one accepted vote in five wrong (BENCHMARKS.md,
# "The held-out file read a second time"): no rule fitted on the calibration split fixes a ranking's top.
RULINGS_THRESHOLD_RULE = "pooled-posterior"


def scorer() -> Scorer:
    return Scorer("rulings", LABELS)


async def read_case(case: RulingCase, llm: LLM, scorer: Scorer, seed: int | None = 0,
                    questions: Sequence[str] = QUESTION_FEATURES) -> dict[str, Any]:
    """The model's passes on one item: each question's debiased margin (its feature), the overall question's raw
    margin and its content-free margin alone (baselines)."""
    t0 = time.perf_counter()
    hidden = None
    async with back_to_back(llm):  # the state is read on the questions' shared prefix, still in the context
        margins, scored, passes = await juror_questions.read(llm, scorer, case.proposal, case.critique,
                                                            case.anchor, case.rebuttal, questions, seed)
        if reads_hidden_states(llm):
            hidden = await llm.hidden_state(juror_questions.messages(  # type: ignore[attr-defined]
                PROBE_QUESTION, case.proposal, case.critique, case.anchor, case.rebuttal, scorer.answers))
    raw = juror_questions.raw_margins(passes, scorer.answers)
    out: dict[str, Any] = {"id": case.id, **{q: round(m, 6) for q, m in margins.items()}, "scored": scored,
                           "raw_margin": raw.get("margin:raw", 0.0),
                           "content_free_margin": raw.get("margin:content_free", 0.0),
                           "model": next((p.model for got in passes.values() for p in got if p.model), llm.name)}
    if hidden is not None:
        out["hidden"] = [round(float(v), 5) for v in hidden.values]
        out["probe_layer"] = hidden.layer
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def text_features(cases: Sequence[RulingCase]) -> dict[str, dict[str, float]]:
    """case id -> the MiniLM text features (agents/juror_features.py), zeros when MiniLM is not installed."""
    rows = minilm_features([(c.proposal, c.critique, c.anchor, c.rebuttal) for c in cases])
    if rows is None:
        return {c.id: {f: 0.0 for f in TEXT_FEATURES} for c in cases}
    return {c.id: row for c, row in zip(cases, rows)}


def _verdicts(cal: Calibration, rows: Sequence[dict[str, float]], truth: Sequence[bool],
              scored: Sequence[bool]) -> dict[str, Any]:
    """A calibration's decisions on a split: outcomes, AUC, risk-coverage, accepted/wrong/bound, coverage."""
    decisions = [cal.decide(r, scored=s) for r, s in zip(rows, scored)]
    right_flags = [(d.label == "sustained") == t for d, t in zip(decisions, truth)]
    accepted = [i for i, d in enumerate(decisions) if d.accepted]
    wrong = sum(1 for i in accepted if not right_flags[i])
    n = len(decisions)
    return {"decisions": decisions, "auc": _round(auc([d.p for d in decisions], list(truth))),
            "aurc": _round(aurc([d.confidence for d in decisions], right_flags)),
            "risk_coverage": [{k: _round(v) for k, v in pt.items()}
                              for pt in risk_coverage([d.confidence for d in decisions], right_flags)],
            "right": len(accepted) - wrong, "wrong": wrong, "abstained": n - len(accepted),
            "accepted": len(accepted), "coverage": _round(len(accepted) / n if n else 0.0),
            "error_upper_95": _round(error_upper_95(wrong, len(accepted))),
            "accuracy_all": _round(sum(right_flags) / n if n else None)}


def _round(v: Any, nd: int = 4) -> Any:
    return round(float(v), nd) if isinstance(v, (int, float, np.floating)) and v is not None else v


def _summary(v: dict[str, Any]) -> dict[str, Any]:
    return {k: v[k] for k in ("right", "wrong", "abstained", "accepted", "coverage", "error_upper_95", "auc",
                              "aurc", "accuracy_all")}


def add_probe(cal_cases: Sequence[RulingCase], test_cases: Sequence[RulingCase],
              reads: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Where every read holds a hidden state: fit the probe on the calibration split and write its `probe`
    feature into `reads` (cross-fitted by proposal on the calibration split, the fitted probe's score on the test
    split and on the shuffled copies). Each calibration item's shuffled-proposal copy, where read, trains the probe
    as an unsound item (agents/probe.py says why). The probe as a dict, or None without hidden states."""
    every = [reads[c.id] for c in [*cal_cases, *test_cases]]
    if not cal_cases or not all("hidden" in r for r in every):
        return None
    layer = int(reads[cal_cases[0].id].get("probe_layer", 0))
    states = [reads[c.id]["hidden"] for c in cal_cases]
    truth = [c.sustained for c in cal_cases]
    mismatched = [(reads[c.id]["shuffled"]["hidden"], False, c.proposal) for c in cal_cases
                  if "hidden" in (reads[c.id].get("shuffled") or {})]
    held_out = cross_fitted_scores(states, truth, [c.proposal for c in cal_cases], layer=layer,
                                   question=PROBE_QUESTION, train_only=mismatched)
    for c, v in zip(cal_cases, held_out):
        reads[c.id][PROBE_FEATURE] = v
    probe = fit_probe([*states, *(s for s, _, _ in mismatched)], [*truth, *(t for _, t, _ in mismatched)],
                      layer=layer, question=PROBE_QUESTION)
    for c in test_cases:
        reads[c.id][PROBE_FEATURE] = probe.score(reads[c.id]["hidden"])
        shuffled = reads[c.id].get("shuffled")
        if shuffled and "hidden" in shuffled:
            shuffled[PROBE_FEATURE] = probe.score(shuffled["hidden"])
    out = probe.to_dict()
    out["trained_on"] = {"items": len(states), "mismatched_copies": len(mismatched)}
    return out


def report(cases: Sequence[RulingCase], reads: dict[str, dict[str, Any]], *, model: str,
           target_error: float = DEFAULT_TARGET_ERROR, fitted_on: dict[str, Any] | None = None,
           l2: float = 1.0, features: Sequence[str] | None = None,
           threshold_rule: str = DEFAULT_THRESHOLD_RULE) -> tuple[dict[str, Any], Calibration]:
    """Fit on the calibration split, report on the test split (figures, baselines, per case, and what each
    threshold rule would have accepted); and the fitted calibration, its thresholds chosen by `threshold_rule`.
    `reads[id]` holds read_case's margins plus the text features (and hidden state), and under `shuffled` the same
    for the item read with another proposal. `features` None: the probe where the reads hold
    hidden states, else `FEATURES`."""
    cal_cases = [c for c in cases if c.split == "calibration" and c.id in reads]
    test_cases = [c for c in cases if c.split == "test" and c.id in reads]
    probe = add_probe(cal_cases, test_cases, reads)
    if features is None:
        features = PROBE_FEATURES if probe is not None else FEATURES
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = created[:10].replace("-", "")

    min_accepted = min(MIN_ACCEPTED, max(1, len(cal_cases) // 10))

    def fit(features: Sequence[str], name: str) -> Calibration:
        rows = [{f: reads[c.id][f] for f in features} for c in cal_cases]
        return fit_calibration(rows, [c.sustained for c in cal_cases], features, id=f"{name}-{stamp}",
                               model=model, task="rulings", labels=LABELS, target_error=target_error, l2=l2,
                               min_accepted=min_accepted, fitted_on=fitted_on, created=created,
                               threshold_rule=threshold_rule)

    cal = fit(features, f"rulings-{_slug(model)}")
    if PROBE_FEATURE in features:
        cal.probe = probe
    cal = cal.versioned()
    truth = [c.sustained for c in test_cases]
    scored = [bool(reads[c.id].get("scored", True)) for c in test_cases]
    main = _verdicts(cal, [reads[c.id] for c in test_cases], truth, scored)
    baselines: dict[str, Any] = {}
    majority = "sustained" if sum(c.sustained for c in cal_cases) * 2 >= len(cal_cases) else "overruled"
    maj_right = sum(1 for c in test_cases if c.label == majority)
    baselines["majority_label"] = {"label": majority, "right": maj_right, "wrong": len(test_cases) - maj_right,
                                   "abstained": 0, "accepted": len(test_cases), "coverage": 1.0,
                                   "error_upper_95": _round(error_upper_95(len(test_cases) - maj_right,
                                                                           len(test_cases))), "auc": 0.5}
    sim_cal = fit(("similarity",), "similarity")
    baselines["similarity_alone"] = _summary(_verdicts(sim_cal, [reads[c.id] for c in test_cases], truth,
                                                       [True] * len(test_cases)))
    margin_cal = fit(("margin",), "margin")
    baselines["margin_alone"] = _summary(_verdicts(margin_cal, [reads[c.id] for c in test_cases], truth, scored))
    # The questions and text features of the calibration without a probe (all of them where it has one).
    without_probe = [f for f in features if f != PROBE_FEATURE] or list(FEATURES)
    if PROBE_FEATURE in features:
        baselines["without_probe"] = {**_summary(_verdicts(fit(without_probe, "without-probe"),
                                                           [reads[c.id] for c in test_cases], truth, scored)),
                                      "features": without_probe}
    asked = [f for f in without_probe if f in QUESTION_FEATURES]
    text = [f for f in without_probe if f in TEXT_FEATURES]
    for name, group, flags in (("questions_alone", asked, scored), ("text_features_alone", text,
                                                                     [True] * len(test_cases))):
        if group and len(group) < len(without_probe) and tuple(group) not in (("margin",), ("similarity",)):
            baselines[name] = {**_summary(_verdicts(fit(group, name), [reads[c.id] for c in test_cases], truth,
                                                    flags)), "features": list(group)}
    free_label = "sustained" if np.mean([reads[c.id]["content_free_margin"] for c in test_cases]) > 0 else "overruled"
    free_right = sum(1 for c in test_cases if c.label == free_label)
    baselines["content_free"] = {"label": free_label, "right": free_right, "wrong": len(test_cases) - free_right,
                                 "abstained": 0, "accepted": len(test_cases), "coverage": 1.0, "auc": 0.5,
                                 "error_upper_95": _round(error_upper_95(len(test_cases) - free_right,
                                                                         len(test_cases))),
                                 "note": "the label the model prefers with no content (its label bias)"}
    shuffled_rows = [reads[c.id].get("shuffled") or {} for c in test_cases]
    if all(shuffled_rows):
        baselines["shuffled_proposal"] = {**_summary(_verdicts(cal, shuffled_rows, truth, scored)),
                                          "note": "the same calibration with another proposal in place of each "
                                                  "item's own: what survives is bias"}
    per_case = []
    for c, d in zip(test_cases, main["decisions"]):
        outcome = "abstained" if not d.accepted else ("right" if (d.label == "sustained") == c.sustained else "wrong")
        r = reads[c.id]
        per_case.append({"id": c.id, "split": c.split, "kind": c.kind, "label": c.label, "outcome": outcome,
                         "decided": d.accepted, "verdict": d.label, "p_sustained": _round(d.p),
                         "confidence": _round(d.confidence),
                         **{f: _round(r.get(f)) for f in dict.fromkeys([*features, "margin", "similarity"])},
                         "seconds": r.get("seconds", 0.0)})
    seconds = [reads[c.id].get("seconds", 0.0) for c in cal_cases + test_cases]
    cal_probs = [cal.probability(reads[c.id]) for c in cal_cases]
    # The same fitted weights under each threshold rule: what a stricter or looser rule would have accepted.
    by_rule = {}
    for rule in THRESHOLD_RULES:
        t = label_thresholds(cal_probs, [c.sustained for c in cal_cases], target_error, LABELS, min_accepted, rule)
        v = _verdicts(replace(cal, thresholds=t), [reads[c.id] for c in test_cases], truth, scored)
        by_rule[rule] = {"threshold": t, **{k: v[k] for k in ("right", "wrong", "accepted", "coverage",
                                                              "error_upper_95")}}
    cal.metrics = {"calibration_auc": _round(auc(cal_probs, [c.sustained for c in cal_cases])),
                   "test_auc": main["auc"], "test_coverage": main["coverage"], "test_wrong": main["wrong"],
                   "test_accepted": main["accepted"], "test_error_upper_95": main["error_upper_95"]}
    candidates = {"chosen": features, "margin": ("margin",), "margin+similarity": ("margin", "similarity"),
                  "every question": QUESTION_FEATURES, "text features": TEXT_FEATURES,
                  "every question+text features": (*QUESTION_FEATURES, *TEXT_FEATURES),
                  "questions and text (no probe)": FEATURES, "probe": PROBE_FEATURES,
                  "probe+questions and text": (*PROBE_FEATURES, *FEATURES)}
    cv = candidate_aucs([reads[c.id] for c in cal_cases], [c.sustained for c in cal_cases],
                        [c.proposal for c in cal_cases], candidates, l2)
    doc = {"eval": "rulings", "model": model, "cases": len(test_cases),
           "calibration_split": {"cases": len(cal_cases), "auc": cal.metrics["calibration_auc"],
                                 "grouped_cv": cv, "note": "AUC of leave-one-proposal-out predictions on the "
                                                           "calibration split, per candidate feature set"},
           **{k: main[k] for k in ("right", "wrong", "abstained", "accepted", "coverage", "error_upper_95", "auc",
                                   "aurc", "risk_coverage", "accuracy_all")},
           "threshold": cal.thresholds, "target_error": target_error, "threshold_rule": threshold_rule,
           "by_threshold_rule": by_rule, "calibration": cal.to_dict(),
           "by_kind": _by_kind(test_cases, per_case), "baselines": baselines,
           "seconds_per_case": _round(sum(seconds) / len(seconds) if seconds else 0.0, 2), "per_case": per_case}
    return doc, cal


def _by_kind(test_cases: Sequence[RulingCase], per_case: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Outcomes per family, and for each decoy family the AUC of p between the sustained items and that family's."""
    out: dict[str, dict[str, Any]] = {}
    for c, row in zip(test_cases, per_case):
        bucket = out.setdefault(c.kind or c.label, {"right": 0, "wrong": 0, "abstained": 0})
        bucket[row["outcome"]] += 1
    real = [row["p_sustained"] for c, row in zip(test_cases, per_case) if c.sustained]
    for kind, bucket in out.items():
        decoys = [row["p_sustained"] for c, row in zip(test_cases, per_case)
                  if not c.sustained and (c.kind or c.label) == kind]
        if real and decoys:
            bucket["auc_vs_sustained"] = _round(auc(real + decoys, [True] * len(real) + [False] * len(decoys)))
    return out


def _slug(model: str) -> str:
    from gauntlet.agents.calibration import model_slug
    return model_slug(model)


class RulingsTask:
    """`gauntlet eval rulings [FILE]` as an EvalTask: each case is read by the model (journaled), the calibration is
    fitted and the test split reported once every case is in.

    Settings: `target_error` (default 0.05), `limit` (at most this many items per split), `save_calibration`
    (write the fitted calibration to runs/calibrations/<model>.json, where debates find it), `train` (files of
    extra items that only train: they join the calibration split; `train_sha256` their hashes, so a journal of
    reads is never reused for an edited file), `use_calibration` (read the test split only and decide it with the
    model's shipped calibration, graphs/evals/rulings_fixed.py)."""

    name = "rulings"
    default_file = Path(__file__).resolve().parents[2] / "runs" / "evals" / "rulings.yaml"

    def load(self, path: Path) -> list[RulingCase]:
        self.path = Path(path)  # summarise re-reads it (the runner hands summarise only the results)
        return load_cases(path)

    def fingerprint(self, path: Path, cases: Sequence[RulingCase]) -> bytes:
        """The file and the questions' wording: a journal of reads under other prompts is not reused."""
        asked = json.dumps([juror_questions.RULES, juror_questions.QUESTIONS, "hidden state at " + PROBE_QUESTION],
                           sort_keys=True)
        return path.read_bytes() + b"\x00" + asked.encode()

    def select(self, cases: list[RulingCase], ctx: Any) -> list[RulingCase]:
        limit = ctx.settings.get("limit")
        if not limit:
            return cases
        real = [c for c in cases if c.split not in COPIES]
        keep = {c.id for s in ("calibration", "test") for c in [c for c in real if c.split == s][:int(limit)]}
        return [c for c in cases if c.id.removesuffix(SHUFFLED_SUFFIX) in keep]

    def _with_training(self, cases: list[RulingCase], ctx: Any) -> list[RulingCase]:
        if ctx.settings.get("use_calibration"):  # a fitted calibration applied: only the test split is read
            return [c for c in cases if c.split == "test"]
        return with_training(cases, list(ctx.settings.get("train") or ()), getattr(self, "path", self.default_file))

    async def prepare(self, cases: list[RulingCase], ctx: Any) -> dict[str, Any]:
        return {"shuffled": shuffled_proposals(self._with_training(cases, ctx)),
                "hidden": reads_hidden_states(ctx.llm)}

    def prepared_cases(self, cases: list[RulingCase], ctx: Any) -> list[RulingCase]:
        """The items, and for each test item its shuffled-proposal copy (the baseline; with hidden states each
        calibration item's too, which trains the probe). Calibration reads come first, so a run stopped once they
        are journaled can be studied (cross-validation, threshold rules) before any test item is read; within each
        part, items are ordered by the proposal shown: a backend that keeps its prefix cache reads each proposal
        once for all its items."""
        state = getattr(ctx, "state", ctx)
        cases = self._with_training(cases, ctx)
        other = state.get("shuffled", {})
        copied = {"test": SHUFFLED, **({"calibration": SHUFFLED_CALIBRATION} if state.get("hidden") else {})}
        copies = [replace(c, id=c.id + SHUFFLED_SUFFIX, proposal=other[c.id], split=copied[c.split])
                  for c in cases if c.split in copied and other.get(c.id)]
        return sorted(cases + copies, key=lambda c: (c.split in ("test", SHUFFLED), c.proposal, c.id))

    async def run_case(self, case: RulingCase, ctx: Any) -> CaseResult:
        sc = ctx.resources.setdefault("scorer", scorer())
        questions = {"calibration": QUESTION_FEATURES, SHUFFLED_CALIBRATION: ()}.get(case.split, TEST_QUESTIONS)
        got = await read_case(case, ctx.llm, sc, ctx.seed, questions)
        got.pop("id")
        # The outcome is settled in summarise, once every item is read (and a calibration fitted, unless given).
        return CaseResult(id=case.id, outcome="abstained", split=case.split, seconds=got.pop("seconds"),
                          note=f"read ({case.split}); decided once every item is read", **got)

    def summarise(self, results: list[CaseResult], ctx: Any) -> dict[str, Any]:
        path = getattr(self, "path", self.default_file)
        file_cases = load_cases(path)
        cases = self._with_training(file_cases, ctx)
        by_id = {r.id: r.model_dump() for r in results}
        cases = [c for c in cases if c.id in by_id]
        fixed = bool(ctx.settings.get("use_calibration"))
        if not (fixed or any(c.split == "calibration" for c in cases)) or not any(c.split == "test" for c in cases):
            return {"baselines": {}, "note": "too few cases read to fit and test a calibration"}
        other = ctx.state.get("shuffled", {})
        copies = [replace(c, id=c.id + SHUFFLED_SUFFIX, proposal=other[c.id]) for c in cases
                  if c.id + SHUFFLED_SUFFIX in by_id and other.get(c.id)]
        texts = text_features(cases + copies)
        reads = {c.id: {**by_id[c.id], **texts[c.id]} for c in cases}
        unread = sorted({f for r in by_id.values() if r.get("split") != SHUFFLED_CALIBRATION
                         for f in TEST_QUESTIONS if f not in r})
        if unread:
            raise InputError(f"the journal holds reads without the question(s) {', '.join(unread)}",
                             field=str(getattr(ctx, "journal", "journal")), fix="run again with --fresh")
        for copy in copies:
            base = reads[copy.id.removesuffix(SHUFFLED_SUFFIX)]
            base["shuffled"] = {**by_id[copy.id], **texts[copy.id]}
            base["seconds"] = base.get("seconds", 0.0) + by_id[copy.id]["seconds"]  # the baseline's cost too
        model = next((r["model"] for r in reads.values() if r.get("model")), ctx.model)
        if ctx.settings.get("use_calibration"):
            return report_fixed(cases, reads, shipped_calibration(model), _verdicts, _summary, _by_kind)
        # `cases` counts every calibration item, `file_cases` those of FILE itself (0 when FILE holds test items
        # only and the training files supply the whole calibration split).
        own = {c.id for c in file_cases if c.split == "calibration"}
        fitted_on = {"file": recorded_path(path), "sha256": file_hash(path),
                     "cases": sum(c.split == "calibration" for c in cases),
                     "file_cases": sum(c.split == "calibration" and c.id in own for c in cases)}
        if ctx.settings.get("train"):
            fitted_on["train"] = [{"file": recorded_path(f), "sha256": file_hash(Path(f))}
                                  for f in ctx.settings["train"]]
        doc, cal = report(cases, reads, model=model, fitted_on=fitted_on,
                          target_error=float(ctx.settings.get("target_error") or DEFAULT_TARGET_ERROR),
                          threshold_rule=str(ctx.settings.get("threshold_rule") or RULINGS_THRESHOLD_RULE))
        if ctx.settings.get("save_calibration"):
            doc["calibration_file"] = str(save_calibration(cal))
        return doc


TASK = RulingsTask()
