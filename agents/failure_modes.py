"""The failure-mode library: known failure modes and standard objections, each with the conditions under which it
does not apply, a yes/no applicability question and its citations.

Shipped entries live in `agents/library/*.yaml` (package data); users add files of the same format (`--library
DIR`, or `library.dirs` in a run config). A file is loaded strictly: a wrong field is an InputError naming the
file, the line and the fix. Retrieval is cosine similarity over the local MiniLM embeddings (cached on disk like a
corpus), biased toward the entries tagged with the critic's discipline; the applicability check reads a yes/no
probability from one prompt pass (`LLM.score`), so a model that cannot write a good objection can still confirm
that a known one fits.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gauntlet.errors import InputError
from gauntlet.user_files import read_user_text
from gauntlet.yaml_lines import line_for, load_with_lines, validated

SHIPPED_DIR = Path(__file__).parent / "library"
_MAX_FILE_BYTES = 2_000_000
# A stable link: a web address, an arXiv id (new or old style), a DOI, an ISBN (books without a stable page), or
# corpus:PERSONA/FILE for a clone's own writings.
LINK_PATTERN = (r"^(https?://[^\s]+|arXiv:(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?"
                r"|doi:10\.\d{4,9}/[^\s]+|isbn:(97[89])?\d{9}[\dX]|corpus:[^\s]+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    authors: str = Field(min_length=2, max_length=400, description="'Surname, I.; Surname, I.' (et al. allowed)")
    year: int = Field(ge=1600, le=2100)
    title: str = Field(min_length=2, max_length=400)
    link: str = Field(pattern=LINK_PATTERN, max_length=500,
                      description="https://…, arXiv:NNNN.NNNNN, doi:10.…/… or isbn:…")


class Entry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$", description="slug, e.g. reward-hacking")
    name: str = Field(min_length=3, max_length=120)
    statement: str = Field(min_length=20, max_length=1500)
    defeats: list[str] = Field(min_length=1, max_length=12, description="kinds of proposals it defeats")
    does_not_apply_when: str = Field(min_length=10, max_length=800,
                                     description="what a proposal must do to escape it")
    question: str = Field(min_length=10, max_length=400, description="a yes/no question; yes = it applies")
    severity: Literal["fatal", "major", "minor"]
    citations: list[Citation] = Field(min_length=1, max_length=8)
    disciplines: list[str] = Field(default_factory=list, max_length=8,
                                   description="fields whose critics it suits best (retrieval bias)")

    @field_validator("question")
    @classmethod
    def _is_question(cls, v: str) -> str:
        if not v.rstrip().endswith("?"):
            raise ValueError("the question must be a yes/no question ending with '?'")
        return v

    def text(self) -> str:
        """What retrieval embeds: the objection and the proposals it defeats."""
        return f"{self.name}. {self.statement} Defeats: {'; '.join(self.defeats)}."

    def cites(self) -> list[dict[str, Any]]:
        """The records a critique drawn from this entry carries: `{entry, title, authors, year, link}`."""
        return [{"entry": self.id, "title": c.title, "authors": c.authors, "year": c.year, "link": c.link}
                for c in self.citations]


class LibraryFile(_Strict):
    library: str = Field(default="", max_length=120, description="a name for this collection")
    version: int = Field(default=1, ge=1)
    entries: list[Entry] = Field(min_length=1, max_length=5000)


def link_url(link: str) -> str | None:
    """A citation's link as a web address a reader can open (arXiv and DOI ids resolved), or None (an ISBN, a
    corpus file, or anything that is not a plain http(s) address)."""
    link = str(link).strip()
    if link.startswith("arXiv:"):
        link = "https://arxiv.org/abs/" + link[len("arXiv:"):]
    elif link.startswith("doi:"):
        link = "https://doi.org/" + link[len("doi:"):]
    return link if re.fullmatch(r"https?://[^\s()<>\[\]\"'`]+", link) else None


# --- loading ------------------------------------------------------------------------------------------------
def _fix_for(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "remove this key; an entry has id, name, statement, defeats, does_not_apply_when, question, " \
               "severity, citations, disciplines"
    if kind == "missing":
        return "add this key"
    if kind == "string_pattern_mismatch":
        loc = [str(p) for p in err["loc"]]
        if "link" in loc:
            return "give https://…, arXiv:2210.10760, doi:10.…/… or isbn:…"
        if "id" in loc:
            return "use a lower-case slug of letters, digits and dashes"
    if kind == "literal_error":
        return "use fatal, major or minor"
    if kind in ("string_too_short", "too_short"):
        return "give a longer or non-empty value"
    if kind in ("string_too_long", "too_long"):
        return "shorten it"
    return "see agents/library/README.md for the format"


def parse_text(text: str, source: str) -> list[Entry]:
    """Entries of one library file's text (a mapping with `entries`, or a bare list of entries); one-line
    InputError with file, line, field and fix on anything wrong."""
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"invalid YAML: {getattr(exc, 'problem', None) or 'cannot parse'}", file=source,
                         line=mark.line + 1 if mark else None, fix="check indentation, colons and quoting") from None
    if isinstance(data, list):
        data = {"entries": data}
        lines = {("entries",) + k: v for k, v in lines.items()}
    if not isinstance(data, dict):
        raise InputError("a library file is a mapping with `entries:` (or a list of entries)", file=source, line=1,
                         fix="see agents/library/README.md")
    parsed = validated(LibraryFile, data, lines, source, _fix_for)
    seen: dict[str, int] = {}
    for i, e in enumerate(parsed.entries):
        if e.id in seen:
            raise InputError(f"duplicate entry id {e.id!r} (also entry {seen[e.id]})", file=source,
                             line=line_for(lines, ("entries", i, "id")), field=f"entries.{i}.id",
                             fix="give each entry its own id")
        seen[e.id] = i
    return list(parsed.entries)


def read_file(path: Path) -> list[Entry]:
    text = read_user_text(path, max_bytes=_MAX_FILE_BYTES, kind="library file",
                          too_big_fix="split it into several files")
    return parse_text(text, str(path))


def library_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise InputError("library directory not found", file=str(directory),
                         fix="give a directory holding .yaml library files")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise InputError("no .yaml library files in this directory", file=str(directory),
                         fix="add a file in the format of agents/library/README.md")
    return files


@dataclass(frozen=True)
class Library:
    """Loaded entries (shipped first, then user files in order) with where each came from."""

    entries: tuple[Entry, ...]
    origins: tuple[str, ...]  # the file each entry was read from

    @property
    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    def get(self, entry_id: str) -> Entry:
        try:
            return self.by_id[entry_id]
        except KeyError:
            raise InputError(f"no library entry {entry_id!r}", field="id",
                             fix="`gauntlet library list` shows the ids") from None

    def search(self, query: str, k: int = 5, *, discipline: str = "", embed: Callable | None = None,
               bias: float = 0.1) -> list[tuple[Entry, float]]:
        return rank(self.entries, query, k, discipline=discipline, embed=embed, bias=bias)


def load(dirs: Iterable[str | Path] = (), *, shipped: bool = True, extra: Sequence[Entry] = ()) -> Library:
    """The shipped library plus every .yaml file in `dirs`, plus `extra` entries (a clone's stances). An id
    defined twice is an error naming both places."""
    entries: list[Entry] = []
    origins: list[str] = []
    where: dict[str, str] = {}
    batches = ([(f"shipped:{f.name}", read_file(f)) for f in library_files(SHIPPED_DIR)] if shipped else [])
    batches += [(str(f), read_file(f)) for d in dirs for f in library_files(Path(d))]
    batches += [("(clone stances)", list(extra))] if extra else []
    for origin, batch in batches:
        for e in batch:
            if e.id in where:
                raise InputError(f"entry id {e.id!r} is already defined in {where[e.id]}", file=origin,
                                 field="id", fix="rename the entry (ids are unique across library files)")
            where[e.id] = origin
            entries.append(e)
            origins.append(origin)
    return Library(tuple(entries), tuple(origins))


_CACHED_LOCK = threading.Lock()


def cached(dirs: tuple[str, ...] = ()) -> Library:
    """The process-wide library for a set of user directories (files read once per process: the critics ask for
    it from several threads at once, and an unlocked cache let each of them parse the files)."""
    with _CACHED_LOCK:
        return _cached(dirs)


@lru_cache(maxsize=8)
def _cached(dirs: tuple[str, ...]) -> Library:
    return load(dirs)


# --- retrieval ----------------------------------------------------------------------------------------------
def _default_embed() -> Callable[[Sequence[str]], np.ndarray] | None:
    from gauntlet.agents import embeddings
    if not embeddings.available():
        return None
    from gauntlet.agents.corpus import embed
    return embed


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())}


def _lexical(texts: Sequence[str]) -> np.ndarray:
    """A fallback when the embedding model is absent: bag-of-words vectors over the texts' own vocabulary."""
    vocab = sorted(set().union(*(_words(t) for t in texts)) or {"_"})
    index = {w: i for i, w in enumerate(vocab)}
    mat = np.zeros((len(texts), len(vocab)), dtype=np.float32)
    for r, t in enumerate(texts):
        for w in _words(t):
            mat[r, index[w]] = 1.0
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return mat / np.maximum(norms, 1e-9)


def rank(entries: Sequence[Entry], query: str, k: int = 5, *, discipline: str = "",
         embed: Callable[[Sequence[str]], np.ndarray] | None = None, bias: float = 0.1) -> list[tuple[Entry, float]]:
    """The k entries nearest the query, best first, each with its cosine similarity to the query. With a
    `discipline` (the critic's field, e.g. 'computer security'), the order adds `bias` × the best cosine between
    that field and the fields an entry is tagged with, so near-ties go to the critic's own literature (the
    similarity reported stays the plain cosine: the same for every critic)."""
    if not entries or not query.strip():
        return []
    embed = embed or _default_embed()
    texts = [e.text() for e in entries]
    fields = sorted({d for e in entries for d in e.disciplines}) if discipline else []
    all_texts = texts + [query] + ([discipline] + fields if discipline else [])
    mat = embed(all_texts) if embed is not None else _lexical(all_texts)
    n = len(entries)
    cosine = mat[:n] @ mat[n]
    scores = cosine
    if discipline and fields:
        field_sim = dict(zip(fields, (mat[n + 2:] @ mat[n + 1]).tolist()))
        scores = cosine + bias * np.array([max((field_sim[d] for d in e.disciplines), default=0.0)
                                           for e in entries], dtype=np.float32)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(entries[i], float(cosine[i])) for i in order]


# --- the applicability check --------------------------------------------------------------------------------
ANSWERS = ("Yes", "No")
TASK = "applicability"
LABELS = ("applies", "escapes")


def applicability_messages(entry: Entry, proposal: str, answers: tuple[str, str] = ANSWERS) -> list[dict[str, str]]:
    """One yes/no question: does this known failure mode apply to this proposal? The escape condition is in the
    prompt, so a proposal that already does what the entry requires should draw a No. `answers` is the order
    the two answers are listed in (the scorer asks both orders to cancel the model's label bias).

    The order sits alone in the last message: with prefix caching (agents/prefix_cache.py) a proposal is read
    once for all its entries, and the second order costs a few tokens instead of the whole prompt again."""
    task = (f"A known failure mode, {entry.name}: {entry.statement}\n"
            f"It does NOT apply when: {entry.does_not_apply_when}\n\n"
            f"Question about the proposal: {entry.question}\n"
            "Answer No if the proposal already does what the 'does not apply' condition asks, or if the failure "
            "mode is about a different kind of proposal.")
    return [{"role": "system", "content": "You check whether a known objection fits a proposal. Judge the "
                                          "proposal as written. Answer with one word."},
            {"role": "user", "content": f"Proposal:\n{proposal}"},
            {"role": "user", "content": task},
            {"role": "user", "content": f"Answer {answers[0]} or {answers[1]}."}]


@dataclass(frozen=True)
class Applicability:
    """One entry checked against one proposal: the probability that it applies, the threshold it had to clear,
    whether it cleared it, and whether the check was read from real probabilities (`scored`) at all."""

    entry: str
    p: float
    threshold: float
    accepted: bool
    scored: bool
    calibration: str
    similarity: float = 0.0
    margin: float = 0.0
    prompt_tokens: int = 0

    def record(self) -> dict[str, Any]:
        return {"entry": self.entry, "p": round(self.p, 4), "threshold": self.threshold, "accepted": self.accepted,
                "scored": self.scored, "calibration": self.calibration, "similarity": round(self.similarity, 4),
                "margin": round(self.margin, 4), "prompt_tokens": self.prompt_tokens}


def accept(p: float, scored: bool, calibration: Any, own: bool, threshold: float) -> tuple[float, bool, str]:
    """(threshold, accepted, calibration id). A model with its own fitted applicability calibration is held to
    that calibration's threshold for `applies`; without one, p (the sigmoid of the debiased margin) must reach
    the run's `threshold`, and the id says the default was used. Unscored checks never pass."""
    if own:
        thr = calibration.thresholds.get(LABELS[0])
        return (thr if thr is not None else 1.0), bool(scored and thr is not None and p >= thr), calibration.id
    return threshold, bool(scored and p >= threshold), f"{calibration.id} (uncalibrated; threshold {threshold})"


_SCORERS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def scorer() -> Any:
    """The applicability scorer of the running event loop (it caches the content-free passes per model and
    prompt, behind an asyncio lock, which belongs to one loop)."""
    import asyncio
    loop = asyncio.get_running_loop()
    if loop not in _SCORERS:
        from gauntlet.agents.calibration import Scorer
        _SCORERS[loop] = Scorer(TASK, LABELS, ANSWERS)
    return _SCORERS[loop]


async def check(llm: Any, entry: Entry, proposal: str, *, threshold: float = 0.5, seed: int | None = None,
                similarity: float = 0.0) -> Applicability:
    """Whether `entry` applies to `proposal`: asked in both answer orders, each beside the same question on a
    content-free proposal ("N/A"), read as a debiased margin and turned into p by the model's calibration."""
    sc = scorer()
    decision, rec = await sc.decide(llm, lambda o: applicability_messages(entry, proposal, o),
                                    lambda o: applicability_messages(entry, "N/A", o),
                                    extra={"similarity": similarity}, seed=seed)
    cal, note = sc.calibration(rec["model"])
    thr, accepted, cal_id = accept(decision.p, decision.scored, cal, not note, threshold)
    return Applicability(entry.id, decision.p, thr, accepted, decision.scored, cal_id, similarity, rec["margin"],
                         int(rec.get("prompt_tokens") or 0))


def check_key(entry: Entry, proposal: str) -> str:
    """Applicability depends on the entry and the proposal's words only (not on the critic): one check per pair."""
    return hashlib.sha256(f"{entry.id}\x00{proposal}".encode()).hexdigest()[:24]


# --- a clone's stances as entries ---------------------------------------------------------------------------
def stance_entries(persona: str, stances: Sequence[Any], year: int) -> list[Entry]:
    """A clone's stated positions as library entries citing its own corpus: each stance the author holds
    becomes an objection in the author's words, with the quoted file as its citation."""
    out: list[Entry] = []
    for i, s in enumerate(stances, 1):
        claim = " ".join(s.claim.split())
        statement = (f"{persona} {'holds' if s.stance == 'agree' else 'rejects the claim'} that {claim} "
                     f"(\"{' '.join(s.quote.split())[:600]}\")")
        out.append(Entry(
            id=f"{persona}-stance-{i}"[:80], name=claim[:120] if len(claim) >= 3 else f"{persona} stance {i}",
            statement=statement[:1500].ljust(20), defeats=["proposals that conflict with this position"],
            does_not_apply_when="The proposal is consistent with this position or does not touch it.",
            question=f"Does the proposal conflict with the position that {claim[:300]}?"
            if s.stance == "agree" else f"Does the proposal rely on the claim that {claim[:300]}?",
            severity="minor", disciplines=[],
            citations=[Citation(authors=persona, year=year, title=s.source[:400] or "corpus",
                                link=f"corpus:{persona}/{'_'.join(s.source.split()) or 'corpus'}")]))
    return out
