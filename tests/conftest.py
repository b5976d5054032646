"""Shared fixtures: a real store file, a real OpenAI-compatible server on 127.0.0.1 (the synthetic test double)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.testing.synthetic_server import running_server
from gauntlet.graphs.run.loading import LoadedConfig, load_config
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import Store

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
