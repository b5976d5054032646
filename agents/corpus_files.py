"""A corpus's files as text: Markdown, plain text, reStructuredText, and PDF (text extracted with pypdf), with
the SHA-256 of each file so a card can record exactly which writings it was drafted from.

The text of a file here is the one every other part uses: retrieval chunks it, the drafter quotes it, and the
verbatim check compares quotes against it, so a quote from a PDF is checked against the PDF's extracted text.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from gauntlet.errors import InputError

TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".rst")
SUFFIXES = TEXT_SUFFIXES + (".pdf",)
MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class CorpusFile:
    source: str  # path relative to the corpus directory, with / separators
    sha256: str
    text: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_text(raw: bytes, *, name: str = "") -> str:
    """The text of a PDF's pages, one page per paragraph; an unreadable PDF is a user error naming the file."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - a hostile or broken PDF fails in many ways inside pypdf
        raise InputError(f"cannot extract text from PDF ({type(exc).__name__})", file=name,
                         fix="re-save the PDF, or convert it to text with `pdftotext`") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def decode(raw: bytes, suffix: str, *, name: str = "") -> str:
    """A file's text by its suffix (PDF through pypdf, everything else as UTF-8), line endings normalised."""
    raw = raw[:MAX_FILE_BYTES]
    text = pdf_text(raw, name=name) if suffix.lower() == ".pdf" else raw.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def list_files(directory: Path, *, field: str = "corpus") -> list[Path]:
    """The corpus files under a directory, in a stable order (hidden files and a top README.md skipped)."""
    if not directory.is_dir():
        raise InputError(f"corpus directory {str(directory)!r} not found", field=field,
                         fix="create it, or give the folder of the writings")
    files = [p for p in sorted(directory.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(directory).parts)
             and p.relative_to(directory).as_posix().lower() != "readme.md"]
    if not files:
        raise InputError(f"corpus {str(directory)!r} has no {'/'.join(SUFFIXES)} files", field=field,
                         fix="add Markdown, text, reStructuredText or PDF files")
    return files


def read_corpus(directory: Path, *, field: str = "corpus") -> list[CorpusFile]:
    """Every file of a corpus as text with its hash; files with no text (e.g. a scanned PDF) are skipped."""
    out = []
    for path in list_files(directory, field=field):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read corpus file ({exc.strerror})", file=str(path),
                             fix="check permissions") from None
        text = decode(raw, path.suffix, name=str(path))
        if text.strip():
            out.append(CorpusFile(path.relative_to(directory).as_posix(), sha256(raw), text))
    if not out:
        raise InputError(f"corpus {str(directory)!r} has no extractable text", field=field,
                         fix="scanned PDFs need OCR first; add text files")
    return out


def normalise(text: str) -> str:
    """Whitespace folded to single spaces: a quote that only re-wraps lines is still verbatim."""
    return " ".join(text.split())


def is_verbatim(quote: str, text: str) -> bool:
    """Whether `quote` occurs word for word in `text` (whitespace-insensitive; a quote under 4 words is not
    evidence of anything)."""
    q = normalise(quote)
    return len(q.split()) >= 4 and q in normalise(text)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def sentences(text: str) -> list[str]:
    """The quotable sentences of a text, each verbatim up to whitespace: paragraphs split at sentence ends;
    headings, reST underlines and fragments under 6 words left out."""
    out = []
    underline = re.compile(r"\s*([=\-~^*`])\1{2,}\s*")
    for para in re.split(r"\n\s*\n", text):
        raw_lines = para.strip().splitlines()
        keep = [ln for i, ln in enumerate(raw_lines)
                if ln.strip() and not ln.lstrip().startswith("#") and not underline.fullmatch(ln)
                and not (i + 1 < len(raw_lines) and underline.fullmatch(raw_lines[i + 1]))]  # a reST title
        for s in _SENTENCE_END.split(normalise(" ".join(keep))):
            if len(s.split()) >= 6:
                out.append(s)
    return out
