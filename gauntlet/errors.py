"""Errors a user can fix: each renders as one line naming where, what and how to fix it."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user: a config, a CLI argument, a file. The CLI prints it and exits 2."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None, fix: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.field) if p]
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        # One line, always: untrusted values may carry newlines.
        return " ".join(text.split())


class RunPaused(Exception):
    """A run stopped cleanly before finishing (budget, repeated LLM faults); it can be resumed."""
