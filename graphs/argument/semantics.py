"""Dung abstract argumentation: the grounded labelling in linear time, as plain functions (complete, preferred
and stable semantics are in sat_engine).

Arguments are any hashable values; attacks are (attacker, target) pairs. "Fixed" arguments (formal verdicts,
human overrides) keep the label they are given: attacks on them are ignored, and a fixed-out argument attacks
nothing. Everything else follows from the attack relation.
"""

from __future__ import annotations

import operator
from collections import deque
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Literal, Mapping, Sequence

Label = Literal["in", "out", "undec"]


@dataclass
class Labelling:
    """A three-valued labelling: accepted (in), rejected (out), neither (undec)."""

    inside: set = field(default_factory=set)
    out: set = field(default_factory=set)
    undec: set = field(default_factory=set)

    def label(self, arg: Hashable) -> Label:
        if arg in self.inside:
            return "in"
        if arg in self.out:
            return "out"
        return "undec"

    def as_json(self) -> dict[str, list]:
        return {"in": _sorted(self.inside), "out": _sorted(self.out), "undec": _sorted(self.undec)}


def _sorted(items: Iterable) -> list:
    return sorted(items, key=lambda x: (str(type(x)), x))


def _index(args: Sequence[Hashable], attacks: Iterable[tuple[Hashable, Hashable]]):
    pos = {a: i for i, a in enumerate(args)}
    n = len(args)
    targets: list[list[int]] = [[] for _ in range(n)]
    attackers: list[list[int]] = [[] for _ in range(n)]
    for a, b in attacks:
        try:
            i, j = pos[a], pos[b]
        except KeyError as exc:
            raise ValueError(f"attack names an unknown argument: {exc.args[0]!r}") from None
        targets[i].append(j)
        attackers[j].append(i)
    return pos, targets, attackers


def grounded(args: Sequence[Hashable], attacks: Iterable[tuple[Hashable, Hashable]],
             fixed: Mapping[Hashable, Literal["in", "out"]] | None = None) -> Labelling:
    """The grounded labelling (least fixed point of the characteristic function), in linear time."""
    args = list(dict.fromkeys(args))
    if len(args) >= _ARRAY_MIN_ARGS:
        return _grounded_arrays(args, attacks, fixed or {})
    pos, targets, attackers = _index(args, attacks)
    n = len(args)
    UNDEC, IN, OUT = 0, 1, 2
    label = [UNDEC] * n
    pinned = [False] * n
    live = [len(a) for a in attackers]  # attackers not yet out
    queue: deque[int] = deque()

    def set_out(t: int) -> None:
        label[t] = OUT
        for u in targets[t]:
            live[u] -= 1
            if live[u] == 0 and label[u] == UNDEC and not pinned[u]:
                queue.append(u)

    for arg, value in (fixed or {}).items():
        if arg not in pos:
            raise ValueError(f"fixed label for an unknown argument: {arg!r}")
        i = pos[arg]
        pinned[i] = True
    for arg, value in (fixed or {}).items():
        i = pos[arg]
        if value == "out":
            set_out(i)
        elif value == "in":
            queue.append(i)
        else:
            raise ValueError(f"fixed label must be 'in' or 'out', got {value!r}")
    for i in range(n):
        if live[i] == 0 and not pinned[i]:
            queue.append(i)
    while queue:
        i = queue.popleft()
        if label[i] != UNDEC:
            continue
        label[i] = IN
        for t in targets[i]:
            if label[t] == UNDEC and not pinned[t]:
                set_out(t)
    result = Labelling()
    for i, a in enumerate(args):
        (result.inside if label[i] == IN else result.out if label[i] == OUT else result.undec).add(a)
    return result


# From this size on, the same fixed point is computed on numpy arrays: per-argument Python lists cost ~6 s at
# 1M arguments / 3M attacks; the array version takes ~1 s (BENCHMARKS.md). Smaller frameworks keep the plain loop.
_ARRAY_MIN_ARGS = 20_000
# Below this many newly accepted arguments per wave, array calls cost more than they save (long chains).
_ARRAY_MIN_WAVE = 64


def _grounded_arrays(args: list[Hashable], attacks: Iterable[tuple[Hashable, Hashable]],
                     fixed: Mapping[Hashable, str]) -> Labelling:
    """`grounded` for large frameworks: the array algorithm on positions; same result."""
    import itertools

    import numpy as np

    pos = _LazyIndex(args)
    flat = _positions(args, pos, list(itertools.chain.from_iterable(attacks)))
    pin_in, pin_out = [], []
    for arg, value in fixed.items():
        try:
            i = pos[arg]
        except KeyError:
            raise ValueError(f"fixed label for an unknown argument: {arg!r}") from None
        if value not in ("in", "out"):
            raise ValueError(f"fixed label must be 'in' or 'out', got {value!r}")
        (pin_in if value == "in" else pin_out).append(i)
    label = grounded_labels(len(args), flat[0::2], flat[1::2], np.asarray(pin_in, dtype=np.int64),
                            np.asarray(pin_out, dtype=np.int64))
    out = Labelling()
    for value, bucket in ((IN, out.inside), (OUT, out.out), (UNDEC, out.undec)):
        idx = np.flatnonzero(label == value).tolist()
        if idx:
            picked = operator.itemgetter(*idx)(args)
            bucket.update(picked if len(idx) > 1 else (picked,))
    return out


UNDEC, IN, OUT = 0, 1, 2


def grounded_labels(n: int, src, dst, pin_in=None, pin_out=None, pin_undec=None):
    """The grounded labelling of arguments 0..n-1 (attacks src[k] → dst[k], int64 arrays) as an int8 array of
    UNDEC/IN/OUT, by waves of acceptance over a CSR attack matrix. Pinned arguments keep their label: attacks on
    them are ignored and a pinned-out argument attacks nothing; a pinned-undecided one stays undecided (it then
    neither defeats its targets nor lets them in), which lets a caller recompute part of a framework with its
    boundary held."""
    import numpy as np

    from gauntlet.graphs.argument.framework import csr, distinct

    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    start, targets = csr(n, src, dst)
    live = np.bincount(dst, minlength=n).astype(np.int64)  # attackers not yet out
    label = np.zeros(n, dtype=np.int8)
    stamp = np.empty(n, dtype=np.int64)  # scratch for _distinct
    pinned = np.zeros(n, dtype=bool)
    pin_in = np.zeros(0, np.int64) if pin_in is None else np.asarray(pin_in, dtype=np.int64)
    pin_out = np.zeros(0, np.int64) if pin_out is None else np.asarray(pin_out, dtype=np.int64)
    pinned[pin_in] = True
    pinned[pin_out] = True
    if pin_undec is not None:
        pinned[np.asarray(pin_undec, dtype=np.int64)] = True

    attacks_some = start[1:] != start[:-1]

    def targets_of(idx: np.ndarray) -> np.ndarray:
        idx = idx[attacks_some[idx]]  # most of a wave, e.g. 10⁷ unattacked arguments, attacks nothing
        if idx.size == 0:
            return idx
        lo, hi = start[idx], start[idx + 1]
        counts = hi - lo
        offsets = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return targets[offsets]

    def set_out(idx: np.ndarray) -> np.ndarray:
        """Label idx out; return the arguments this leaves with no live attacker (candidates for in)."""
        label[idx] = OUT
        hit = targets_of(idx)
        np.subtract.at(live, hit, 1)
        hit = hit[(live[hit] == 0) & (label[hit] == UNDEC) & ~pinned[hit]]
        return _distinct(hit, stamp)

    wave = [pin_in]
    if pin_out.size:
        wave.append(set_out(_distinct(pin_out, stamp)))
    wave.append(np.flatnonzero((live == 0) & ~pinned))
    frontier = distinct(np.concatenate(wave), n)
    while frontier.size >= _ARRAY_MIN_WAVE:
        frontier = frontier[label[frontier] == UNDEC]
        label[frontier] = IN
        hit = targets_of(frontier)
        frontier = set_out(_distinct(hit[(label[hit] == UNDEC) & ~pinned[hit]], stamp))
    if frontier.size:  # a thin tail (e.g. a long chain): finish it one argument at a time
        _finish_queue(frontier.tolist(), start, targets, label, live, pinned)
    return label


def _distinct(idx, stamp):
    """idx without repeats, in linear time (np.unique sorts): keep the position that wrote the stamp last."""
    import numpy as np

    at = np.arange(idx.size)
    stamp[idx] = at
    return idx[stamp[idx] == at]


class _LazyIndex(dict):
    """{argument: position}, built only if the fast integer lookup cannot be used (it costs ~0.3 s at 1M)."""

    def __init__(self, args: list[Hashable]) -> None:
        super().__init__()
        self._args = args

    def __missing__(self, key: Hashable) -> int:
        if len(self) < len(self._args):
            self.update((a, i) for i, a in enumerate(self._args))
            if key in self:
                return self[key]
        raise KeyError(key)


def _positions(args: list[Hashable], pos: dict[Hashable, int], names: list[Hashable]):
    """The index of each name in args, as an int64 array; ValueError naming the first unknown one."""
    import numpy as np

    # Integer arguments (ICCMA files, benchmarks) are looked up in a table, not by ~6M dict lookups (~5 s at 1M).
    if args and names:
        keys, wanted = np.array(args), np.array(names)
        # Same equality as the dict: Python and numpy ints (and bools) compare and hash alike.
        if keys.dtype.kind == "i" and wanted.dtype.kind == "i":
            lo, hi = int(keys.min()), int(keys.max())
            if hi - lo < 8 * len(args):
                table = np.full(hi - lo + 1, -1, dtype=np.int64)
                table[keys - lo] = np.arange(len(args))
                inside = (wanted >= lo) & (wanted <= hi)
                idx = np.where(inside, table[np.clip(wanted - lo, 0, hi - lo)], -1)
                if (idx >= 0).all():
                    return idx
                raise ValueError(f"attack names an unknown argument: {names[int(np.argmin(idx >= 0))]!r}")
    try:
        return np.fromiter(map(pos.__getitem__, names), dtype=np.int64, count=len(names))
    except KeyError as exc:
        raise ValueError(f"attack names an unknown argument: {exc.args[0]!r}") from None


def _finish_queue(queue_init: list[int], start, targets, label_arr, live_arr, pinned_arr) -> None:
    """The plain queue algorithm, continuing from the arrays' state. A short tail reads the arrays element by
    element; past _LIST_TAIL steps (a long chain) the arrays are converted to lists once (O(n + m), ~0.3 s at
    10⁶ arguments, too much for the few dozen steps a random framework's tail takes)."""
    queue = deque(queue_init)
    label, live, pinned, steps = label_arr, live_arr, pinned_arr, 0
    as_lists = False
    while queue:
        steps += 1
        if steps == _LIST_TAIL and not as_lists:
            start, targets = start.tolist(), targets.tolist()
            label, live, pinned, as_lists = label_arr.tolist(), live_arr.tolist(), pinned_arr.tolist(), True
        i = queue.popleft()
        if label[i] != 0:
            continue
        label[i] = 1
        hit = targets[start[i]:start[i + 1]]
        for t in (hit if as_lists else hit.tolist()):
            if label[t] == 0 and not pinned[t]:
                label[t] = 2
                out_hit = targets[start[t]:start[t + 1]]
                for u in (out_hit if as_lists else out_hit.tolist()):
                    live[u] -= 1
                    if live[u] == 0 and label[u] == 0 and not pinned[u]:
                        queue.append(u)
    if as_lists:
        label_arr[:] = label


# Tail steps before the arrays are converted to lists (element access on arrays costs ~1 µs a step more).
_LIST_TAIL = 20_000
