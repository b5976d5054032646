"""Critique validation, as pure functions: each critique quotes the words of its target it attacks.

A critique whose anchor is a verbatim (normalised) substring of its target attacks it; a near miss is snapped to
the real span; a miss is re-asked once (the move does the asking), and what still misses is kept as an
unanchored comment: an `answers` edge that attacks nothing. Supports need no anchor.
"""

from __future__ import annotations

from typing import Any

from gauntlet.agents import prompts
from gauntlet.agents.schemas import ATTACK_KINDS, CritiqueItem
from gauntlet.graphs.argument.anchors import Anchor, locate, openings, spans, widen
from gauntlet.graphs.protocols.state import Edge, Node

# A critique kind implies a flaw type when the critic named none.
_KIND_FLAW = {"counterexample": "counterexample", "missing_assumption": "unstated_assumption",
              "unfaithful_formalisation": "unfaithful_formalisation"}

Placed = tuple[CritiqueItem, Anchor, bool]  # the item, where its anchor sits, whether it came from the re-ask


def anchor_text(n: Node) -> str:
    """The words of a node a critique may quote: what critics are shown of it."""
    return n.get("text", "")


def quotable(targets: list[Node]) -> dict[str, list[str]]:
    """target id → the openings of its quotable spans, for the critique schema's per-target anchor enum (`place`
    widens an opening back to its span)."""
    return {t["id"]: openings(spans(anchor_text(t))) for t in targets}


def first_per_target_kind(items: list[CritiqueItem], ids: list[str]) -> list[CritiqueItem]:
    """Known targets only (a non-constraining server may send others), one critique per (target, kind)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        if item.target in ids and (item.target, item.kind) not in seen:
            seen.add((item.target, item.kind))
            out.append(item)
    return out


def place(items: list[CritiqueItem], by_id: dict[str, Node], reasked: bool = False) -> list[Placed]:
    # Only a formal result has a formalisation to be unfaithful to; elsewhere that kind is a plain objection.
    items = [it.model_copy(update={"kind": "objection", "failed_check": "", "flaw_type": (
                 "none" if it.flaw_type == "unfaithful_formalisation" else it.flaw_type)})
             if it.kind == "unfaithful_formalisation" and by_id[it.target].get("kind") != "formal_result" else it
             for it in items]
    return [(it, _located(it.anchor, anchor_text(by_id[it.target])), reasked) for it in items]


def _located(anchor: str, text: str) -> Anchor:
    """Where an anchor sits: a span's opening (what the schema's enum offers) stands for the whole span."""
    return locate(widen(anchor, spans(text)), text)


def misses(placed: list[Placed]) -> list[int]:
    """Indices of attacks whose anchor is in no real span of their target."""
    return [i for i, (it, a, _) in enumerate(placed) if it.kind in ATTACK_KINDS and a.match == "none"]


def reask_lines(placed: list[Placed], missed: list[int], by_id: dict[str, Node]) -> list[tuple[str, str, str]]:
    return [(placed[i][0].target, placed[i][0].anchor, anchor_text(by_id[placed[i][0].target])) for i in missed]


def merge_reasked(placed: list[Placed], missed: list[int], again: list[Placed]) -> list[Placed]:
    """Each missed critique replaced by the re-ask's first unused answer on the same target and kind whose anchor
    now matches; the rest stay as they were (and become unanchored comments)."""
    out = list(placed)
    used: set[int] = set()
    for i in missed:
        item = placed[i][0]
        for j, (new, anchor, _) in enumerate(again):
            if j not in used and new.target == item.target and new.kind == item.kind and anchor.match != "none":
                used.add(j)
                out[i] = (new, anchor, True)
                break
    return out


def critique_records(placed: list[Placed], who: str, rnd: int, id_prefix: str) -> tuple[list[Node], list[Edge]]:
    """Critique nodes and their edges: an anchored attack `attacks`, an unanchored one only `answers`, a
    support `supports`. Node data carries anchor, flaw_type, severity, failed_check and how the anchor matched."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    for i, (item, anchor, reasked) in enumerate(placed):
        n, e = critique_record(item, anchor, who, rnd, f"{id_prefix}-{i + 1}", reasked=reasked)
        nodes.append(n)
        edges.append(e)
    return nodes, edges


def critique_record(item: CritiqueItem, anchor: Anchor, who: str, rnd: int, cid: str, *, reasked: bool = False,
                    title: str = "", max_chars: int = 360, **extra: Any) -> tuple[Node, Edge]:
    """One critique node and its edge (see critique_records); `title` replaces the kind as the node's title and
    `extra` goes into its data (a protocol's own fields, e.g. a tournament match's index)."""
    attack = item.kind in ATTACK_KINDS
    flaw = item.flaw_type if item.flaw_type != "none" or not attack else _KIND_FLAW.get(item.kind, "none")
    data: dict[str, Any] = {
        "critique_kind": item.kind, "target": item.target, "anchor": anchor.quote,
        "anchor_match": anchor.match, "anchor_span": [anchor.start, anchor.end],
        "flaw_type": flaw if attack else "none", "severity": item.severity if attack else "minor",
        "failed_check": item.failed_check if item.kind == "unfaithful_formalisation" else "",
        "reasked": reasked, **extra}
    if anchor.match != "exact" and item.anchor:
        data["anchor_given"] = item.anchor[:240]  # what the critic wrote, for a reader to judge the snap
    title = title or item.kind.replace("_", " ")
    if attack and anchor.match == "none":
        data["unanchored"] = True
        title = "comment (unanchored " + title + ")"
        kind = "answers"
    else:
        kind = "attacks" if attack else "supports"
    return ({"id": cid, "kind": "critique", "persona": who, "round": rnd, "title": title,
             "text": prompts.tidy(item.text, max_chars), "data": data},
            {"src": cid, "dst": item.target, "kind": kind})
