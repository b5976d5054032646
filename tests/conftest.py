"""Shared fixtures: a real store file, a real OpenAI-compatible server on 127.0.0.1 (the synthetic test double)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.testing.synthetic_server import running_server
from gauntlet.graphs.run.loading import LoadedConfig, load_config
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import Store

# The tests' content-free passes and prefix states go to stores of their own, never to (or from) the user's cache
# (agents/content_free_store.py, agents/prefix_store.py); subprocesses inherit them.
_STORES = Path(tempfile.mkdtemp(prefix="gauntlet-tests-"))
os.environ.setdefault("GAUNTLET_CONTENT_FREE_CACHE", str(_STORES / "content-free.sqlite"))
os.environ.setdefault("GAUNTLET_PREFIX_STORE", str(_STORES / "prefix-states.sqlite"))

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "runs" / "configs" / "demo.yaml"


@pytest.fixture(scope="session")
def synthetic_url() -> str:
    """A synthetic OpenAI-compatible server (test double for an inference engine), shared by the session."""
    with running_server(latency_ms=0) as url:
        yield url


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "gauntlet.sqlite"))


@pytest.fixture
def demo() -> LoadedConfig:
    return load_config(DEMO)


def run_debate(store: Store, loaded: LoadedConfig, url: str) -> str:
    """A full debate against an OpenAI-compatible server; returns the run id."""
    async def go() -> str:
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
        try:
            return await Runner(store, llm=llm).start(loaded)
        finally:
            await llm.aclose()
    return asyncio.run(go())


@pytest.fixture(scope="module")
def llamacpp_url(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the embedded GGUF, started the way `model.launch` does it
    (launch_engine: llama.cpp, through a shared-server lease). Module scope: a module's slow tests share one
    server, and it is gone before the next module runs the model in-process."""
    from gauntlet.agents.server_share import SharedServer
    from gauntlet.config import ModelConfig
    from gauntlet.testing.synthetic_server import free_port

    cfg = ModelConfig(backend="openai", launch=True, launch_engine="llama.cpp", launch_port=free_port(),
                      n_ctx=2048, launch_timeout_s=300)
    server = SharedServer(cfg, root=tmp_path_factory.mktemp("servers"))
    url = server.acquire()
    assert server.started
    try:
        yield url
    finally:
        server.release()
