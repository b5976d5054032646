"""Clones from writings: corpus reading (PDF included), the verbatim check, `persona new` end to end against the
synthetic OpenAI-compatible server, re-asking for fabricated quotes, and re-embedding only edited files."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gauntlet.agents.cloning import draft_card
from gauntlet.agents.corpus_files import is_verbatim, normalise, read_corpus, sentences
from gauntlet.agents.metered import Meter
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.persona import CARD_FIELDS, load_card
from gauntlet.testing.synthetic_server import running_server
from gauntlet.ui.cli import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "runs" / "corpora" / "ines-varga"


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text is `lines` (Helvetica), built with pypdf's object model."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    body = "BT /F1 12 Tf 72 720 Td " + " 0 -14 Td ".join(f"({line}) Tj" for line in lines) + " ET"
    stream = DecodedStreamObject()
    stream.set_data(body.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The shipped test corpus plus one PDF, copied so tests may edit it."""
    d = tmp_path / "corpus"
    shutil.copytree(CORPUS, d)
    (d / "debate-notes.pdf").write_bytes(make_pdf([
        "Debate helps only when the judge can check the final step of the argument.",
        "I reject the idea that persuasiveness to a weak judge tracks truth in general."]))
    return d


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GAUNTLET_PERSONAS", str(tmp_path / "personas"))
    monkeypatch.setenv("GAUNTLET_EMBED_CACHE", str(tmp_path / "embeddings.sqlite"))
    from gauntlet.agents import corpus
    corpus.default_store.cache_clear()
    yield tmp_path / "personas"
    corpus.default_store.cache_clear()  # the next test's store is its own again


def test_sentences_skip_headings_and_the_check_is_whitespace_insensitive():
    text = "Title\n=====\n\n# A heading line\nFirst real sentence of the body here. Second one\nwraps over a line.\n"
    assert sentences(text) == ["First real sentence of the body here.", "Second one wraps over a line."]
    assert is_verbatim("Second one\n   wraps over a line.", text)
    assert not is_verbatim("Second one wraps over the line.", text)  # one word changed
    assert not is_verbatim("a line.", text)  # too short to be evidence of anything


def test_prompts_show_a_bounded_evenly_spread_sample_but_any_real_sentence_resolves():
    from gauntlet.agents.corpus_files import CorpusFile
    from gauntlet.agents.quotes import QuoteBook
    big = CorpusFile("big.md", "0" * 64, " ".join(f"Sentence number {i} of the long file." for i in range(300)))
    small = CorpusFile("small.md", "1" * 64, "The only sentence of the small file is here.")
    book = QuoteBook([big, small])
    assert len(book.quotes) == 301 and len(book.ids()) == 41 and len(book.ids("big.md")) == 40
    assert book.ids("small.md") == ["q301"] and "q301" in book.ids()  # every file is represented
    assert "number 0 " in book.listing("big.md") and "number 292 " in book.listing("big.md")  # start to end
    assert book.resolve("q150").text == "Sentence number 149 of the long file."
    assert book.resolve("Sentence number 7 of the long file.").source == "big.md"
    assert book.resolve("Sentence number 7 of the short file.") is None


def test_pdf_files_are_read_through_pypdf(corpus: Path):
    files = {f.source: f for f in read_corpus(corpus)}
    assert "README.md" not in files and len(files) == 6
    pdf = files["debate-notes.pdf"]
    assert "judge can check the final step" in pdf.text
    assert pdf.sha256 == hashlib.sha256((corpus / "debate-notes.pdf").read_bytes()).hexdigest()


def test_persona_new_writes_a_card_whose_every_quote_is_verbatim(corpus: Path, env: Path, synthetic_url: str):
    runner = CliRunner()
    res = runner.invoke(app, ["persona", "new", "ines-varga", "--from", str(corpus), "--author", "Ines Varga",
                              "--model-url", synthetic_url, "--model-name", "synthetic", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    path = Path(doc["card"])
    assert path.parent == env
    card = load_card(path)  # validated like any card
    raw = {p.relative_to(corpus).as_posix(): p for p in corpus.rglob("*") if p.is_file()}
    texts = {f.source: f.text for f in read_corpus(corpus)}
    # Every field the card fills is backed by evidence, and every quote (evidence and stances) is verbatim.
    filled = {f for f in CARD_FIELDS if getattr(card, f)}
    assert {"discipline", "worldview"} <= filled and filled == {e.field for e in card.evidence}
    assert card.stances, "the synthetic server answers every extraction, so stances exist"
    for q in [(e.quote, e.source) for e in card.evidence] + [(s.quote, s.source) for s in card.stances]:
        assert normalise(q[0]) in normalise(texts[q[1]]), q
    assert {s.stance for s in card.stances} <= {"agree", "disagree"}
    # Provenance: sources with the hash of the exact bytes, and the corpus link resolving to the folder.
    assert {s.path: s.sha256 for s in card.sources} == {
        k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in raw.items() if k != "README.md"}
    assert Path(card.corpus) == corpus.resolve()
    listed = json.loads(runner.invoke(app, ["personas", "--json"]).stdout)
    mine = [c for c in listed if c["origin"] == "user"]
    assert [c["name"] for c in mine] == ["ines-varga"] and mine[0]["evidence"] == len(card.evidence)
    # Re-running after editing one file re-embeds that file only.
    first_index = doc["index"]
    assert len(first_index["embedded"]) == 6
    edited = corpus / "compute-and-policy.rst"
    edited.write_text(edited.read_text() + "\nI also think audits should be public.\n")
    again = runner.invoke(app, ["persona", "new", "ines-varga", "--from", str(corpus), "--model-url", synthetic_url,
                                "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["index"]["embedded"] == ["compute-and-policy.rst"]


def test_a_fabricated_quote_is_dropped_and_its_field_re_asked(corpus: Path, env: Path):
    files = read_corpus(corpus)
    real = "Control is tractable because it is an engineering problem with a measurable target."
    first = {f: ("empirical ML safety" if f == "discipline" else ["red teams"] if f in ("vocabulary",
             "typical_objections") else f"{f} text") for f in CARD_FIELDS}
    # A server that ignores the schema answers free text: one real quote, one invented in the author's voice.
    first.update({f + "_quote": real for f in CARD_FIELDS})
    first["worldview_quote"] = "I believe interpretability will solve alignment by 2030."
    second = {"worldview": "Deploy what you cannot verify, but control it.", "worldview_quote": real}

    async def go():
        with running_server(script=[json.dumps(first), json.dumps(second)]) as url:
            llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
            meter = Meter()
            try:
                card = await draft_card(llm, files, "ines-varga", "Ines Varga", meter, seed=3, with_stances=False)
            finally:
                await llm.aclose()
            return card, meter

    card, meter = asyncio.run(go())
    assert card.worldview == "Deploy what you cannot verify, but control it."
    assert all("2030" not in e.quote for e in card.evidence)
    assert {e.field: e.source for e in card.evidence}["worldview"] == "control-before-alignment.md"
    assert meter.notes == ["re-asked (no verbatim quote): worldview"] and meter.calls == 2


@pytest.mark.parametrize("args, needle", [
    (["persona", "new", "Bad Name", "--from", "."], "NAME"),
    (["persona", "new", "ok", "--from", "/nonexistent/dir"], "--from"),
    (["eval", "clone", "security-engineer"], "no corpus"),
    (["eval", "clone", "no-such-card"], "CARD"),
    (["persona", "new", "ok", "--from", str(ROOT / "runs" / "corpora" / "ines-varga"), "--model-url",
      "http://127.0.0.1:9/v1"], "model.base_url"),
    (["persona", "new", "ok", "--from", str(ROOT / "runs" / "corpora" / "ines-varga"), "--out",
      str(ROOT / "README.md")], "--out"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, env):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output


def test_a_broken_pdf_or_an_unwritable_out_is_one_line(corpus: Path, env: Path, synthetic_url: str, tmp_path: Path):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF garbage")
    res = CliRunner().invoke(app, ["persona", "new", "x", "--from", str(corpus), "--model-url", synthetic_url])
    assert res.exit_code == 2 and "broken.pdf" in res.output and "Traceback" not in res.output
    (corpus / "broken.pdf").unlink()
    (tmp_path / "afile").write_text("")
    res = CliRunner().invoke(app, ["persona", "new", "x", "--from", str(corpus), "--out", str(tmp_path / "afile"),
                                   "--model-url", synthetic_url])
    assert res.exit_code == 2 and "cannot write the card" in res.output
    assert not list(tmp_path.glob("afile*.tmp"))
