"""Gauntlet: researcher clones that propose, critique and shoot down AI-alignment ideas.

Layers, bottom to top; each imports only the ones below it (tests/test_layers.py checks it):

    gauntlet           core: config shape, kinds and typed payloads of nodes/edges/events, errors (imports nothing above)
    gauntlet.agents    persona cards, prompts, move schemas, LLM backends (on core)
    gauntlet.provers   formalisation, z3, Lean 4, screening, verdict cache (on core, agents' LLM protocol)
    gauntlet.graphs    argument graph + semantics, protocols, runner, store (on agents and provers)
    gauntlet.ui        the `gauntlet` CLI, the dashboard, benchmarks (on everything)

The typed public API, re-exported here (imported lazily, so `import gauntlet` stays cheap):

    from gauntlet import load_config, Store, Runner, ArgumentGraph
    loaded = load_config("runs/configs/demo.yaml")
    run_id = asyncio.run(Runner(Store("runs/gauntlet.sqlite")).start(loaded))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RunConfig": "gauntlet.config", "LoadedConfig": "gauntlet.graphs.run.loading",
    "load_config": "gauntlet.graphs.run.loading",
    "parse_config": "gauntlet.graphs.run.loading", "InputError": "gauntlet.errors", "RunPaused": "gauntlet.errors",
    "Persona": "gauntlet.agents.persona", "LLM": "gauntlet.agents.llm", "Completion": "gauntlet.agents.llm", "LLMError": "gauntlet.agents.llm",
    "OpenAIBackend": "gauntlet.agents.openai_backend", "EmbeddedBackend": "gauntlet.agents.embedded",
    "Store": "gauntlet.graphs.store.store", "NewEvent": "gauntlet.graphs.store.store", "Runner": "gauntlet.graphs.run.runner",
    "ArgumentGraph": "gauntlet.graphs.argument.argument_graph", "grounded": "gauntlet.graphs.argument.semantics", "preferred": "gauntlet.graphs.argument.sat_engine",
    "Labelling": "gauntlet.graphs.argument.semantics", "PROTOCOLS": "gauntlet.graphs.protocols.registry", "show": "gauntlet.graphs.store.views",
    "NodePayload": "gauntlet.payloads", "EdgePayload": "gauntlet.payloads", "LLMCallPayload": "gauntlet.payloads",
    "parse_payload": "gauntlet.payloads", "transcript": "gauntlet.graphs.store.views", "load_graph": "gauntlet.graphs.store.views", "Verdict": "gauntlet.provers.claim",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from gauntlet.agents.embedded import EmbeddedBackend
    from gauntlet.agents.llm import LLM, Completion, LLMError
    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.agents.persona import Persona
    from gauntlet.config import RunConfig
    from gauntlet.graphs.run.loading import LoadedConfig, load_config, parse_config
    from gauntlet.errors import InputError, RunPaused
    from gauntlet.payloads import EdgePayload, LLMCallPayload, NodePayload, parse_payload
    from gauntlet.graphs.argument.argument_graph import ArgumentGraph
    from gauntlet.graphs.protocols.registry import PROTOCOLS
    from gauntlet.graphs.run.runner import Runner
    from gauntlet.graphs.argument.sat_engine import preferred
    from gauntlet.graphs.argument.semantics import Labelling, grounded
    from gauntlet.graphs.store.store import NewEvent, Store
    from gauntlet.graphs.store.views import load_graph, show, transcript
    from gauntlet.provers.claim import Verdict


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gauntlet' has no attribute {name!r}")
