"""Rulings inside the argumentation framework. Pure functions over nodes and edges, no I/O.

A critique is an argument that attacks its target, but the attack only *counts* once independent jurors have
sustained it, and only when the critique is anchored and fatal or major. The ruling is itself a node:

- sustained: the ruling attacks the rebuttals that countered the critique, so the critique stands (and, being
  unattacked, defeats its target);
- overruled: the ruling attacks the critique, which is then out and defeats nothing;
- contested (a split jury): the ruling and the critique attack each other, so under grounded semantics both,
  and so the target, are undecided unless something else settles it.

Replay, fork, overrides and the semantics therefore stay one thing: a reviewer's override pins a node's label as
before and wins over any ruling. Critiques written before rulings existed (no `severity` in their data) count
as plain attacks, so old runs read the same.
"""

from __future__ import annotations

from typing import Any, Iterable

from gauntlet.kinds import RulingOutcome

Outcome = RulingOutcome  # the core vocabulary (gauntlet.kinds)
DEFEATING = ("fatal", "major")


def outcome_of(votes: Iterable[str]) -> Outcome:
    """A jury's outcome: unanimous votes decide; any split (or no vote at all) is `contested`. Conservative on
    purpose: a critique defeats an idea only when every juror who ruled agrees it stands."""
    cast = set(votes)
    if cast == {"sustained"}:
        return "sustained"
    if cast == {"overruled"}:
        return "overruled"
    return "contested"


def ruling_edges(ruling_id: str, critique_id: str, outcome: Outcome,
                 counters: Iterable[str]) -> list[dict[str, str]]:
    """The edges that put a ruling's outcome into the framework (see the module docstring)."""
    if outcome == "overruled":
        return [{"src": ruling_id, "dst": critique_id, "kind": "attacks"}]
    edges = [{"src": ruling_id, "dst": c, "kind": "attacks"} for c in counters]
    if outcome == "sustained":
        return edges + [{"src": ruling_id, "dst": critique_id, "kind": "supports"}]
    return edges + [{"src": ruling_id, "dst": critique_id, "kind": "attacks"},
                    {"src": critique_id, "dst": ruling_id, "kind": "attacks"}]


def _data(node: Any) -> dict[str, Any]:
    return (node.get("data") if isinstance(node, dict) else getattr(node, "data", None)) or {}


def _kind(node: Any) -> str:
    return node.get("kind") if isinstance(node, dict) else getattr(node, "kind", "")


def rulings_by_critique(nodes: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """critique id → the data of its (latest) ruling node."""
    return {_data(n)["critique"]: {"id": n["id"] if isinstance(n, dict) else n.id, **_data(n)}
            for n in nodes if _kind(n) == "ruling" and _data(n).get("critique")}


def counts_as_attack(src: Any, dst_id: str, ruled: dict[str, dict[str, Any]]) -> bool:
    """Whether an `attacks` edge from node `src` enters the semantics. Only a critique's attack on its own
    target is filtered: it counts once ruled (pending critiques defeat nothing yet), anchored, and fatal or
    major (minor ones are revision requests). Every other attack (rulings, counters, refutations) counts.

    A contested critique counts whatever its severity: the critic's `minor` is a small model's unscored label
    (severity is scored only for sustained critiques), and it must not turn an undecided idea into a `standing`
    one. Seen on the panel set (honeypot tests): the textbook flaw, a treacherous turn, labelled minor, conceded by
    its author, the vote abstaining, and the idea shown `standing`; counted, the contested critique leaves it
    undecided."""
    data = _data(src)
    if _kind(src) != "critique" or "severity" not in data or data.get("target") != dst_id:
        return True
    node_id = src["id"] if isinstance(src, dict) else src.id
    if not data.get("anchor") or node_id not in ruled:
        return False
    ruling = ruled[node_id]
    return ruling.get("outcome") == "contested" or severity_of(data, ruling) in DEFEATING


def severity_of(critique_data: dict[str, Any], ruling: dict[str, Any] | None) -> str:
    """The severity that counts: the ruling's (the jury may have scored the critic's label) or the critic's."""
    return str((ruling or {}).get("severity") or critique_data.get("severity") or "")


def attack_fields(src: Any, dst_id: str, ruled: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What an export shows on an attack edge: ruling, anchor, flaw_type, severity, reason (empty when the
    attacker is not a critique). A prover's refutation is sustained by construction."""
    data = _data(src)
    if _kind(src) == "formal_result":
        return {"ruling": "sustained", "anchor": "", "flaw_type": "counterexample", "severity": "fatal",
                "reason": f"machine-checked: {data.get('verdict', '')} by {data.get('prover', '')}".strip()}
    if _kind(src) != "critique":
        return {}
    node_id = src["id"] if isinstance(src, dict) else src.id
    ruling = ruled.get(node_id)
    if "severity" not in data:
        state = "unruled (legacy)"
    else:
        state = ruling["outcome"] if ruling else "pending"
    out = {"ruling": state, "anchor": data.get("anchor", ""), "flaw_type": data.get("flaw_type", ""),
           "severity": severity_of(data, ruling), "reason": (ruling or {}).get("reason", ""),
           "counts": counts_as_attack(src, dst_id, ruled)}
    if data.get("target") and data.get("target") != dst_id:
        out["carried_from"] = data["target"]  # a revision that claimed to fix this critique and did not
    return out


def shot_down_by(graph: Any, idea_id: str) -> list[dict[str, Any]]:
    """What defeats an idea: its accepted (`in`) attackers whose attack counts — sustained critiques with their
    anchor, flaw and reason, machine-checked refutations — and a reviewer's override. Empty unless shot down."""
    if graph.status(idea_id) != "shot_down":
        return []
    out: list[dict[str, Any]] = []
    if graph.overrides.get(idea_id) in ("invalid", "rejected"):
        out.append({"id": idea_id, "kind": "override", "persona": "reviewer", "ruling": "override",
                    "reason": "a reviewer marked it " + graph.overrides[idea_id]})
    for src, dst in graph.attacks:
        if dst != idea_id or graph.labelling.label(src) != "in":
            continue
        n = graph.nodes[src]
        fields = attack_fields(n, idea_id, graph.rulings)
        # Independence: other critics who raised the same flaw type against this idea; a recurring
        # flaw is a more reliable one.
        also = sorted({graph.nodes[s].persona for s, d in graph.attacks if d == idea_id and s != src
                       and graph.nodes[s].kind == "critique" and graph.nodes[s].persona != n.persona
                       and graph.nodes[s].data.get("flaw_type") == fields.get("flaw_type")}) if n.kind == "critique" else []
        out.append({"id": src, "kind": n.kind, "persona": n.persona, "text": n.text, **fields, "also_raised_by": also})
    return out
