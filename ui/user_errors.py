"""How every `gauntlet` command reports failures: one line on stderr, a meaningful exit code, no traceback."""

from __future__ import annotations

import functools
from typing import Any, Callable

import typer
from rich.console import Console

from gauntlet.agents.llm import LLMError
from gauntlet.errors import InputError, RunPaused

err = Console(stderr=True)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input → one line on stderr and exit 2; never a traceback for something the user can fix."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err.print(f"error: {exc.one_line()}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except (LLMError, RunPaused) as exc:
            # Not the user's input: the run is stored as interrupted and can be resumed.
            err.print(f"paused: {' '.join(str(exc).split())}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: the run is stored as interrupted; continue it with `gauntlet resume RUN_ID`",
                      markup=False, highlight=False)
            raise typer.Exit(130) from None
    return wrapper
