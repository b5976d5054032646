"""The ICCMA reasoning tasks on a framework: SE (some extension), EE (every extension, streamed with a limit),
DC / DS (credulous / sceptical acceptance of one argument), answered as JSON documents or in the ICCMA 2023 output
conventions:
    SE:  `w a1 a2 …` (the witness extension) or `NO` when there is none (stable only);
    DC:  `YES` then `w …` (a witness extension containing the argument), or `NO`;
    DS:  `YES`, or `NO` then `w …` (a counterexample extension without the argument);
    EE:  one `w …` line per extension (ICCMA 2023 dropped enumeration; this keeps its witness-line form).
Without a task, `plain` gives the shapes `gauntlet af` has always printed: grounded `{"in", "out", "undec"}`, the
others `{"extensions": [...]}` with every extension.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterator

import numpy as np

from gauntlet.errors import InputError
from gauntlet.graphs.argument.af_names import Names, names
from gauntlet.graphs.argument.directional import decide
from gauntlet.graphs.argument.framework import AF
from gauntlet.graphs.argument import scc
from gauntlet.graphs.argument.sat_engine import SEMANTICS, Engine
from gauntlet.graphs.argument.semantics import IN, OUT, UNDEC, grounded_labels

TASKS = ("SE", "EE", "DC", "DS")


def check(semantics: str, task: str | None, arg: str | None) -> None:
    """Refuse bad option combinations before any file is read."""
    if semantics not in SEMANTICS:
        raise InputError(f"unknown semantics {semantics!r}", field="--semantics",
                         fix="use grounded, complete, preferred or stable")
    if task is not None and task not in TASKS:
        raise InputError(f"unknown task {task!r}", field="--task", fix="use SE, EE, DC or DS")
    if task in ("DC", "DS") and arg is None:
        raise InputError(f"--task {task} needs the argument to decide", field="--arg", fix="add --arg A")
    if arg is not None and task not in ("DC", "DS"):
        raise InputError("--arg is only for --task DC or DS", field="--arg", fix="add --task DC or --task DS")


def _position(af: AF, arg: str, source: str) -> int:
    i = af.index_of(arg)
    if i is None:
        raise InputError(f"no argument {arg!r} in the framework", file=source, field="--arg",
                         fix="name a declared argument (ICCMA .af files number them 1..N)")
    return i


def plain(af: AF, semantics: str, limit: int, source: str, fixed: dict | None = None) -> dict[str, Any]:
    """The task-less JSON shapes."""
    if semantics == "grounded":
        label = grounded_labels(af.n, af.src, af.dst, *af.pin_indices(fixed))
        return {k: names(af, np.flatnonzero(label == v)) for k, v in (("in", IN), ("out", OUT), ("undec", UNDEC))}
    exts = []
    for ext in scc.extensions(af, fixed, semantics):
        if len(exts) == limit:
            raise InputError(f"more than {limit} {semantics} extensions", file=source, field="--limit",
                             fix=f"raise --limit, or use --task SE / --task EE to stream them")
        exts.append(af.names_of(ext))
    return {"extensions": sorted(exts, key=lambda e: [str(x) for x in e])}


def run_task(af: AF, semantics: str, task: str, arg: str | None, limit: int, source: str,
             emit_line: Callable[[str], None] | None = None, fixed: dict | None = None) -> dict[str, Any]:
    """Answer one task. With emit_line, ICCMA text lines are written as they are found (EE streams)."""
    doc: dict[str, Any] = {"task": task, "semantics": semantics}
    say = emit_line or (lambda _line: None)
    if task == "SE":
        ext = Engine(af, fixed).some_extension(semantics)  # type: ignore[arg-type]
        doc["extension"] = None if ext is None else names(af, ext)
        say("NO" if ext is None else _w(doc["extension"]))
    elif task == "EE":
        exts = []
        for ext in _limited(scc.extensions(af, fixed, semantics), limit):
            exts.append(af.names_of(ext))
            say(_w(exts[-1]))
        if not exts:
            say("NO")  # no extension at all (stable semantics only)
        doc.update(extensions=exts, count=len(exts), limit_reached=len(exts) == limit)
    else:
        yes, cert = decide(af, fixed, _position(af, arg, source), semantics, task)  # type: ignore[arg-type]
        doc.update(arg=arg, accepted=yes)
        doc["witness" if task == "DC" else "counterexample"] = None if cert is None else af.names_of(cert)
        say("YES" if yes else "NO")
        if cert is not None:
            say(_w(af.names_of(cert)))
    return doc


def _limited(items: Iterator, limit: int) -> Iterator:
    for k, item in enumerate(items):
        if k == limit:
            return
        yield item


def _w(args: list | Names) -> str:
    if isinstance(args, Names):
        return "w " + args.text() if len(args) else "w"
    return " ".join(["w", *map(str, args)])


def plain_lines(doc: dict[str, Any]) -> Iterator[str]:
    """The task-less answer as text: `in: 1 3`, `out: 2`, `undec:` (grounded), or `extensions: [...]`."""
    for k, v in doc.items():
        if isinstance(v, Names):
            yield f"{k}: {v.text()}"
        else:
            yield f"{k}: {' '.join(map(str, v)) if k != 'extensions' else v}"


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON for large documents, indented otherwise. A large list of names that need no escaping is
    written with one join (json's encoder takes ~0.2 s per million names); the text is the same either way."""
    size = sum(len(v) for v in doc.values() if isinstance(v, (list, Names)))
    if size <= 10_000:
        return json.dumps({k: list(v) if isinstance(v, Names) else v for k, v in doc.items()}, ensure_ascii=False,
                          indent=2)
    return "{" + ", ".join(f"{json.dumps(k)}: {_compact(v)}" for k, v in doc.items()) + "}"


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _compact(value: Any) -> str:
    if isinstance(value, Names) and value.af.names is None:  # ICCMA numbers: digits, nothing to escape
        return "[" + value.text(", ", '"') + "]"
    if isinstance(value, Names):
        value = list(value)
    if isinstance(value, list) and value and all(type(x) is str for x in value):
        joined = '", "'.join(value)
        if _NEEDS_ESCAPE.search(joined) is None:
            return f'["{joined}"]'
    return json.dumps(value, ensure_ascii=False)
