"""Persona cards: a style of thought the debate can clone, loaded from YAML or Markdown front matter."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gauntlet.errors import InputError

LIBRARY_DIR = Path(__file__).parent / "personas"
_MAX_CARD_BYTES = 64_000


CARD_FIELDS = ("discipline", "worldview", "research_style", "vocabulary", "typical_objections",
               "would_change_mind", "temperament")


class Evidence(BaseModel):
    """A verbatim passage of the persona's corpus that backs one card field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: Literal["discipline", "worldview", "research_style", "vocabulary", "typical_objections",
                   "would_change_mind", "temperament"]
    quote: str = Field(min_length=1, max_length=1200)
    source: str = Field(min_length=1, max_length=300, description="file, relative to the corpus")


class Stance(BaseModel):
    """An explicit position of the author: a claim they agree or disagree with, in their own words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, max_length=300, description="a statement someone could agree or disagree with")
    stance: Literal["agree", "disagree"]
    quote: str = Field(min_length=1, max_length=1200)
    source: str = Field(min_length=1, max_length=300)


class Source(BaseModel):
    """One corpus file the card was drafted from, by content hash (provenance: which writings, which version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, max_length=300)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Persona(BaseModel):
    """A researcher clone: who they are, how they think, what moves them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="slug, e.g. security-engineer")
    display_name: str = Field(default="", max_length=120)
    discipline: str = Field(min_length=1, max_length=80)
    worldview: str = Field(min_length=1, max_length=600, description="one line")
    research_style: str = Field(default="", max_length=800)
    vocabulary: list[str] = Field(default_factory=list, max_length=40)
    typical_objections: list[str] = Field(default_factory=list, max_length=20)
    would_change_mind: str = Field(default="", max_length=600)
    temperament: str = Field(default="", max_length=300)
    corpus: str | None = Field(default=None, description="directory of the persona's writings, relative to the card")
    # A clone drafted from a corpus (`gauntlet persona new`) carries its evidence, stances and sources.
    evidence: list[Evidence] = Field(default_factory=list, max_length=200)
    stances: list[Stance] = Field(default_factory=list, max_length=200)
    sources: list[Source] = Field(default_factory=list, max_length=2000)

    @property
    def label(self) -> str:
        return self.display_name or self.name


def load_card(path: Path) -> Persona:
    """Read one card (.yaml/.yml, or .md with YAML front matter)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read persona card ({exc.strerror})", file=str(path),
                         fix="check the path") from None
    if len(raw) > _MAX_CARD_BYTES or b"\x00" in raw:
        raise InputError("not a persona card (binary or over 64 KB)", file=str(path),
                         fix="give a YAML or Markdown card")
    text = raw.decode("utf-8", errors="replace")
    if path.suffix == ".md":
        if not text.startswith("---"):
            raise InputError("Markdown card needs YAML front matter between --- lines", file=str(path),
                             fix="start the file with ---")
        text = text.split("---", 2)[1]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError("invalid YAML", file=str(path), line=line + 1 if line is not None else None,
                         fix="check indentation and quoting") from None
    if not isinstance(data, dict):
        raise InputError("persona card must be a mapping", file=str(path), fix="see agents/personas/*.yaml")
    try:
        card = Persona.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], file=str(path), field=field,
                         fix="see the schema in agents/persona.py") from None
    if card.corpus:
        # Stored absolute: the card travels into the run record, far from the file it was read from.
        card = card.model_copy(update={"corpus": str((path.parent / card.corpus).resolve())})
    return card


def user_dir() -> Path:
    """Where a user's own cards live (`gauntlet persona new` writes there by default): $GAUNTLET_PERSONAS, else
    ~/.local/share/gauntlet/personas."""
    env = os.environ.get("GAUNTLET_PERSONAS")
    return Path(env) if env else Path.home() / ".local" / "share" / "gauntlet" / "personas"


def user_cards() -> dict[str, Persona]:
    """The user's cards, by name (not cached: `persona new` adds to them while a process runs)."""
    cards: dict[str, Persona] = {}
    root = user_dir()
    if root.is_dir():
        for path in sorted(p for s in (".yaml", ".yml", ".md") for p in root.glob("*" + s)):
            if path.name.lower() == "readme.md":
                continue
            card = load_card(path)
            cards.setdefault(card.name, card)
    return cards


_VARIANT = re.compile(r"^(?P<base>.+)@(?P<k>[1-9][0-9]{0,3})$")


@lru_cache(maxsize=1)
def library() -> dict[str, Persona]:
    """The shipped persona library, by name."""
    cards = {}
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        card = load_card(path)
        cards[card.name] = card
    return cards


def resolve(ref: str, base_dir: Path, *, config_file: str = "", field: str = "") -> Persona:
    """A persona by library name, by the name of a user card, or by a card path inside the config's directory
    tree. `REF@K` (K = 1..9999) is the K-th copy of that persona on the panel: its own seat with its own seeds,
    so one clone can fill a panel many times ("hundreds of clones of one researcher")."""
    variant = _VARIANT.match(ref)
    if variant:
        card = resolve(variant["base"], base_dir, config_file=config_file, field=field)
        k = variant["k"]
        return card.model_copy(update={"name": f"{card.name[:58]}-v{k}", "display_name": f"{card.label} @{k}"})
    cards = library()
    if ref in cards:
        return cards[ref]
    users = user_cards()
    if ref in users:
        return users[ref]
    if not any(ref.endswith(s) for s in (".yaml", ".yml", ".md")):
        close = ", ".join((sorted(cards) + sorted(users))[:6])
        raise InputError(f"unknown persona {ref!r}", file=config_file, field=field,
                         fix=f"use a name from `gauntlet personas` (e.g. {close}) or a card path")
    root = base_dir.resolve()
    target = (root / ref).resolve()
    # Cards must live under the config's directory: a path like ../../etc/passwd is refused, not read.
    if root != target and root not in target.parents:
        raise InputError(f"persona path {ref!r} escapes the config directory", file=config_file,
                         field=field, fix="put the card beside the config or in a subdirectory")
    if not target.is_file():
        raise InputError(f"persona card {ref!r} not found", file=config_file, field=field,
                         fix="check the path, relative to the config file")
    card = load_card(target)
    if card.corpus and root not in Path(card.corpus).parents:
        raise InputError(f"corpus of persona card {ref!r} escapes the config directory", file=config_file,
                         field=field, fix="put the corpus directory beside the card")
    return card
