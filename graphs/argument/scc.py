"""SCC-recursive enumeration of complete, preferred and stable extensions (Baroni, Giacomin & Guida 2005).

These semantics are SCC-recursive: an extension, read strongly connected component by component in topological
order, is in each component an extension of that component alone once the labels upstream are fixed. For preferred
this is directionality: E is preferred iff, for every component S, E ∩ S is ⊆-maximal among the sets X for which
(E ∩ upstream) ∪ X is admissible in the part closed under attackers. Upstream labels act on S as follows: an
argument attacked by an accepted one is out (a pin); one attacked by an undecided one can never be in, which a
self-attacking stand-in attacker models exactly; rejected attackers are ignored. Stable has no undecided arguments,
so a component without a stable extension under its boundary ends that branch.

Where it pays: frameworks whose undecided core splits into many small components (disjoint or chained cycles,
debates with many separate disputes). Each component is a tiny solver call, answers are cached by boundary, and
the extensions are the product of the per-component choices, where the whole-framework solver needs one or more
calls (and a growing blocking clause) per extension. A core that is one big component gains nothing (see
BENCHMARKS.md), nor do chained components, so `worth_it` decides from the components.
"""

from __future__ import annotations

import itertools
from typing import Iterator

import numpy as np

from gauntlet.graphs.argument.framework import AF, csr
from gauntlet.graphs.argument.sat_engine import Engine

# Decompose when the core has at least this many components and its largest holds at most this share of it.
_MIN_COMPONENTS = 4
_MAX_SHARE = 0.5
_SWITCH_AFTER = 256  # extensions streamed by the whole-core solver before decomposing


def components(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, int]:
    """(component id per argument, count) with ids in topological order: every attack goes from a lower or
    equal id to a higher or equal one. Iterative Tarjan on the CSR lists (no recursion limit)."""
    start, targets = (x.tolist() for x in csr(n, src, dst))
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = found = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, start[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, k = work[-1]
            if k < start[v + 1]:
                work[-1] = (v, k + 1)
                w = targets[k]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, start[w]))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work and low[v] < low[work[-1][0]]:
                low[work[-1][0]] = low[v]
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = found
                    if w == v:
                        break
                found += 1
    # Tarjan finishes sinks first: reverse for a topological order (sources first).
    return found - 1 - np.asarray(comp, dtype=np.int64), found


def extensions(af: AF, fixed: dict | None, semantics: str) -> Iterator[list[int]]:
    """EE for complete, preferred or stable. The whole-core solver answers first; once it has streamed
    _SWITCH_AFTER extensions (a large enumeration, where decomposition pays) and `worth_it` holds, the rest come
    by components, skipping the ones already given. Small enumerations (odd cycles: one extension, where a solver
    call per component was 2-4x slower) never pay for the decomposition."""
    engine = Engine(af, fixed)
    whole = engine.extensions(semantics)  # type: ignore[arg-type]
    given: list[list[int]] = []
    for ext in whole:
        yield ext
        given.append(ext)
        if len(given) == _SWITCH_AFTER and semantics != "grounded":
            comp, count = components(engine.m, engine.att_src, engine.att_dst)
            if worth_it(comp, count, engine.att_src, engine.att_dst):
                whole.close()  # frees its solver
                break
    else:
        return
    done = {tuple(e) for e in given}
    for ext in Recursive(AF(engine.m, engine.att_src, engine.att_dst), semantics, comp, count).product():
        found = sorted(engine.base_in.tolist() + engine.undec[ext].tolist())
        if tuple(found) not in done:
            yield found


def worth_it(comp: np.ndarray, count: int, src: np.ndarray, dst: np.ndarray) -> bool:
    """Several disjoint components, none dominant. Measured (BENCHMARKS.md): faster on the large
    enumerations of disjoint cycles, but slower (a solver call per component) on chained cycles, so attacks
    between components rule it out."""
    if count < _MIN_COMPONENTS or comp.size == 0 or (comp[src] != comp[dst]).any():
        return False
    return int(np.bincount(comp).max()) <= _MAX_SHARE * comp.size


class Recursive:
    """Extensions of a framework by SCC-recursion; each component is solved by sat_engine.Engine under its
    boundary. Positions are the framework's (0..n-1)."""

    def __init__(self, af: AF, semantics: str, comp: np.ndarray, count: int) -> None:
        self.af, self.semantics = af, semantics
        order = np.argsort(comp, kind="stable")
        bounds = np.searchsorted(comp[order], np.arange(count + 1))
        self.members = [order[bounds[c]:bounds[c + 1]] for c in range(count)]
        into = np.argsort(comp[af.dst], kind="stable")  # attacks grouped by the target's component
        cut = np.searchsorted(comp[af.dst][into], np.arange(count + 1))
        self.incoming = [(af.src[into[cut[c]:cut[c + 1]]], af.dst[into[cut[c]:cut[c + 1]]]) for c in range(count)]
        self.comp = comp
        self._cache: dict[tuple, list[np.ndarray]] = {}

    def extensions(self) -> Iterator[list[int]]:
        """Every extension once, depth first over the components in topological order."""
        label = np.zeros(self.af.n, dtype=np.int8)  # 0 undecided, 1 in, 2 out, for the components done so far
        count = len(self.members)
        choices: list[Iterator[np.ndarray]] = [iter(())] * count
        depth = 0
        if count == 0:
            yield []
            return
        choices[0] = iter(self._local(0, label))
        while depth >= 0:
            chosen = next(choices[depth], None)
            if chosen is None:
                depth -= 1
                continue
            self._apply(depth, chosen, label)
            if depth == count - 1:
                yield np.flatnonzero(label == 1).tolist()
                continue
            depth += 1
            choices[depth] = iter(self._local(depth, label))

    def product(self) -> Iterator[list[int]]:
        """Every extension when no attack joins two components (`worth_it`): the product of each component's
        own extensions, without labelling anything per extension (~5x faster than the whole-core solver on 2^14-2^16 extensions)."""
        label = np.zeros(self.af.n, dtype=np.int8)
        own = [[part.tolist() for part in self._local(c, label)] for c in range(len(self.members))]
        for combo in itertools.product(*own):
            yield list(itertools.chain.from_iterable(combo))

    def some(self) -> list[int] | None:
        """SE: one extension, one solver answer per component (None: no stable extension)."""
        label = np.zeros(self.af.n, dtype=np.int8)
        for c in range(len(self.members)):
            found = self._local(c, label, first=True)
            if not found:
                return None
            self._apply(c, found[0], label)
        return np.flatnonzero(label == 1).tolist()

    def _apply(self, c: int, chosen: np.ndarray, label: np.ndarray) -> None:
        """Label component c: chosen in, attacked by an in argument (inside or upstream) out, the rest undecided."""
        members = self.members[c]
        label[members] = 0
        label[chosen] = 1
        src, dst = self.incoming[c]
        label[dst[label[src] == 1]] = 2

    def _local(self, c: int, label: np.ndarray, first: bool = False) -> list[np.ndarray]:
        """The extensions of component c (global positions of its accepted members) under the upstream labels."""
        members = self.members[c]
        src, dst = self.incoming[c]
        upstream = self.comp[src] != c
        beaten = np.unique(dst[upstream & (label[src] == 1)])
        blocked = np.setdiff1d(dst[upstream & (label[src] == 0)], beaten)
        key = (c, beaten.tobytes(), blocked.tobytes(), first)
        if key not in self._cache:
            self._cache[key] = self._solve(members, src[~upstream], dst[~upstream], beaten, blocked, first)
        return self._cache[key]

    def _solve(self, members, src, dst, beaten, blocked, first: bool) -> list[np.ndarray]:
        if self.semantics == "stable" and blocked.size:
            return []  # an undecided argument upstream: no stable extension on this branch
        if members.size == 1:  # most components of a sparse core: decided without a solver
            if beaten.size:
                return [members[:0]]
            if blocked.size or src.size:  # an undecided attacker upstream, or it attacks itself
                return [] if self.semantics == "stable" else [members[:0]]
            return [members]
        local = {int(g): i for i, g in enumerate(members.tolist())}
        k = len(local)
        l_src = [local[int(g)] for g in src.tolist()]
        l_dst = [local[int(g)] for g in dst.tolist()]
        if blocked.size:  # the stand-in for the undecided attackers upstream: attacks itself and them
            l_src += [k] * (blocked.size + 1)
            l_dst += [k] + [local[int(g)] for g in blocked.tolist()]
        n = k + (1 if blocked.size else 0)
        sub = AF(n, np.asarray(l_src, dtype=np.int64), np.asarray(l_dst, dtype=np.int64), list(range(n)))
        pins = {local[int(g)]: "out" for g in beaten.tolist()}
        engine = Engine(sub, pins)
        if first:
            ext = engine.some_extension(self.semantics)  # type: ignore[arg-type]
            return [] if ext is None else [members[np.asarray(ext, dtype=np.int64)]]
        return [members[np.asarray(ext, dtype=np.int64)] for ext in engine.extensions(self.semantics)]
