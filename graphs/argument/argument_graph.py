"""ArgumentGraph: the debate as a typed graph, with Dung semantics deciding what still stands."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Literal

import networkx as nx

from gauntlet.graphs.argument.sat_engine import Semantics, extensions_of
from gauntlet.graphs.argument.semantics import Labelling, grounded
from gauntlet.graphs.argument.rulings import counts_as_attack, rulings_by_critique

Status = Literal["standing", "shot_down", "undecided"]
# The kinds of nodes and edges are the core vocabulary: gauntlet.kinds (NODE_KINDS, EDGE_KINDS).
_STATUS = {"in": "standing", "out": "shot_down", "undec": "undecided"}
# Reviewer overrides pin a node's label; the semantics then propagate from it.
_OVERRIDE_LABEL = {"valid": "in", "accepted": "in", "invalid": "out", "rejected": "out"}


@dataclass
class ArgNode:
    id: str
    kind: str
    persona: str = ""
    round: int = 0
    title: str = ""
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    seq: int = 0


@dataclass(frozen=True)
class ArgEdge:
    src: str
    dst: str
    kind: str


def _get(row: Any, name: str, default: Any = None) -> Any:
    return row.get(name, default) if isinstance(row, dict) else getattr(row, name, default)


class ArgumentGraph:
    """Nodes and edges of one run (optionally as of a step), plus pinned labels from provers and reviewers."""

    def __init__(self, nodes: Iterable[Any], edges: Iterable[Any], overrides: Iterable[Any] = ()) -> None:
        self.nodes: dict[str, ArgNode] = {}
        for r in nodes:
            if isinstance(r, dict) and isinstance(r.get("data"), dict):  # a debate state's node: no lookups per field
                self.nodes[r["id"]] = ArgNode(r["id"], r["kind"], r.get("persona", ""), r.get("round", 0),
                                              r.get("title", ""), r.get("text", ""), r["data"], r.get("seq", 0))
                continue
            data = _get(r, "data")
            if data is None:
                data = json.loads(_get(r, "data_json", "{}") or "{}")
            self.nodes[_get(r, "id")] = ArgNode(id=_get(r, "id"), kind=_get(r, "kind"),
                                                persona=_get(r, "persona", ""), round=_get(r, "round", 0),
                                                title=_get(r, "title", ""), text=_get(r, "text", ""),
                                                data=data, seq=_get(r, "seq", 0))
        self.edges = [ArgEdge(_get(e, "src"), _get(e, "dst"), _get(e, "kind")) for e in edges
                      if _get(e, "src") in self.nodes and _get(e, "dst") in self.nodes]
        self.overrides: dict[str, str] = {}
        for a in overrides:
            if _get(a, "kind") == "override" and _get(a, "node_id") in self.nodes:
                self.overrides[_get(a, "node_id")] = _get(a, "verdict")  # later overrides win

    @cached_property
    def digraph(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        for n in self.nodes.values():
            g.add_node(n.id, kind=n.kind, persona=n.persona, round=n.round, title=n.title)
        for e in self.edges:
            g.add_edge(e.src, e.dst, key=e.kind, kind=e.kind)
        return g

    @cached_property
    def rulings(self) -> dict[str, dict[str, Any]]:
        """critique id → its ruling's data (outcome, votes, reason)."""
        return rulings_by_critique(self.nodes.values())

    @cached_property
    def attacks(self) -> list[tuple[str, str]]:
        # A critique's attack counts only when it is anchored, fatal/major and ruled (see rulings.py);
        # what a ruling decided then enters as the ruling node's own edges.
        return [(e.src, e.dst) for e in self.edges
                if e.kind == "attacks" and counts_as_attack(self.nodes[e.src], e.dst, self.rulings)]

    def fixed(self) -> dict[str, Literal["in", "out"]]:
        """Pinned labels: proved formal results are in, refuting counterexamples are in; reviewers decide the rest."""
        pins: dict[str, Literal["in", "out"]] = {}
        # A verdict is only as good as its formalisation: one accused of unfaithfulness is argued, not pinned.
        disputed = {e.dst for e in self.edges if e.kind == "attacks"
                    and self.nodes[e.src].data.get("critique_kind") == "unfaithful_formalisation"}
        for n in self.nodes.values():
            if n.kind == "formal_result" and n.data.get("verdict") in ("proved", "refuted") and n.id not in disputed:
                pins[n.id] = "in"
        for node_id, verdict in self.overrides.items():
            if verdict in _OVERRIDE_LABEL:
                pins[node_id] = _OVERRIDE_LABEL[verdict]  # type: ignore[assignment]
        return pins

    @cached_property
    def labelling(self) -> Labelling:
        return grounded(list(self.nodes), self.attacks, self.fixed())

    def grounded(self) -> Labelling:
        return self.labelling

    def preferred(self) -> list[set[str]]:
        """Preferred extensions; pins and reviewer overrides hold here as in grounded."""
        return self.extensions("preferred")

    def extensions(self, semantics: Semantics, limit: int = 100_000) -> list[set[str]]:
        return extensions_of(list(self.nodes), self.attacks, semantics, self.fixed(), limit)

    def status(self, node_id: str) -> Status:
        return _STATUS[self.labelling.label(node_id)]  # type: ignore[return-value]

    def ideas(self) -> list[ArgNode]:
        return [n for n in self.nodes.values() if n.kind == "idea"]

    def attackers(self, node_id: str) -> list[ArgNode]:
        return [self.nodes[src] for src, dst in self.attacks if dst == node_id]  # counted attacks only

    def edges_of(self, node_id: str) -> tuple[list[ArgEdge], list[ArgEdge]]:
        """(incoming, outgoing) edges of a node."""
        return ([e for e in self.edges if e.dst == node_id], [e for e in self.edges if e.src == node_id])

    def scores(self) -> dict[str, float]:
        """The judge's latest score per idea."""
        out: dict[str, float] = {}
        for n in sorted(self.nodes.values(), key=lambda n: n.seq):
            if n.kind == "judgement":
                for s in n.data.get("scores", []):
                    if s.get("target") in self.nodes:
                        out[s["target"]] = float(s.get("score", 0))
        return out

    def summary(self) -> dict[str, Any]:
        """Counts and idea statuses, the shape `gauntlet show --json` prints."""
        return {
            "ideas": [{"id": n.id, "title": n.title, "persona": n.persona, "status": self.status(n.id),
                       "round": n.round, "score": self.scores().get(n.id),
                       "attacked_by": [a.id for a in self.attackers(n.id)]} for n in self.ideas()],
            "nodes": len(self.nodes),
            "edges": len(self.edges),
            "attacks": len(self.attacks),
        }
