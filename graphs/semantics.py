"""Dung abstract argumentation: grounded labelling and preferred extensions, as plain functions.

Arguments are any hashable values; attacks are (attacker, target) pairs. "Fixed" arguments (formal verdicts,
human overrides) keep the label they are given: attacks on them are ignored, and a fixed-out argument attacks
nothing. Everything else follows from the attack relation.
"""

from __future__ import annotations

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


class TooLarge(ValueError):
    """Preferred semantics is exponential in the worst case; refuse instead of hanging."""


def preferred(args: Sequence[Hashable], attacks: Iterable[tuple[Hashable, Hashable]], *,
              max_undecided: int = 24) -> list[set]:
    """All preferred extensions (maximal admissible sets), by backtracking over the grounded-undecided part."""
    args = list(dict.fromkeys(args))
    attacks = list(attacks)
    base = grounded(args, attacks)
    undec = [a for a in args if a in base.undec]
    if len(undec) > max_undecided:
        raise TooLarge(f"{len(undec)} arguments are undecided under grounded semantics; preferred "
                       f"enumeration is limited to {max_undecided} (use grounded for large frameworks)")
    pos, targets, attackers = _index(args, attacks)
    in0 = {pos[a] for a in base.inside}
    out0 = {pos[a] for a in base.out}
    cand = [pos[a] for a in undec]
    # An undecided argument may only be attacked by in/undec arguments; out attackers are already defeated.
    live_attackers = {i: [j for j in attackers[i] if j not in out0] for i in cand}
    found: list[frozenset[int]] = []

    def admissible(chosen: set[int]) -> bool:
        ext = chosen | in0
        attacked_by_ext = {t for i in ext for t in targets[i]}
        return all(j in attacked_by_ext for i in chosen for j in live_attackers[i])

    def search(k: int, chosen: set[int], excluded: set[int]) -> None:
        if k == len(cand):
            if admissible(chosen):
                found.append(frozenset(chosen))
            return
        i = cand[k]
        conflict = i in targets[i] or any(i in targets[j] or j in targets[i] for j in chosen)
        if not conflict:
            chosen.add(i)
            search(k + 1, chosen, excluded)
            chosen.discard(i)
        excluded.add(i)
        search(k + 1, chosen, excluded)
        excluded.discard(i)

    search(0, set(), set())
    maximal = [s for s in found if not any(s < t for t in found)]
    unique = sorted(set(maximal), key=lambda s: sorted(map(str, s)))
    return [{args[i] for i in s | in0} for s in unique]
