"""The debate's vocabulary, shared by every layer: what kinds of nodes, edges and events the argument graph and
the event log hold. Core: imports nothing of the project."""

from __future__ import annotations

from typing import Literal, get_args

NodeKind = Literal["idea", "claim", "critique", "rebuttal", "judgement", "formal_result", "human_note", "ruling",
                   "toy_case", "intuition", "match"]
EdgeKind = Literal["attacks", "supports", "refines", "formalises", "answers"]
EventKind = Literal["run_started", "run_resumed", "run_forked", "round_started", "llm_call", "node", "edge",
                    "check", "budget_reached", "run_finished", "run_failed", "run_interrupted"]
RunStatus = Literal["running", "interrupted", "done", "failed"]
IdeaStatus = Literal["standing", "shot_down", "undecided"]

NODE_KINDS: tuple[str, ...] = get_args(NodeKind)
EDGE_KINDS: tuple[str, ...] = get_args(EdgeKind)
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
IDEA_STATUSES: tuple[str, ...] = get_args(IdeaStatus)
