"""Draft a persona card from one person's writings: every field backed by a verbatim quote, their stances kept
with the card, and the corpus recorded by file hash.

The model sees the corpus as numbered sentences and answers each field with its text plus the id of the sentence
that backs it. Every quote is checked against the corpus afterwards; a field whose quote does not check is asked
again once, and an optional field still unbacked is left empty (a card says nothing it cannot show).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, create_model

from gauntlet.agents.corpus_files import CorpusFile
from gauntlet.agents.llm import LLM, LLMError, Message
from gauntlet.agents.metered import Meter
from gauntlet.agents.persona import CARD_FIELDS, Evidence, Persona, Source, Stance
from gauntlet.agents.quotes import QuoteBook
from gauntlet.agents.schemas import MoveModel, schema_for
from gauntlet.agents.stances import extract

REQUIRED = ("discipline", "worldview")
# (type, limit, what to ask for) per card field; lists are short so a small model finishes them.
_SPEC: dict[str, tuple[Any, int, str]] = {
    "discipline": (str, 80, "their field, in a few words (e.g. 'empirical ML safety')"),
    "worldview": (str, 300, "one sentence: what they believe about the alignment problem"),
    "research_style": (str, 300, "how they work: methods, what evidence they trust"),
    "vocabulary": (list, 8, "terms they think in"),
    "typical_objections": (list, 4, "objections they raise to others' proposals"),
    "would_change_mind": (str, 300, "what evidence would change their mind"),
    "temperament": (str, 200, "their tone in debate"),
}


def draft_model(fields: tuple[str, ...]) -> type[MoveModel]:
    """The structured answer for `fields`: each field's value, then `<field>_quote`, the id of its evidence."""
    spec: dict[str, Any] = {}
    for f in fields:
        kind, limit, _ = _SPEC[f]
        if kind is list:
            item = Annotated[str, Field(max_length=60 if f == "vocabulary" else 160)]
            spec[f] = (list[item], Field(min_length=1, max_length=limit))
        else:
            spec[f] = (str, Field(max_length=limit))
        spec[f + "_quote"] = (str, ...)
    return create_model("CardDraft", __base__=MoveModel, **spec)


def draft_messages(author: str, listing: str, fields: tuple[str, ...]) -> list[Message]:
    asks = "\n".join(f"- {f}: {_SPEC[f][2]}; {f}_quote: the id of the sentence that shows it" for f in fields)
    task = (f"Numbered sentences from the writings of {author}:\n{listing}\n\n"
            f"Describe how {author} thinks, from these writings only, as a persona card:\n{asks}\n"
            "Write each field in the third person, briefly. Each quote must be the id of a sentence above that "
            "supports the field.")
    return [{"role": "system", "content": "You draft research persona cards from a person's own writings, "
                                          "claiming nothing the writings do not show. Answer only with JSON."},
            {"role": "user", "content": task}]


def backed(draft: dict[str, Any], book: QuoteBook, fields: tuple[str, ...]) -> tuple[dict[str, Any], list[Evidence]]:
    """The fields of a draft whose quote resolves to a verbatim corpus sentence, with that evidence."""
    values: dict[str, Any] = {}
    evidence: list[Evidence] = []
    for f in fields:
        value = draft.get(f)
        if isinstance(value, list):
            value = [" ".join(str(v).split()) for v in value if str(v).strip()]
        elif isinstance(value, str):
            value = " ".join(value.split())
        quote = book.resolve(str(draft.get(f + "_quote", "")))
        if not value or quote is None:
            continue
        values[f] = value
        evidence.append(Evidence(field=f, quote=quote.text, source=quote.source))
    return values, evidence


async def draft_card(llm: LLM, files: list[CorpusFile], name: str, author: str, meter: Meter, *, seed: int,
                     with_stances: bool = True) -> Persona:
    """A card for `author` from `files`: fields with verbatim evidence (one re-ask for unbacked fields), and
    the author's stances unless `with_stances` is off. `corpus` and `sources` are the caller's to set."""
    book = QuoteBook(files)
    if not book.quotes:
        raise LLMError("the corpus has no quotable sentences (six words or more)")
    values: dict[str, Any] = {}
    evidence: list[Evidence] = []
    todo = CARD_FIELDS
    for attempt in range(2):
        model = draft_model(todo)
        schema = schema_for(model, enums={f + "_quote": book.ids() for f in todo})
        draft = await meter.ask(llm, draft_messages(author, book.listing(), todo), model, schema,
                                seed=seed + 7 * attempt, max_tokens=900)
        got, ev = backed(draft.model_dump(), book, todo)
        values.update(got)
        evidence += ev
        todo = tuple(f for f in todo if f not in got)
        if not todo:
            break
        meter.notes.append(f"{'re-asked' if attempt == 0 else 'left empty'} (no verbatim quote): {', '.join(todo)}")
    missing = [f for f in REQUIRED if f not in values]
    if missing:
        raise LLMError(f"could not back {', '.join(missing)} with a verbatim quote from the corpus after a "
                       "re-ask; try a larger corpus or a stronger model")
    stances: list[Stance] = []
    if with_stances:
        stances = await extract(llm, book, author, meter, seed=seed + 1000)
    return Persona(name=name, display_name=author, evidence=evidence, stances=stances, **values)


def sources_of(files: list[CorpusFile]) -> list[Source]:
    return [Source(path=f.source, sha256=f.sha256) for f in files]


def unverified(card: Persona, files: list[CorpusFile]) -> list[str]:
    """Quotes of a card (evidence and stances) that are not verbatim in `files` (empty when the card checks)."""
    book = QuoteBook(files)
    quotes = [(e.quote, e.source) for e in card.evidence] + [(s.quote, s.source) for s in card.stances]
    return [f"{src}: {q[:60]}" for q, src in quotes if not book.check(q, src)]
