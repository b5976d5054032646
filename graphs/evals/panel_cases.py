"""The panel evaluation's input: a YAML list of proposals with the flaws the literature found in them.

    - id: debate-amplification          # unique, short
      proposal: "Train a model by debate ..."   # the proposal as a user would state it
      known_flaws:                      # objections from the literature, one line each ([] for a sound one)
        - "A dishonest debater can make an argument whose refutation is too long for the judge to check"
      sound: false                      # true: a modest, sound control; being shot down is a false shoot-down
      source: "Irving et al. 2018; Barnes & Christiano 2020"   # optional, where the flaws come from

Read strictly: a bad file is an InputError naming the file, the item and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gauntlet.errors import InputError


class PanelCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    proposal: str = Field(min_length=1, max_length=2000)
    known_flaws: list[str] = Field(default_factory=list, max_length=20)
    sound: bool = False
    title: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=500)
    # When the case was written relative to the failure-mode library (agents/library/): cases written after it
    # (sound controls that address a failure mode close to their topic) are reported apart from the older ones.
    written: Literal["", "before-library", "after-library"] = ""
    addresses: str = Field(default="", max_length=80, description="the library entry a sound control escapes")


def load_cases(path: Path, only: list[str] | None = None) -> list[PanelCase]:
    """The cases of `path` (those named in `only`, in file order, when given)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", file=str(path), fix="give a YAML list of {id, proposal, known_flaws, "
                         "sound}; see runs/evals/panel.yaml") from None
    except (yaml.YAMLError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(f"not readable YAML ({type(exc).__name__})", file=str(path),
                         fix="see runs/evals/panel.yaml for the format") from None
    if not isinstance(raw, list) or not raw:
        raise InputError("expected a non-empty YAML list of cases", file=str(path),
                         fix="each item: {id, proposal, known_flaws: [..], sound: bool}")
    cases: list[PanelCase] = []
    for i, item in enumerate(raw, 1):
        try:
            case = PanelCase.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(item)"
            raise InputError(err["msg"], file=str(path), field=f"item {i}: {field}",
                             fix="each item: {id, proposal, known_flaws: [..], sound: bool}") from None
        if not case.sound and not case.known_flaws:
            raise InputError("a flawed case needs known_flaws", file=str(path), field=f"item {i}: known_flaws",
                             fix="list the literature's objections, or set sound: true")
        if any(c.id == case.id for c in cases):
            raise InputError(f"duplicate id {case.id!r}", file=str(path), field=f"item {i}: id",
                             fix="give every case its own id")
        cases.append(case)
    return pick(cases, only)


def pick(cases: list[PanelCase], only: list[str] | None) -> list[PanelCase]:
    """The cases named in `only`, in file order (all of them when it is empty)."""
    if not only:
        return cases
    unknown = [o for o in only if o not in {c.id for c in cases}]
    if unknown:
        raise InputError(f"no case with id {unknown[0]!r}", field="--only",
                         fix="use ids from the file: " + ", ".join(c.id for c in cases)[:300])
    return [c for c in cases if c.id in only]
