"""The labelled rulings set: loading, checking and splitting `{id, proposal, critique, anchor, rebuttal?, label,
source, split?}` items (format documented in runs/evals/rulings.yaml and runs/evals/README.md).

Any file in this format works, another lab's flaws included. A file without `split` gets a fixed seeded split by
proposal (every item of one proposal on the same side, so the test split never shows a calibration proposal).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gauntlet.errors import InputError

LABELS = ("sustained", "overruled")
SPLITS = ("calibration", "test")
DEFAULT_SET = Path("runs/evals/rulings.yaml")
REQUIRED = ("id", "proposal", "critique", "anchor", "label")


@dataclass(frozen=True)
class RulingCase:
    id: str
    proposal: str
    critique: str
    anchor: str
    label: str
    rebuttal: str = ""
    source: str = ""
    split: str = ""
    kind: str = ""  # the set's own family tag (never shown to a judge); reported per family

    @property
    def sustained(self) -> bool:
        return self.label == "sustained"


def seeded_split(proposal: str, seed: str = "rulings-split-v1") -> str:
    """calibration or test, fixed by the proposal's text (about half each)."""
    digest = hashlib.sha256(f"{seed}\x00{' '.join(proposal.split())}".encode()).digest()
    return SPLITS[digest[0] % 2]


def _text(item: dict[str, Any], key: str, where: str, required: bool) -> str:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"item has no {key}", field=f"{where}.{key}",
                             fix=f"give every item a non-empty {key} (format: runs/evals/README.md)")
        return ""
    if not isinstance(value, (str, int, float)):
        raise InputError(f"{key} must be text", field=f"{where}.{key}", fix=f"write {key} as a string")
    return " ".join(str(value).split())


def load_cases(path: str | Path, *, train_only: bool = False) -> list[RulingCase]:
    """The items of a rulings file, checked; InputError names the file, the item and the field. `train_only`: a
    file of extra training items (`--train`): every item joins the calibration split, those marked `test` too (an
    older set whose test split has been read can train a measurement on a fresh one). A main file needs a test
    split; its calibration split may be empty when training files supply one (`with_training` checks)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field=str(path), fix="pass an existing file")
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}", field=str(path),
                         fix="fix the YAML syntax") from None
    if isinstance(raw, dict) and isinstance(raw.get("cases"), list):
        raw = raw["cases"]
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{path} holds no items", field=str(path),
                         fix="write a YAML list of {id, proposal, critique, anchor, rebuttal?, label, source}")
    cases: list[RulingCase] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"{path.name}[{i}]"
        if not isinstance(item, dict):
            raise InputError("item is not a mapping", field=where, fix="each item is {id, proposal, critique, …}")
        values = {k: _text(item, k, where, k in REQUIRED) for k in (*REQUIRED, "rebuttal", "source", "split",
                                                                     "kind")}
        where = f"{path.name}:{values['id']}"
        if values["id"] in seen:
            raise InputError(f"duplicate id {values['id']!r}", field=f"{where}.id", fix="make ids unique")
        seen.add(values["id"])
        if values["label"] not in LABELS:
            raise InputError(f"label {values['label']!r}", field=f"{where}.label", fix="use sustained or overruled")
        if values["split"] and values["split"] not in SPLITS:
            raise InputError(f"split {values['split']!r}", field=f"{where}.split",
                             fix="use calibration or test, or leave split out for the fixed seeded split")
        values["split"] = "calibration" if train_only else values["split"] or seeded_split(values["proposal"])
        cases.append(RulingCase(**values))
    _check_split(cases, "calibration" if train_only else "test", path)
    if not train_only and any(c.split == "calibration" for c in cases):
        _check_split(cases, "calibration", path)
    return cases


def _check_split(cases: list[RulingCase], split: str, path: str | Path,
                 fix: str = "both splits need sustained and overruled items") -> None:
    labels = {c.label for c in cases if c.split == split}
    if len(labels) < 2:
        raise InputError(f"the {split} split has {'only ' + labels.pop() if labels else 'no'} items",
                         field=str(path), fix=fix)


def with_training(cases: list[RulingCase], train: list[str | Path], main: str | Path = "the rulings file"
                  ) -> list[RulingCase]:
    """`cases` (the items of the file `main`) and every training file's items (all in the calibration split). A
    training item may not share an id or a proposal with the main file's test split: the test split shows only
    proposals nothing trained on. Together they need a calibration split of both labels."""
    out = list(cases)
    ids = {c.id for c in cases}
    tested = {" ".join(c.proposal.split()) for c in cases if c.split == "test"}
    for path in train:
        for c in load_cases(path, train_only=True):
            where = f"{Path(path).name}:{c.id}"
            if c.id in ids:
                raise InputError(f"id {c.id!r} is already used", field=f"{where}.id",
                                 fix="make ids unique across files")
            if " ".join(c.proposal.split()) in tested:
                raise InputError("this proposal is in the test split", field=f"{where}.proposal",
                                 fix="train only on proposals the test split does not hold")
            ids.add(c.id)
            out.append(c)
    _check_split(out, "calibration", main, fix="give the file calibration items, or pass --train FILE with some")
    return out


def shuffled_proposals(cases: list[RulingCase]) -> dict[str, str]:
    """case id -> another proposal's text (the next distinct proposal, cyclically): the shuffled-proposal baseline,
    where a score that survives is bias, not reading."""
    distinct = list(dict.fromkeys(c.proposal for c in cases))
    if len(distinct) < 2:
        return {c.id: "" for c in cases}
    nxt = {p: distinct[(i + 1) % len(distinct)] for i, p in enumerate(distinct)}
    return {c.id: nxt[c.proposal] for c in cases}
