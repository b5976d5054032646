"""Gauntlet: researcher clones that propose, critique and shoot down AI-alignment ideas.

The typed public API, re-exported here (imported lazily, so `import gauntlet` stays cheap):

    from gauntlet import load_config, Store, Runner, ArgumentGraph
    loaded = load_config("runs/configs/demo.yaml")
    run_id = asyncio.run(Runner(Store("runs/gauntlet.sqlite")).start(loaded))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RunConfig": "gauntlet.config", "LoadedConfig": "gauntlet.config", "load_config": "gauntlet.config",
    "parse_config": "gauntlet.config", "InputError": "gauntlet.errors", "RunPaused": "gauntlet.errors",
    "Persona": "agents.persona", "LLM": "agents.llm", "Completion": "agents.llm", "LLMError": "agents.llm",
    "OpenAIBackend": "agents.openai_backend", "EmbeddedBackend": "agents.embedded",
    "Store": "graphs.store", "NewEvent": "graphs.store", "Runner": "graphs.runner",
    "ArgumentGraph": "graphs.argument_graph", "grounded": "graphs.semantics", "preferred": "graphs.semantics",
    "Labelling": "graphs.semantics", "PROTOCOLS": "graphs.protocol", "show": "graphs.views",
    "transcript": "graphs.views", "load_graph": "graphs.views", "Verdict": "provers.claim",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from agents.embedded import EmbeddedBackend
    from agents.llm import LLM, Completion, LLMError
    from agents.openai_backend import OpenAIBackend
    from agents.persona import Persona
    from gauntlet.config import LoadedConfig, RunConfig, load_config, parse_config
    from gauntlet.errors import InputError, RunPaused
    from graphs.argument_graph import ArgumentGraph
    from graphs.protocol import PROTOCOLS
    from graphs.runner import Runner
    from graphs.semantics import Labelling, grounded, preferred
    from graphs.store import NewEvent, Store
    from graphs.views import load_graph, show, transcript
    from provers.claim import Verdict


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gauntlet' has no attribute {name!r}")
