"""What an eval is: a case loader, a per-case runner and a scorer (`EvalTask`), and what they are given
(`EvalContext`).

A task may also prepare once before its cases run (`prepare`, e.g. drafting the clone the cases question); what it
returns is journaled with the cases, so a resumed eval reuses it instead of preparing again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from gauntlet.graphs.evals.report import CaseResult


@dataclass
class EvalContext:
    """One eval run's settings and resources.

    `settings` are the options that change results: with the eval's name, its case file and `model` they key the
    journal, so a changed option never reuses another run's cases. `resources` hold what a task needs but does not
    journal (a store, a loaded config). `llm` is opened by the runner from `make_llm` and closed after the run.
    """
    model: str
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    make_llm: Callable[[], Any] | None = None
    llm: Any = None
    resources: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # what `prepare` returned (journaled)
    note: Callable[[str], None] = lambda line: None  # a progress line from inside a case (stderr)


@runtime_checkable
class EvalTask(Protocol):
    name: str
    default_file: Path | None  # the shipped set `gauntlet eval NAME` runs without FILE (None: FILE is required)

    def load(self, path: Path) -> list[Any]:
        """The cases of a file, read strictly (InputError naming file, item and field); each case has an `id`."""
        ...

    async def run_case(self, case: Any, ctx: EvalContext) -> CaseResult:
        ...

    def summarise(self, results: list[CaseResult], ctx: EvalContext) -> dict[str, Any]:
        """The eval's own figures and `baselines` ({name: {right, wrong, abstained, coverage, …}})."""
        ...


class Task:
    """Defaults for the optional parts of a task: no preparation, every loaded case runs."""
    name = ""
    default_file: Path | None = None

    def select(self, cases: list[Any], ctx: EvalContext) -> list[Any]:
        """The cases this run covers (options such as --only or --limit); the journal is shared by subsets."""
        return cases

    async def prepare(self, cases: list[Any], ctx: EvalContext) -> dict[str, Any] | None:
        """Work done once before the cases (journaled as JSON); None: nothing to prepare."""
        return None

    def prepared_cases(self, cases: list[Any], ctx: EvalContext) -> list[Any]:
        """The cases to run once prepared, `ctx.state` holding what `prepare` returned (a task whose cases come out
        of its preparation builds them here)."""
        return cases

    def fingerprint(self, path: Path, cases: Sequence[Any]) -> bytes:
        """What identifies the case set in the journal key: the file's bytes."""
        return path.read_bytes()
