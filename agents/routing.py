"""Several endpoints, routed per persona (e.g. a strong judge, cheaper critics), behind the one LLM protocol.

The debate nodes ask `for_persona(ctx.llm, name)` for the backend of the persona that is speaking; a plain
backend answers for everyone, a RoutedLLM picks by persona name, then by role, then the default.
"""

from __future__ import annotations

from typing import Any, Sequence

from gauntlet.agents import content_free_store
from gauntlet.agents.backends import make_llm
from gauntlet.agents.launch import served_name
from gauntlet.agents.llm import (LLM, ChoiceScores, Completion, HiddenState, LLMError, Message, back_to_back,
                                 reads_hidden_states)
from gauntlet.agents.server_share import SharedServer
from gauntlet.config import ModelConfig, RunConfig


class RoutedLLM:
    """An LLM that dispatches each persona's calls to its endpoint's backend; closes them (and releases the
    leases on launched servers: the last process using one stops it)."""

    def __init__(self, default: LLM, backends: dict[str, LLM], persona_endpoint: dict[str, str],
                 servers: list[SharedServer] | None = None) -> None:
        self.default = default
        self.backends = backends
        self.persona_endpoint = persona_endpoint
        self.servers = servers or []
        self.name = "routed:" + ",".join([default.name] + [b.name for b in backends.values()])

    def for_persona(self, persona: str) -> LLM:
        where = self.persona_endpoint.get(persona, "default")
        return self.backends.get(where, self.default)

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None, grammar: str | None = None) -> Completion:
        # Calls that name no persona (e.g. tools) go to the default endpoint.
        return await self.default.complete(messages, schema, seed=seed, max_tokens=max_tokens,
                                           temperature=temperature, grammar=grammar)

    async def score(self, messages: list[Message], choices: Sequence[str], *,
                    seed: int | None = None) -> ChoiceScores:
        return await self.default.score(messages, choices, seed=seed)

    def reads_hidden_states(self) -> bool:
        return reads_hidden_states(self.default)

    async def hidden_state(self, messages: list[Message], layer: int | None = None) -> HiddenState:
        """Calls without a persona go to the default endpoint (only where it reads hidden states)."""
        if not reads_hidden_states(self.default):
            raise LLMError(f"{self.default.name} gives no hidden states")
        return await self.default.hidden_state(messages, layer)  # type: ignore[attr-defined]

    def stable_identity(self) -> str | None:
        """Calls without a persona (scored questions) go to the default endpoint: its identity."""
        return content_free_store.stable_identity(self.default)

    def exclusive(self) -> Any:
        """Calls without a persona go to the default endpoint, so a back-to-back section is the default's."""
        return back_to_back(self.default)

    async def aclose(self) -> None:
        try:
            for llm in [self.default, *self.backends.values()]:
                await llm.aclose()
        finally:
            for server in self.servers:
                server.release()


def for_persona(llm: LLM, persona: str) -> LLM:
    """The backend that speaks for `persona` (the LLM itself unless it routes)."""
    pick = getattr(llm, "for_persona", None)
    return pick(persona) if callable(pick) else llm


def persona_endpoints(cfg: RunConfig) -> dict[str, str]:
    """persona name → endpoint name; a persona's own route beats its role's (judge, critics, proposers)."""
    out: dict[str, str] = {}
    roles = (("proposers", cfg.panel.proposers), ("critics", cfg.panel.critics),
             ("judge", [cfg.panel.judge] if cfg.panel.judge else []))
    for role, names in roles:
        if role in cfg.routes:
            for n in names:
                out.setdefault(n, cfg.routes[role])
    for who, where in cfg.routes.items():
        if who not in ("proposers", "critics", "judge"):
            out[who] = where
    return out


def attached(cfg: ModelConfig, base_url: str) -> ModelConfig:
    """The endpoint config that talks to a launched (or shared) server at base_url instead of launching."""
    update: dict[str, object] = {"base_url": base_url, "launch": False, "name": served_name(cfg)}
    if cfg.launch_engine == "llama.cpp" and cfg.structured_output == "auto":
        update["structured_output"] = "json_object"  # known dialect: skip the one refused request
    return cfg.model_copy(update=update)


def _launched(cfg: ModelConfig, servers: list[SharedServer]) -> ModelConfig:
    """Start (or attach to) the server of a launch: true endpoint; the config with its base_url filled in."""
    if not cfg.launch:
        return cfg
    server = SharedServer(cfg)
    url = server.acquire()
    servers.append(server)
    return attached(cfg, url)


def make_run_llm(cfg: RunConfig) -> LLM:
    """The LLM a run uses: one backend as before, or a RoutedLLM when there are endpoints or launches."""
    if not cfg.endpoints and not cfg.model.launch:
        return make_llm(cfg.model, seed=cfg.seed)
    servers: list[SharedServer] = []
    try:
        default = make_llm(_launched(cfg.model, servers), seed=cfg.seed)
        backends = {name: make_llm(_launched(m, servers), seed=cfg.seed) for name, m in cfg.endpoints.items()}
    except BaseException:
        for s in servers:
            s.release()
        raise
    return RoutedLLM(default, backends, persona_endpoints(cfg), servers)
