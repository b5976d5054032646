"""Debate state for LangGraph: append-only lists merged by reducers, so parallel branches never clash."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, TypedDict

from gauntlet.agents.llm import LLM
from gauntlet.agents.corpus import Passage, passages_for
from gauntlet.agents.persona import Persona
from gauntlet.provers.cache import VerdictCache
from gauntlet.graphs.protocols.budget import Budget
from gauntlet.config import RunConfig


def _first_reason(old: str | None, new: str | None) -> str:
    """Parallel branches may all hit the budget in one step; keep the first reason."""
    return old or new or ""


class DebateState(TypedDict, total=False):
    # The plan lives in the state (not only the config) so a fork can change it from a checkpoint.
    round: int
    rounds: int
    proposers: list[str]
    critics: list[str]
    judge: str
    stopped: Annotated[str, _first_reason]  # set when a budget ends the debate; routing then goes to the end
    nodes: Annotated[list[dict[str, Any]], operator.add]
    edges: Annotated[list[dict[str, Any]], operator.add]
    calls: Annotated[list[dict[str, Any]], operator.add]


class Task(TypedDict):
    """The input of one fanned-out branch (sent with `Send`): who acts, in which round, on what."""

    persona: str
    round: int
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


@dataclass
class DebateContext:
    """Run-scoped, non-serialisable things nodes need (LangGraph passes it as the runtime context)."""

    run_id: str
    config: RunConfig
    personas: dict[str, Persona]
    llm: LLM
    budget: Budget = field(default_factory=Budget)
    # Prover verdicts cached in the run's own database (the runner hands it over); None: no cache.
    verdict_cache: VerdictCache | None = None
    # Retrieval over a persona's corpus: (corpus dir, persona, query) -> passages; tests and servers may swap it.
    retrieve: Callable[[str | None, str, str], list[Passage]] = passages_for


def task_for(state: DebateState, persona: str) -> Task:
    """The input of one persona's branch: who, which round, and the debate so far."""
    return {"persona": persona, "round": state["round"], "nodes": state.get("nodes", []),
            "edges": state.get("edges", [])}
