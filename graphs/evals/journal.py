"""An eval's journal: one JSON line per finished case (and one for its preparation), appended and flushed as each
case ends, so a killed eval continues where it stopped.

The file is keyed by the eval's name, a hash of its case file, the model and the settings that change results; a
torn last line (the process died mid-write) is ignored and that case runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from gauntlet.graphs.evals.report import CaseResult


def default_dir() -> Path:
    """$GAUNTLET_CACHE/evals, else ~/.cache/gauntlet/evals."""
    root = os.environ.get("GAUNTLET_CACHE") or str(Path.home() / ".cache" / "gauntlet")
    return Path(root) / "evals"


# Settings that change how finished reads are summarised, never what is read: a run again with another value
# (e.g. a stricter threshold rule) re-summarises the same journal instead of reading every case again.
SUMMARY_SETTINGS = frozenset({"target_error", "save_calibration", "threshold_rule"})


def journal_key(name: str, fingerprint: bytes, model: str, settings: dict[str, Any]) -> str:
    h = hashlib.sha256()
    read_settings = {k: v for k, v in settings.items() if k not in SUMMARY_SETTINGS}
    for part in (name.encode(), hashlib.sha256(fingerprint).digest(), model.encode(),
                 json.dumps(read_settings, sort_keys=True, default=str).encode()):
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()[:16]


class Journal:
    def __init__(self, directory: Path, name: str, key: str) -> None:
        self.path = directory / f"{name}-{key}.journal.jsonl"

    def read(self) -> tuple[dict[str, Any] | None, dict[str, CaseResult]]:
        """(the prepared state or None, finished cases by id)."""
        state: dict[str, Any] | None = None
        done: dict[str, CaseResult] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None, {}
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn write: that case runs again
            if rec.get("kind") == "state":
                state = rec["state"]
            elif rec.get("kind") == "case":
                result = CaseResult.model_validate(rec["result"])
                done[result.id] = result
        return state, done

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def write_state(self, state: dict[str, Any]) -> None:
        self._append({"kind": "state", "state": state})

    def write_case(self, result: CaseResult) -> None:
        self._append({"kind": "case", "result": result.model_dump()})

    def _append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())
