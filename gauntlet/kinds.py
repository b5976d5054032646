"""The debate's vocabulary, shared by every layer: what kinds of nodes, edges and events the argument graph and
the event log hold, and the closed sets of values the semantics depend on (severities, ruling outcomes, rebuttal
actions, formal verdicts). Core: imports nothing of the project. The payload models built on these words are in
`gauntlet.payloads`."""

from __future__ import annotations

from typing import Literal, get_args

NodeKind = Literal["idea", "claim", "critique", "rebuttal", "judgement", "formal_result", "human_note", "ruling",
                   "toy_case", "intuition", "match"]
EdgeKind = Literal["attacks", "supports", "refines", "formalises", "answers"]
EventKind = Literal["run_started", "run_resumed", "run_forked", "round_started", "llm_call", "node", "edge",
                    "check", "budget_reached", "run_finished", "run_failed", "run_interrupted"]
RunStatus = Literal["running", "interrupted", "done", "failed"]
IdeaStatus = Literal["standing", "shot_down", "undecided"]

# Critiques: what a critic says is wrong, how badly, and what the jury made of it.
CritiqueKind = Literal["objection", "counterexample", "missing_assumption", "unfaithful_formalisation", "support"]
FlawType = Literal["counterexample", "unstated_assumption", "proxy_goodhart", "does_not_scale", "evaluator_fooled",
                   "deceptive_alignment", "unsupported_empirical", "known_prior_result", "unfaithful_formalisation",
                   "none"]
Severity = Literal["fatal", "major", "minor"]
RulingOutcome = Literal["sustained", "overruled", "contested"]
RebuttalAction = Literal["concede", "revise", "counter"]
ClaimKind = Literal["theorem", "empirical"]
# Formal results: a verdict only from a formalisation that passed every check, else an abstention.
FormalVerdict = Literal["proved", "refuted", "not_formalisable", "rejected", "unknown", "error"]
# The gate's checks a critic may name as the one that failed (an `unfaithful_formalisation` critique).
FormalCheck = Literal["parse", "copy_guard", "symbol_table", "vacuity", "back_translation", "agreement", "unanimity",
                      "witness"]

NODE_KINDS: tuple[str, ...] = get_args(NodeKind)
EDGE_KINDS: tuple[str, ...] = get_args(EdgeKind)
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
IDEA_STATUSES: tuple[str, ...] = get_args(IdeaStatus)
FORMAL_VERDICTS: tuple[str, ...] = get_args(FormalVerdict)
FORMAL_CHECKS: tuple[str, ...] = get_args(FormalCheck)
