"""Exports of a run's argument graph. Model text is untrusted: each format escapes it its own way."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import networkx as nx

from gauntlet.graphs.argument import coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.rulings import attack_fields, shot_down_by

FORMATS = ("json", "markdown", "argdown", "graphml")
RUN_FORMAT = "run"  # the whole run, re-importable: gauntlet.graphs.store.run_file


def _rule(run: dict[str, Any]) -> coverage.CoverageRule:
    r = run.get("coverage_rule") or {}
    return coverage.CoverageRule(int(r.get("min_critics_per_idea") or coverage.DEFAULT_MIN_CRITICS),
                                 tuple(r.get("critics") or ()))


def to_json(run: dict[str, Any], graph: ArgumentGraph) -> str:
    per = coverage.ideas_coverage(graph, _rule(run))
    doc = {"run": run,
           "nodes": [{"id": n.id, "kind": n.kind, "persona": n.persona, "round": n.round, "title": n.title,
                      "text": n.text, "data": n.data, "status": graph.status(n.id),
                      **({"critics": per[n.id]["critics"], "examined": per[n.id]["examined"],
                          "unruled": per[n.id]["unruled"]} if n.id in per else {})}
                     for n in graph.nodes.values()],
           "edges": [{"src": e.src, "dst": e.dst, "kind": e.kind, **_edge_fields(graph, e)} for e in graph.edges],
           "annotations": run.get("annotations", []),
           "coverage": coverage.summary(graph, _rule(run), stopped_by=(run.get("stats") or {}).get("stopped_by"))}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _edge_fields(graph: ArgumentGraph, e: Any) -> dict[str, Any]:
    """A critique's (or refutation's) attack edge carries ruling, anchor, flaw_type, severity, reason."""
    return attack_fields(graph.nodes[e.src], e.dst, graph.rulings) if e.kind == "attacks" else {}


def _ruling_note(graph: ArgumentGraph, e: Any) -> str:
    f = _edge_fields(graph, e)
    if not f:
        return ""
    anchor = f" on “{f['anchor']}”" if f.get("anchor") else ""
    why = f": {f['reason']}" if f.get("reason") else ""
    return f"{f['ruling']}, {f['flaw_type']}, {f['severity']}{anchor}{why}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<&])")


def md_escape(text: str) -> str:
    """Markdown-inert text: no raw HTML, links, images or emphasis survive."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def to_markdown(run: dict[str, Any], graph: ArgumentGraph) -> str:
    out = [f"# {md_escape(run['topic'])}", "",
           f"Run `{run['run_id']}` · status {run['status']} · model {md_escape(run.get('model', ''))}", ""]
    out += ["## Ideas", "", "| idea | by | status | score | critics | shot down by |", "|---|---|---|---|---|---|"]
    scores = graph.scores()
    per = coverage.ideas_coverage(graph, _rule(run))
    for n in graph.ideas():
        c = per[n.id]
        out.append(f"| {md_escape(n.title)} | {md_escape(n.persona)} | "
                   f"{coverage.status_mark(graph.status(n.id), c['examined'])} | {scores.get(n.id, '')} | "
                   f"{len(c['critics'])} of {c['required']} needed"
                   f"{'; unruled: ' + md_escape(', '.join(c['unruled'])) if c['unruled'] else ''} | "
                   f"{md_escape(', '.join(d['id'] for d in shot_down_by(graph, n.id)))} |")
    cov = coverage.summary(graph, _rule(run), stopped_by=(run.get("stats") or {}).get("stopped_by"))
    if cov.get("note"):
        out += ["", f"*Coverage:* {md_escape(cov['note'])} (an unexamined idea stands only because nobody "
                    "critiqued it)."]
    out += ["", "## Transcript", ""]
    for n in sorted(graph.nodes.values(), key=lambda n: n.seq):
        incoming, outgoing = graph.edges_of(n.id)
        rel = "; ".join(f"{e.kind} {e.dst}" for e in outgoing)
        out.append(f"- **{n.id}** ({n.kind} by {md_escape(n.persona or 'user')}, round {n.round}, "
                   f"{graph.status(n.id)}){' → ' + md_escape(rel) if rel else ''}: "
                   f"{md_escape(n.title + ': ' if n.title else '')}{md_escape(n.text)}")
        for c in n.data.get("citations") or []:  # passages from the persona's corpus it was grounded on
            out.append(f"  - cites *{md_escape(c.get('source', ''))}*: “{md_escape(c.get('passage', '')[:300])}”")
        out += _cites_markdown(n.data.get("cites") or [])
        for e in outgoing:  # the ruling on each attack; overruled ones stay visible, struck through
            note = _ruling_note(graph, e)
            if note:
                f = _edge_fields(graph, e)
                struck = "~~" if not f.get("counts", True) or f.get("ruling") == "overruled" else ""
                out.append(f"  - {struck}attack on {md_escape(e.dst)}: {md_escape(note)}{struck}")
        if n.kind == "formal_result":
            out += _formal_markdown(n.data)
    notes = run.get("annotations", [])
    if notes:
        out += ["", "## Reviewer annotations", ""]
        out += [f"- on {md_escape(a['node_id'])} ({a['kind']}{', ' + a['verdict'] if a.get('verdict') else ''}):"
                f" {md_escape(a['text'])}" for a in notes]
    return "\n".join(out) + "\n"


def _cite_text(c: dict[str, Any]) -> str:
    return f"{c.get('authors', '')} ({c.get('year', '')}). {c.get('title', '')}"


def _cites_markdown(cites: list[dict[str, Any]]) -> list[str]:
    """A critique's failure-mode-library sources: the entry and each citation, linked when the link is a plain
    web address (arXiv and DOI ids resolved); anything else stays escaped text."""
    from gauntlet.agents.failure_modes import link_url
    out = []
    for c in cites:
        url = link_url(str(c.get("link", "")))
        where = f"<{url}>" if url else md_escape(c.get("link", ""))
        out.append(f"  - library *{md_escape(c.get('entry', ''))}*: {md_escape(_cite_text(c))} {where}")
    return out


def _fenced(text: str, lang: str) -> list[str]:
    # A fence longer than any backtick run inside: formal text cannot close the block and inject Markdown.
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", text)), default=0))
    return [f"    {fence}{lang}", *(f"    {line}" for line in text.splitlines()), f"    {fence}"]


def _formal_markdown(data: dict[str, Any]) -> list[str]:
    """A formal result as a reviewer needs it: the words, the formal text, the assumptions, the verdict."""
    out = [f"  - claim: {md_escape(data.get('claim_text', ''))}"]
    out += [f"  - assumes: {md_escape(a)}" for a in data.get("assumptions") or []]
    for key, lang in (("smtlib", "smt2"), ("lean", "lean")):
        if data.get(key):
            out += [f"  - {'SMT-LIB' if key == 'smtlib' else 'Lean'}:", "", *_fenced(str(data[key]), lang), ""]
    verdict = f"  - verdict: {md_escape(data.get('verdict', ''))} by {md_escape(data.get('prover', ''))}"
    cex = data.get("counterexample")
    if cex:
        verdict += " · counterexample: " + md_escape(", ".join(f"{k} = {v}" for k, v in dict(cex).items()))
    from gauntlet.provers.gate import check_lines  # the gate's record: why a verdict was given or withheld
    return out + [verdict] + [f"  - {md_escape(line)}" for line in check_lines(data)]


def _argdown_text(text: str) -> str:
    # Argdown gives meaning to brackets, angle brackets, leading +/-/>/< and #tags; neutralise them.
    text = " ".join(str(text).split())
    return re.sub(r"[\[\]<>#@{}]", lambda m: {"[": "(", "]": ")", "<": "‹", ">": "›"}.get(m.group(0), " "),
                  text)


def to_argdown(run: dict[str, Any], graph: ArgumentGraph) -> str:
    out = [f"===\ntitle: {json.dumps(_argdown_text(run['topic']))}\n===", ""]
    label = {nid: re.sub(r"[^A-Za-z0-9_-]", "_", nid) for nid in graph.nodes}
    per = coverage.ideas_coverage(graph, _rule(run))
    for n in sorted(graph.nodes.values(), key=lambda n: n.seq):
        body = _argdown_text((n.title + ": " if n.title else "") + n.text)
        unexamined = " #unexamined" if n.id in per and not per[n.id]["examined"] else ""
        out.append(f"[{label[n.id]}]: {body} #{n.kind} #{graph.status(n.id)}{unexamined}")
        out += [f"  // cites {_argdown_text(c.get('entry', ''))}: {_argdown_text(_cite_text(c))} "
                f"{_argdown_text(c.get('link', ''))}" for c in n.data.get("cites") or []]
        for e in graph.edges:
            if e.src == n.id and e.kind in ("attacks", "supports"):
                sign = "-" if e.kind == "attacks" else "+"
                note = _ruling_note(graph, e)  # the ruling as an Argdown comment beside the relation
                out.append(f"  {sign}> [{label[e.dst]}]" + (f" // {_argdown_text(note)}" if note else ""))
            elif e.src == n.id:
                out.append(f"  // {e.kind} {label[e.dst]}")
        out.append("")
    return "\n".join(out)


_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_graphml(run: dict[str, Any], graph: ArgumentGraph) -> str:
    g = nx.MultiDiGraph(topic=_XML_BAD.sub("", run["topic"]), run_id=run["run_id"])
    per = coverage.ideas_coverage(graph, _rule(run))
    for n in graph.nodes.values():
        extra = {"examined": per[n.id]["examined"], "critics": len(per[n.id]["critics"])} if n.id in per else {}
        g.add_node(n.id, kind=n.kind, persona=n.persona, round=n.round, title=_XML_BAD.sub("", n.title),
                   text=_XML_BAD.sub("", n.text), status=graph.status(n.id), **extra)
    for e in graph.edges:
        g.add_edge(e.src, e.dst, kind=e.kind)
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8")  # networkx escapes XML text and attributes
    return buf.getvalue().decode("utf-8")


def render(fmt: str, run: dict[str, Any], graph: ArgumentGraph) -> str:
    return {"json": to_json, "markdown": to_markdown, "argdown": to_argdown, "graphml": to_graphml}[fmt](run, graph)
