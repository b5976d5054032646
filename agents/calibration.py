"""Calibration files: one versioned JSON per (model, task) under runs/calibrations/, and the scorer that uses them.

`runs/calibrations/<model>.json` holds a model's rulings calibration (`<model>.<task>.json` for other tasks):
`{id, model, task, labels, features, weights, thresholds, target_error, fitted_on: {file, sha256, cases}, created,
metrics}`. The directory is `$GAUNTLET_CALIBRATIONS` or the repository's runs/calibrations. A model without a file
gets `default_calibration`, and its decisions say so; so does a caller that cannot compute every feature its
calibration weighs (`usable`).

`Scorer` asks one question the way a calibration was fitted: the answers in both orders, each beside the same
question on a content-free input (asked once per prompt and cached), and returns a `Decision`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from gauntlet.agents import content_free_store
from gauntlet.agents.llm import LLM, ChoiceScores, Message, back_to_back
from gauntlet.agents.probe import PROBE_FEATURE, LinearProbe
from gauntlet.agents.scoring import Calibration, Decision, debiased_margin, default_calibration
from gauntlet.errors import InputError

REPO_DIR = Path(__file__).resolve().parents[1] / "runs" / "calibrations"
# Content-free scores depend only on the backend and the prompt, so they are kept for the process (a debate's
# later rounds and other scorers reuse them); bounded, oldest dropped first.
_CONTENT_FREE: dict[str, ChoiceScores] = {}
_CONTENT_FREE_MAX = 512
# Passes measured by the model in this process (not read from memory or disk): `gauntlet bench embedded` reports it.
CONTENT_FREE_MEASURED = [0]


def calibrations_dir() -> Path:
    return Path(os.environ.get("GAUNTLET_CALIBRATIONS") or REPO_DIR)


def model_slug(model: str) -> str:
    """A model name as a file name: `embedded:qwen2.5-coder-1.5b-instruct-q4` -> `embedded_qwen2.5-coder-…`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or "unnamed"


def calibration_path(model: str, task: str = "rulings", root: Path | None = None) -> Path:
    name = model_slug(model) + ("" if task == "rulings" else f".{task}") + ".json"
    return (root or calibrations_dir()) / name


def load_calibration(path: Path) -> Calibration:
    try:
        cal = Calibration.from_dict(json.loads(path.read_text()))
        if PROBE_FEATURE in cal.features:
            LinearProbe.from_dict(cal.probe or {})  # a calibration that weighs a probe must carry a valid one
        return cal
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"calibration file unreadable: {exc}", field=str(path),
                         fix="re-fit it with `gauntlet eval rulings`, or delete it to use the default") from None


def save_calibration(cal: Calibration, root: Path | None = None) -> Path:
    """Written atomically (a temporary file renamed), so a reader never sees half a calibration."""
    path = calibration_path(cal.model, cal.task, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(cal.to_dict(), indent=2) + "\n")
    os.replace(tmp, path)
    return path


def calibration_for(model: str, task: str, labels: tuple[str, str], root: Path | None = None,
                    features: Sequence[str] = ("margin",)) -> tuple[Calibration, str]:
    """(the model's calibration for `task`, a note: "" when it has its own, else why the default is used)."""
    path = calibration_path(model, task, root)
    if path.is_file():
        return load_calibration(path), ""
    cal = default_calibration(task, labels, features)
    return cal, f"{cal.id}: model {model!r} has no {task} calibration ({path.name})"


def usable(cal: Calibration, note: str, available: Sequence[str]) -> tuple[Calibration, str]:
    """`cal` if every feature it weighs can be computed here (`available`), else the shipped default with a note
    naming what is missing: a calibration applied to features it was not fitted on would mean nothing."""
    missing = [f for f in cal.features if f not in available]
    if not missing:
        return cal, note
    fallback = default_calibration(cal.task, cal.labels)
    return fallback, (f"{fallback.id}: calibration {cal.id} weighs {', '.join(missing)}, which this vote cannot "
                      "compute; the shipped default is used")


def file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def recorded_path(path: str | Path) -> str:
    """A data file's path as a calibration records it: relative to the working directory when it lies under it
    (a shipped calibration then names `runs/evals/...`, not the fitting machine's checkout), else as given."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


class Scorer:
    """One scored yes/no question, asked as its calibration was fitted.

    `build(answers)` returns the messages asking the question with the two answers listed in that order;
    `build_content_free(answers)` the same prompt with "N/A" for the content. Content-free scores are cached per
    (backend, prompt) for the process, so a juror's bias is measured once, not once per critique. The measurement
    is asked without a seed, not with the caller's: whichever call measures it (the first critique of
    this run, of an earlier run in the process, or of a resumed run) gets the same scores, so a run stays a
    function of its config and seed."""

    def __init__(self, task: str, labels: tuple[str, str], answers: tuple[str, str] = ("Yes", "No"),
                 root: Path | None = None) -> None:
        self.task, self.labels, self.answers, self.root = task, labels, answers, root
        self._calibrations: dict[str, tuple[Calibration, str]] = {}
        self._lock = asyncio.Lock()

    def orders(self) -> list[tuple[str, str]]:
        return [self.answers, (self.answers[1], self.answers[0])]

    def calibration(self, model: str) -> tuple[Calibration, str]:
        if model not in self._calibrations:
            self._calibrations[model] = calibration_for(model, self.task, self.labels, self.root)
        return self._calibrations[model]

    async def _cached(self, llm: LLM, messages: list[Message]) -> ChoiceScores:
        prompt = json.dumps([messages, self.answers], sort_keys=True)
        key = llm.name + "\x00" + prompt
        async with self._lock:
            if key not in _CONTENT_FREE:
                identity = content_free_store.stable_identity(llm)
                # The store is a file: read and written off the event loop.
                stored = await asyncio.to_thread(content_free_store.get, identity, prompt) if identity else None
                if stored is not None and set(stored) == set(self.answers):
                    got = ChoiceScores(logprobs=stored, scored=True, model=llm.name)
                else:
                    # Without a seed: a bias measurement depends on the prompt alone (a forward pass needs none).
                    got = await llm.score(messages, list(self.answers), seed=None)
                    if not got.scored:
                        return got  # an unscored pick is no bias measurement: never kept
                    CONTENT_FREE_MEASURED[0] += 1
                    if identity:
                        await asyncio.to_thread(content_free_store.put, identity, prompt, got.logprobs)
                while len(_CONTENT_FREE) >= _CONTENT_FREE_MAX:
                    _CONTENT_FREE.pop(next(iter(_CONTENT_FREE)))
                _CONTENT_FREE[key] = got
            return _CONTENT_FREE[key]

    async def features(self, llm: LLM, build: Callable[[tuple[str, str]], list[Message]],
                       build_content_free: Callable[[tuple[str, str]], list[Message]] | None,
                       seed: int | None = None) -> tuple[float, bool, list[ChoiceScores]]:
        """(debiased margin, whether every pass was scored, the passes: both orders, then content-free ones)."""
        orders = self.orders()
        # Back to back: the second order shares all but the last message with the first (agents/llm.py). Every
        # content-free lookup (whose lock is held across its pass) happens inside such a section, so a task that
        # waits on that lock never holds the model another task needs.
        async with back_to_back(llm):
            asked = [await llm.score(build(o), list(self.answers), seed=seed) for o in orders]
            free = ([await self._cached(llm, build_content_free(o)) for o in orders]
                    if build_content_free else [])
        pos, neg = self.answers
        scored = all(s.scored for s in asked + free)
        return debiased_margin(asked, free, pos, neg), scored, asked + free

    async def decide(self, llm: LLM, build: Callable[[tuple[str, str]], list[Message]],
                     build_content_free: Callable[[tuple[str, str]], list[Message]] | None, *,
                     extra: Mapping[str, float] | None = None, seed: int | None = None
                     ) -> tuple[Decision, dict[str, Any]]:
        """The calibrated decision, and a record of how it was read (margin, features, passes)."""
        margin, scored, passes = await self.features(llm, build, build_content_free, seed)
        model = next((s.model for s in passes if s.model), llm.name)
        cal, note = self.calibration(model)
        values = {"margin": margin, **(extra or {})}
        if not scored:
            note = (note + "; " if note else "") + "unscored: the backend gave no probabilities"
        decision = cal.decide(values, scored=scored, note=note)
        record = {"margin": round(margin, 4),
                  "features": {k: round(float(v), 4) for k, v in values.items()},
                  "model": model, "passes": [{k: (round(v, 4) if math.isfinite(v) else None) for k, v in s.logprobs.items()}
                             for s in passes],
                  "latency_s": round(sum(s.latency_s for s in passes), 3),
                  "prompt_tokens": sum(s.prompt_tokens for s in passes)}
        return decision, record
