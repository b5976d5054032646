"""The names of a set of arguments, kept as positions until they are written out.

A grounded extension of 10⁷ arguments is one int64 array; turning it into 10⁷ Python strings costs seconds and
gigabytes, so answers hold a `Names` (a read-only sequence of the names) and writers ask it for its text, which
for ICCMA-numbered frameworks is made from the positions with numpy, never one Python object per argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Iterator, overload

import numpy as np

from gauntlet.graphs.argument.framework import AF

_CHUNK = 1 << 16


class Names(Sequence):
    """The names of arguments `idx` of `af`, in that order; compares equal to the list of the same names."""

    def __init__(self, af: AF, idx: np.ndarray) -> None:
        self.af = af
        self.idx = np.asarray(idx, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.idx.size)

    @overload
    def __getitem__(self, k: int) -> Any: ...
    @overload
    def __getitem__(self, k: slice) -> Names: ...

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            return Names(self.af, self.idx[k])
        return self.af.name(int(self.idx[k]))

    def __iter__(self) -> Iterator[Any]:
        for lo in range(0, self.idx.size, _CHUNK):
            yield from self.af.names_of(self.idx[lo:lo + _CHUNK])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Names):
            other = list(other)
        return isinstance(other, (list, tuple)) and len(other) == len(self) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Names({len(self)} arguments)"

    def text(self, sep: str = " ", quote: str = "") -> str:
        """The names joined by `sep`, each between `quote`s (`", "` and `"` make a JSON array's inside)."""
        if self.af.names is None:
            return decimal_text(self.idx + 1, sep.encode("ascii"), quote.encode("ascii")).decode("ascii")
        return sep.join(f"{quote}{x}{quote}" for x in self)


def decimal_text(values: np.ndarray, sep: bytes = b" ", quote: bytes = b"") -> bytes:
    """Non-negative integers written in decimal, each between `quote`s, joined by `sep`: the bytes of
    `sep.join(quote + str(v) + quote for v in values)`, built with numpy (no Python object per number).
    `quote` and `sep` must not contain a zero byte."""
    v = np.asarray(values)
    if v.size == 0:
        return b""
    if v.size > 1 and (v[1:] >= v[:-1]).all():  # ascending, as positions from flatnonzero are: one width a run
        cuts = np.searchsorted(v, 10 ** np.arange(1, len(str(int(v[-1])))), side="left")
        bounds = [0, *cuts.tolist(), v.size]
        text = b"".join(_rows(v[lo:hi], quote, sep).tobytes() for lo, hi in zip(bounds, bounds[1:]) if hi > lo)
    else:
        rows = _rows(v, quote, sep)
        text = rows[rows != 0].tobytes()
    return text[:len(text) - len(sep)]


def _rows(v: np.ndarray, quote: bytes, sep: bytes) -> np.ndarray:
    """A fixed-width row per number: quote, digits right-aligned, quote, sep. Where a number is shorter than the
    widest, the unused places are zero bytes (the caller drops them); rows of equal-width numbers have none."""
    top = int(v.max())
    rest = v.astype(np.uint32 if top < 1 << 32 else np.uint64)  # 32-bit division is the faster
    width = len(str(top))
    q, s = np.frombuffer(quote, np.uint8), np.frombuffer(sep, np.uint8)
    rows = np.zeros((v.size, q.size + width + q.size + s.size), dtype=np.uint8)
    rows[:, :q.size] = q
    rows[:, q.size + width:] = np.concatenate((q, s))
    for d in range(width):
        col = q.size + width - 1 - d
        if d:
            rest //= 10
            rows[:, col] = np.where(rest != 0, 48 + rest % 10, 0)  # past a number's first digit: a gap
        else:
            rows[:, col] = 48 + rest % 10
    return rows


def names(af: AF, idx: np.ndarray | list[int], *, eager_below: int = 100_000) -> list | Names:
    """The names of arguments idx: a plain list when short, a `Names` past `eager_below`."""
    idx = np.asarray(idx, dtype=np.int64)
    return af.names_of(idx) if idx.size < eager_below else Names(af, idx)
