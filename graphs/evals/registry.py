"""The evals `gauntlet eval NAME` runs, and the extra figures added to an eval's report, one line each.

Entries are import paths ("module:attribute") so that naming an eval imports only that eval.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

from gauntlet.errors import InputError

# name -> the EvalTask instance
TASKS: dict[str, str] = {
    "formalise": "gauntlet.graphs.evals.formalise:TASK",
    "panel": "gauntlet.graphs.evals.panel:TASK",
    "clone": "gauntlet.graphs.evals.clone:TASK",
    "rulings": "gauntlet.graphs.evals.rulings:TASK",
}

# eval name -> functions (results, ctx) -> {figure: value}, merged into that eval's report after its own figures
FIGURES: dict[str, list[str]] = {
    "panel": [],
}


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


def task(name: str) -> Any:
    if name not in TASKS:
        raise InputError(f"no eval named {name!r}", field="NAME", fix=f"use one of {', '.join(sorted(TASKS))}")
    return _load(TASKS[name])


def extra_figures(name: str) -> list[Callable[..., dict[str, Any]]]:
    return [_load(ref) for ref in FIGURES.get(name, [])]
