"""Pick the backend a config asks for. Backends share the one `LLM` protocol in agents.llm."""

from __future__ import annotations

from gauntlet.agents.embedded import EmbeddedBackend
from gauntlet.agents.llm import LLM
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.config import ModelConfig


def make_llm(cfg: ModelConfig, seed: int = 0) -> LLM:
    if cfg.backend == "openai":
        return OpenAIBackend.from_config(cfg)
    return EmbeddedBackend.from_config(cfg, seed=seed)


def describe(cfg: ModelConfig) -> str:
    if cfg.backend == "openai" and cfg.launch:
        return f"openai:{cfg.name or 'embedded'}@launched {cfg.launch_engine} :{cfg.launch_port}"
    if cfg.backend == "openai":
        return f"openai:{cfg.name or 'default'}@{cfg.base_url}"
    from gauntlet.agents.embedded import DEFAULT_MODEL
    return f"embedded:{cfg.path or DEFAULT_MODEL.name}"


def check_reachable(cfg: ModelConfig, *, config_file: str = "") -> None:
    """Fail fast, before a run is created, when the configured endpoint does not answer at all."""
    if cfg.backend != "openai" or getattr(cfg, "launch", False):
        return
    import httpx

    from gauntlet.errors import InputError
    try:
        httpx.get(cfg.base_url.rstrip("/") + "/models", timeout=min(10.0, cfg.timeout_s))
    except httpx.HTTPError as exc:
        raise InputError(f"endpoint {cfg.base_url} is unreachable ({type(exc).__name__})", file=config_file,
                         field="model.base_url",
                         fix="start the server (e.g. `vllm serve MODEL`) or correct the URL") from None
