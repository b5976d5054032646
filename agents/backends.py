"""Pick the backend a config asks for. Backends share the one `LLM` protocol in agents.llm."""

from __future__ import annotations

from agents.embedded import EmbeddedBackend
from agents.llm import LLM
from agents.openai_backend import OpenAIBackend
from gauntlet.config import ModelConfig


def make_llm(cfg: ModelConfig, seed: int = 0) -> LLM:
    if cfg.backend == "openai":
        return OpenAIBackend.from_config(cfg)
    return EmbeddedBackend.from_config(cfg, seed=seed)


def describe(cfg: ModelConfig) -> str:
    if cfg.backend == "openai":
        return f"openai:{cfg.name or 'default'}@{cfg.base_url}"
    from agents.embedded import DEFAULT_MODEL
    return f"embedded:{cfg.path or DEFAULT_MODEL.name}"
