"""Rich progress for long runs, kept out of the runner so the runner stays free of terminal concerns."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gauntlet.config import LoadedConfig
from graphs.runner import Runner
from graphs.store import NewEvent, Store


def run_with_progress(store: Store, *, quiet: bool = False, start: LoadedConfig | None = None,
                      resume: str | None = None) -> str:
    """Start or resume a run, showing calls, nodes and attacks as they land (on stderr)."""
    console = Console(stderr=True)
    # SIGTERM (a scheduler or `kill`) ends the run like Ctrl-C: marked interrupted, resumable.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    counts = {"llm_call": 0, "node": 0, "attacks": 0}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  disable=quiet, transient=False) as progress:
        task = progress.add_task("starting", total=None)

        def on_event(e: NewEvent) -> None:
            if e.kind in counts:
                counts[e.kind] += 1
            if e.kind == "edge" and e.payload.get("kind") == "attacks":
                counts["attacks"] += 1
            phase = f"round {e.round} {e.phase}" if e.round else e.kind.replace("_", " ")
            progress.update(task, description=f"{phase:<24} calls {counts['llm_call']:>4}  "
                                              f"nodes {counts['node']:>5}  attacks {counts['attacks']:>5}")

        runner = Runner(store, on_event=on_event)
        if start is not None:
            return asyncio.run(runner.start(start))
        assert resume is not None
        return asyncio.run(runner.resume(resume))


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
