"""Quotable sentences of a corpus, numbered for a model to point at, and the verbatim check every quote passes.

A drafter shown `[q12] (file.md) sentence…` answers with `q12`; under constrained decoding (llama.cpp grammar,
vLLM guided JSON) it can only name real ids, so its quotes are verbatim by construction. A server that ignores
the schema may answer with free text instead: that text is kept only if it occurs word for word in the corpus
(and then its source is the file it occurs in); anything else is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from gauntlet.agents.corpus_files import CorpusFile, is_verbatim, normalise, sentences


@dataclass(frozen=True)
class Quote:
    id: str
    source: str
    text: str


class QuoteBook:
    """The numbered sentences of some corpus files, and the files' texts to check free-text quotes against."""

    def __init__(self, files: list[CorpusFile], *, limit: int = 400) -> None:
        self.files = files
        self.quotes: list[Quote] = []
        for f in files:
            for s in sentences(f.text):
                if len(self.quotes) >= limit:
                    break
                self.quotes.append(Quote(f"q{len(self.quotes) + 1}", f.source, s))
        self.by_id = {q.id: q for q in self.quotes}

    def ids(self, source: str | None = None) -> list[str]:
        return [q.id for q in self.quotes if source is None or q.source == source]

    def listing(self, source: str | None = None) -> str:
        """The sentences as prompt lines `[q3] (file) text`."""
        return "\n".join(f"[{q.id}] ({q.source}) {q.text}" for q in self.quotes
                         if source is None or q.source == source)

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
