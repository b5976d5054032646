"""A persona's corpus: its writings chunked, embedded locally and kept in SQLite, searched for each debate turn.

Vectors are cached by (embedding model, SHA-256 of the file), so editing one file re-embeds only that file and
moving or renaming files re-embeds nothing. The cache is one SQLite file ($GAUNTLET_EMBED_CACHE, default
~/.cache/gauntlet/embeddings.sqlite); search is exact cosine similarity in numpy, which is fast enough for the
thousands of chunks a persona's notes make and needs no extension.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from gauntlet.agents import embeddings
from gauntlet.agents.corpus_files import decode, list_files
Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Passage:
    source: str  # file path relative to the corpus directory
    text: str
    score: float

    def citation(self) -> dict[str, str | float]:
        return {"source": self.source, "passage": self.text, "score": round(self.score, 4)}


def cache_path() -> Path:
    env = os.environ.get("GAUNTLET_EMBED_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gauntlet" / "embeddings.sqlite"


# --- chunking ---------------------------------------------------------------------------------------------
def chunk_text(text: str, *, max_words: int = 110, overlap: int = 25) -> list[str]:
    """Paragraph-packed chunks of at most `max_words` words. A chunk is prefixed with its Markdown heading so a
    passage cut from the middle of a section still says what it is about; a paragraph longer than the limit is
    split into overlapping windows so no sentence is lost at a boundary."""
    chunks: list[str] = []
    heading = ""
    buf: list[str] = []

    def flush() -> None:
        if buf:
            body = " ".join(buf)
            chunks.append(f"{heading}: {body}" if heading else body)
            buf.clear()

    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        para = para.strip()
        if not para:
            continue
        m = re.match(r"^#{1,6}\s+(.*)$", para.splitlines()[0])
        if m:
            flush()
            heading = m.group(1).strip()
            para = "\n".join(para.splitlines()[1:]).strip()
            if not para:
                continue
        words = para.split()
        if len(words) > max_words:
            flush()
            step = max(1, max_words - overlap)
            for s in range(0, len(words), step):
                buf.extend(words[s:s + max_words])
                flush()
                if s + max_words >= len(words):
                    break
            continue
        if sum(len(b.split()) for b in buf) + len(words) > max_words:
            flush()
        buf.append(" ".join(words))
    flush()
    return chunks


def corpus_files(directory: Path, *, who: str = "") -> list[Path]:
    """The files of a corpus (text, Markdown, reST, PDF), in a stable order; an empty or missing corpus is a
    user error."""
    return list_files(directory, field=f"{who}.corpus" if who else "corpus")


# --- the vector store -------------------------------------------------------------------------------------
class VectorStore:
    """Embeddings in SQLite: chunks of files keyed by content hash, and loose texts keyed by their own hash."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = path
        self.model = model
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS chunks (model TEXT, file_hash TEXT, idx INTEGER, text TEXT, "
                       "vec BLOB, PRIMARY KEY (model, file_hash, idx))")
            db.execute("CREATE TABLE IF NOT EXISTS texts (model TEXT, text_hash TEXT, vec BLOB, "
                       "PRIMARY KEY (model, text_hash))")

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per operation: debate branches call in from several threads.
        return sqlite3.connect(self.path, timeout=30)

    def file_chunks(self, file_hash: str) -> list[tuple[str, np.ndarray]] | None:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT text, vec FROM chunks WHERE model=? AND file_hash=? ORDER BY idx",
                              (self.model, file_hash)).fetchall()
        return [(t, np.frombuffer(v, dtype=np.float32)) for t, v in rows] or None

    def put_file_chunks(self, file_hash: str, chunks: list[str], vecs: np.ndarray) -> None:
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
                           [(self.model, file_hash, i, t, vecs[i].astype(np.float32).tobytes())
                            for i, t in enumerate(chunks)])

    def texts(self, hashes: list[str]) -> dict[str, np.ndarray]:
        with closing(self._connect()) as db:
            out = {}
            for h in hashes:
                row = db.execute("SELECT vec FROM texts WHERE model=? AND text_hash=?", (self.model, h)).fetchone()
                if row:
                    out[h] = np.frombuffer(row[0], dtype=np.float32)
            return out

    def put_texts(self, items: dict[str, np.ndarray]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?, ?)",
                           [(self.model, h, v.astype(np.float32).tobytes()) for h, v in items.items()])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def embed_texts(texts: Sequence[str], store: VectorStore, encode: Encode) -> np.ndarray:
    """Embeddings of arbitrary texts (idea statements), cached by text hash."""
    hashes = [_sha(t.encode()) for t in texts]
    have = store.texts(list(dict.fromkeys(hashes)))
    missing = [h for h in dict.fromkeys(hashes) if h not in have]
    if missing:
        first = {h: t for h, t in zip(hashes, texts)}
        vecs = encode([first[h] for h in missing])
        fresh = dict(zip(missing, vecs))
        store.put_texts(fresh)
        have.update(fresh)
    return np.stack([have[h] for h in hashes]) if texts else np.zeros((0, embeddings.DIM), dtype=np.float32)


class Corpus:
    """One persona's corpus, indexed on first use; `search` returns the passages nearest a query."""

    def __init__(self, directory: Path, store: VectorStore, encode: Encode, *, who: str = "",
                 only: frozenset[str] | None = None) -> None:
        self.directory = directory
        self.store = store
        self.encode = encode
        self.who = who
        self.only = only  # restrict to these sources (relative paths), e.g. the training half of an eval split
        self.embedded: list[str] = []  # sources embedded afresh by the last indexing (the rest came from cache)
        self._index: tuple[list[str], list[str], np.ndarray] | None = None
        self._lock = threading.Lock()

    def index(self) -> tuple[list[str], list[str], np.ndarray]:
        """(sources, texts, matrix) of every chunk; unchanged files come from the cache."""
        with self._lock:
            if self._index is None:
                sources: list[str] = []
                texts: list[str] = []
                vecs: list[np.ndarray] = []
                for path in corpus_files(self.directory, who=self.who):
                    rel = path.relative_to(self.directory).as_posix()
                    if self.only is not None and rel not in self.only:
                        continue
                    raw = path.read_bytes()
                    digest = _sha(raw)
                    cached = self.store.file_chunks(digest)
                    if cached is None:
                        chunks = chunk_text(decode(raw, path.suffix, name=str(path)))
                        if not chunks:
                            continue
                        mat = self.encode(chunks)
                        self.store.put_file_chunks(digest, chunks, mat)
                        self.embedded.append(rel)
                        cached = list(zip(chunks, mat))
                    for text, vec in cached:
                        sources.append(rel)
                        texts.append(text)
                        vecs.append(vec)
                mat = np.stack(vecs) if vecs else np.zeros((0, embeddings.DIM), dtype=np.float32)
                self._index = (sources, texts, mat)
            return self._index

    def search(self, query: str, k: int = 2, *, min_score: float = 0.1) -> list[Passage]:
        """The k chunks most similar to the query (cosine), best first, above `min_score`."""
        sources, texts, mat = self.index()
        if not texts or not query.strip():
            return []
        q = self.encode([query])[0]
        scores = mat @ q
        order = np.argsort(-scores, kind="stable")[:k]
        return [Passage(sources[i], texts[i], float(scores[i])) for i in order if scores[i] >= min_score]


@lru_cache(maxsize=1)
def default_store() -> VectorStore:
    enc = embeddings.encoder()
    return VectorStore(cache_path(), f"{embeddings.MODEL_ID}@{enc.fingerprint}")


@lru_cache(maxsize=64)
def corpus_for(directory: str, who: str = "") -> Corpus:
    """The process-wide Corpus for a directory (indexed once per process, cached on disk across runs)."""
    return Corpus(Path(directory), default_store(), embeddings.encoder().encode, who=who)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Cached embeddings of texts with the local model."""
    return embed_texts(texts, default_store(), embeddings.encoder().encode)


def passages_for(corpus_dir: str | None, who: str, query: str, k: int = 2) -> list[Passage]:
    """The passages a persona with a corpus retrieves for one turn ([] for a persona without one)."""
    if not corpus_dir:
        return []
    return corpus_for(corpus_dir, who).search(query, k)
