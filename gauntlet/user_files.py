"""Reading a file a user named: one-line errors (file, fix) for every way it can fail, before any parsing."""

from __future__ import annotations

from pathlib import Path

from gauntlet.errors import InputError


def read_user_bytes(path: Path, *, max_bytes: int, kind: str, too_big_fix: str) -> bytes:
    """The file's bytes, or InputError naming the file and the fix (missing, a directory, unreadable, too big)."""
    try:
        if path.stat().st_size > max_bytes:
            raise InputError(f"{kind} is over {_size(max_bytes)}", file=str(path), fix=too_big_fix)
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{kind} not found", file=str(path), fix="check the path") from None
    except IsADirectoryError:
        raise InputError(f"is a directory, not a {kind}", file=str(path), fix=f"give a {kind}") from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=str(path), fix="check permissions") from None


def read_user_text(path: Path, *, max_bytes: int, kind: str, too_big_fix: str) -> str:
    """As read_user_bytes, decoded as UTF-8 (anything else is an InputError)."""
    raw = read_user_bytes(path, max_bytes=max_bytes, kind=kind, too_big_fix=too_big_fix)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{kind} is not UTF-8 text", file=str(path), fix="save it as UTF-8") from None


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"
