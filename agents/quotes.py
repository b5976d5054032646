"""Quotable sentences of a corpus, numbered for a model to point at, and the verbatim check every quote passes.

A drafter shown `[q12] (file.md) sentence…` answers with `q12`; under constrained decoding (llama.cpp grammar,
vLLM guided JSON) it can only name real ids, so its quotes are verbatim by construction. A server that ignores
the schema may answer with free text instead: that text is kept only if it occurs word for word in the corpus
(and then its source is the file it occurs in); anything else is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Sequence, TypeVar

from gauntlet.agents.corpus_files import CorpusFile, is_verbatim, normalise, sentences


T = TypeVar("T")


def spread(items: Sequence[T], n: int) -> list[T]:
    """At most n items, evenly spaced through the sequence, in order."""
    if len(items) <= n:
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


@dataclass(frozen=True)
class Quote:
    id: str
    source: str
    text: str


class QuoteBook:
    """The numbered sentences of some corpus files, and the files' texts to check free-text quotes against."""

    def __init__(self, files: list[CorpusFile], *, shown: int = 80, per_file: int = 40) -> None:
        self.files = files
        self.quotes: list[Quote] = []
        by_file: list[list[Quote]] = []
        for f in files:
            mine = [Quote(f"q{len(self.quotes) + i + 1}", f.source, s) for i, s in enumerate(sentences(f.text))]
            self.quotes += mine
            by_file.append(spread(mine, per_file))
        self.by_id = {q.id: q for q in self.quotes}
        self.per_file = per_file
        # What a prompt can hold (the embedded model has a 4k context): at most `per_file` sentences of a file,
        # `shown` in all, spread evenly so every file and every part of a file is represented.
        self.shown = {q.id for q in spread([q for qs in zip_longest(*by_file) for q in qs if q], shown)}

    def ids(self, source: str | None = None) -> list[str]:
        return [q.id for q in self.quotes if q.id in self.shown_for(source)]

    def shown_for(self, source: str | None) -> set[str]:
        if source is None:
            return self.shown
        return {q.id for q in spread([q for q in self.quotes if q.source == source], self.per_file)}

    def listing(self, source: str | None = None) -> str:
        """The sentences a prompt shows, as lines `[q3] (file) text`."""
        ids = self.shown_for(source)
        return "\n".join(f"[{q.id}] ({q.source}) {q.text}" for q in self.quotes if q.id in ids)

    def resolve(self, answer: str) -> Quote | None:
        """The verbatim quote a model's answer stands for: an id, or a free-text quote found in some file."""
        answer = (answer or "").strip().strip("[]")
        if answer in self.by_id:
            return self.by_id[answer]
        for f in self.files:
            if is_verbatim(answer, f.text):
                return Quote("", f.source, normalise(answer))
        return None

    def check(self, quote: str, source: str) -> bool:
        """Whether `quote` occurs verbatim in the file `source` (the after-the-fact check of a card's evidence)."""
        return any(f.source == source and is_verbatim(quote, f.text) for f in self.files)
