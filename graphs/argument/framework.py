"""An abstract argumentation framework in index form: n arguments 0..n-1 and attacks as two int64 arrays.

The engine works on this form so that large files never go through per-argument Python objects: a reader builds
the arrays once, names are looked up only for the arguments that are printed.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Sequence

import numpy as np


@dataclass
class AF:
    """n arguments, attacks src[k] → dst[k]. `names[i]` names argument i; None means ICCMA numbering 1..n."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    names: Sequence[Hashable] | None = None
    _index: dict | None = field(default=None, repr=False)

    @classmethod
    def from_pairs(cls, args: Sequence[Hashable], attacks: Iterable[tuple[Hashable, Hashable]]) -> "AF":
        """From named arguments and (attacker, target) pairs; ValueError naming an unknown argument."""
        args = list(dict.fromkeys(args))
        index = {a: i for i, a in enumerate(args)}
        flat = [x for pair in attacks for x in pair]
        try:
            idx = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))
        except KeyError as exc:
            raise ValueError(f"attack names an unknown argument: {exc.args[0]!r}") from None
        return cls(len(args), idx[0::2].copy(), idx[1::2].copy(), args, index)

    def name(self, i: int) -> Hashable:
        return str(i + 1) if self.names is None else self.names[i]

    def names_of(self, idx: Iterable[int]) -> list:
        if self.names is None:
            return list(map(str, (np.asarray(idx, dtype=np.int64) + 1).tolist()))
        idx = list(idx)
        if not idx:
            return []
        got = operator.itemgetter(*idx)(self.names)
        return list(got) if len(idx) > 1 else [got]

    def index_of(self, name: Hashable) -> int | None:
        """The position of a named argument, or None (ICCMA numbering accepts "7" and 7)."""
        if self.names is None:
            s = str(name)
            return int(s) - 1 if s.isascii() and s.isdigit() and 1 <= int(s) <= self.n else None
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.names)}
        return self._index.get(name)

    def pairs(self) -> list[tuple]:
        return list(zip(self.names_of(self.src.tolist()), self.names_of(self.dst.tolist())))

    def pin_indices(self, fixed: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """(pinned in, pinned out) positions of a {name: 'in'|'out'} map; ValueError on an unknown name/label."""
        pin_in, pin_out = [], []
        for arg, value in (fixed or {}).items():
            i = self.index_of(arg)
            if i is None:
                raise ValueError(f"fixed label for an unknown argument: {arg!r}")
            if value not in ("in", "out"):
                raise ValueError(f"fixed label must be 'in' or 'out', got {value!r}")
            (pin_in if value == "in" else pin_out).append(i)
        return np.asarray(pin_in, dtype=np.int64), np.asarray(pin_out, dtype=np.int64)


def csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, targets): the targets of i are targets[start[i]:start[i + 1]]."""
    order = _radix_order(src, n)  # the order of an argument's targets does not matter
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=start[1:])
    return start, dst[order]


def _radix_order(keys: np.ndarray, n: int) -> np.ndarray:
    """The permutation sorting keys in 0..n-1: by 16-bit digits with numpy's stable radix sort (linear; twice as
    fast as argsort's quicksort on 3M keys), up to 2^32 keys; argsort beyond."""
    if n <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    if n > 1 << 32:
        return np.argsort(keys)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def distinct(idx: np.ndarray, n: int | None = None) -> np.ndarray:
    """The distinct values of idx, ascending. Not np.unique: numpy 2.4's hashing unique takes ~27 s on 10⁷
    values, where a mask over 0..n-1 takes 0.03 s and a sort 1.4 s."""
    idx = np.asarray(idx, dtype=np.int64)
    if n is not None and idx.size * 8 >= n:
        mark = np.zeros(n, dtype=bool)
        mark[idx] = True
        return np.flatnonzero(mark)
    out = np.sort(idx)
    return out[np.concatenate(([True], out[1:] != out[:-1]))] if out.size else out


def ancestors(n: int, src: np.ndarray, dst: np.ndarray, roots: Sequence[int]) -> np.ndarray:
    """Sorted positions with an attack path to any root (roots included): the part of the framework that
    decides the roots' acceptance under directional semantics (grounded, complete, preferred)."""
    start, attackers = csr(n, dst, src)  # reversed: the attackers of i
    seen = np.zeros(n, dtype=bool)
    frontier = distinct(roots, n)
    seen[frontier] = True
    while frontier.size:
        lo, hi = start[frontier], start[frontier + 1]
        counts = hi - lo
        if counts.sum() == 0:
            break
        offsets = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        nxt = distinct(attackers[offsets], n)
        frontier = nxt[~seen[nxt]]
        seen[frontier] = True
    return np.flatnonzero(seen)
