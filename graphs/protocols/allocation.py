"""Who critiques what, and who defends what: the work is allocated, not left to the model's choice of target.

Left to choose, a small model spends every critique on the first ideas it reads, and an idea nobody attacks stands
by default (an unattacked argument is accepted in Dung semantics). So the protocol decides:

- `allocate` gives every idea at least `min_critics` distinct critics (never its owner, never one who already
  critiqued it), picking the least-loaded critics with seeded tie-breaks, then spreads the panel's spare capacity
  (`per_critic` critiques each) over the least-critiqued ideas. Coverage beats the per-critic cap: when the panel is
  too small for the rule at `per_critic`, loads rise evenly instead of an idea going without. A heap keeps it
  O((ideas × min_critics + critics) log critics), so hundreds of critics and ideas cost milliseconds.
- `champions` gives each seed proposal a defender: the persona the config names, else the least-burdened proposer
  (or critic, when nobody proposes), ties broken by the seed, never "whoever comes first".
- `shuffled` orders the items a prompt lists, seeded per call, so position does not decide attention.

Everything here is pure: ids in, ids out.
"""

from __future__ import annotations

import heapq
import random
from typing import Iterable, Mapping, Sequence, TypeVar

T = TypeVar("T")
# Ideas per critique call: a critic with more assignments gets several calls, so no prompt outgrows the context.
BATCH = 4


def rng_for(seed: int, key: str) -> random.Random:
    return random.Random(f"{seed}/{key}")


def shuffled(items: Iterable[T], seed: int, key: str) -> list[T]:
    """`items` in an order that depends only on the run seed and the call's key."""
    out = list(items)
    rng_for(seed, key).shuffle(out)
    return out


def required(owner: str, critics: Sequence[str], min_critics: int) -> int:
    """How many distinct critics an idea needs: `min_critics`, or fewer only when the panel (without the idea's
    owner, who never critiques their own idea) is smaller."""
    return min(min_critics, len(set(critics) - {owner}))


def allocate(ideas: Sequence[str], owners: Mapping[str, str], critics: Sequence[str], *, min_critics: int,
             per_critic: int, seed: int, key: str = "",
             seen: Mapping[str, Iterable[str]] | None = None) -> dict[str, list[str]]:
    """critic → the ideas assigned to them this round (each list in allocation order; every critic present).

    `seen` maps an idea to the critics who already critiqued it (earlier rounds): they count toward its coverage
    and are not assigned it again, so later rounds spend the panel on what is new (revisions, new proposals)."""
    panel = list(dict.fromkeys(critics))
    rng = rng_for(seed, f"allocate/{key}")
    had = {i: set(seen.get(i, ())) if seen else set() for i in ideas}
    plan: dict[str, list[str]] = {c: [] for c in panel}
    tie = {c: rng.random() for c in panel}
    heap = [(0, tie[c], c) for c in panel]
    heapq.heapify(heap)
    load = {c: 0 for c in panel}
    members = set(panel)

    def eligible(i: str) -> int:  # critics who may still take idea i (not its owner, not already on it)
        done = had[i] & members
        return len(members) - len(done) - (owners.get(i) in members and owners.get(i) not in done)

    # Most constrained first (fewest eligible critics), in a seeded order otherwise.
    order = sorted(shuffled(ideas, seed, f"allocate/{key}/order"), key=eligible)
    for idea in order:
        who = owners.get(idea, "")
        need = min(min_critics, len(members) - (who in members)) - len(had[idea] & members)
        taken, skipped = [], []
        while need > 0 and heap:
            entry = heapq.heappop(heap)
            c = entry[2]
            if c == owners.get(idea) or c in had[idea]:
                skipped.append(entry)
                continue
            taken.append(c)
            need -= 1
        for c in taken:
            plan[c].append(idea)
            had[idea].add(c)
            load[c] += 1
            heapq.heappush(heap, (load[c], tie[c], c))
        for entry in skipped:
            heapq.heappush(heap, entry)
    _fill_spare(plan, load, ideas, owners, had, per_critic, rng)
    return plan


def _fill_spare(plan: dict[str, list[str]], load: dict[str, int], ideas: Sequence[str], owners: Mapping[str, str],
                had: dict[str, set[str]], per_critic: int, rng: random.Random) -> None:
    """Each critic with room left takes the least-critiqued ideas it may critique, one at a time, round-robin over
    the critics, so spare critiques spread over the ideas instead of piling on one."""
    if not ideas:
        return
    tie = {i: rng.random() for i in ideas}
    heap = [(len(had[i]), tie[i], i) for i in ideas]
    heapq.heapify(heap)
    room = [c for c in shuffled(plan, rng.randrange(2**31), "spare") if load[c] < per_critic]
    while room:
        still = []
        for c in room:
            skipped, pick = [], None
            while heap:
                entry = heapq.heappop(heap)
                if c != owners.get(entry[2]) and c not in had[entry[2]]:
                    pick = entry
                    break
                skipped.append(entry)
            for entry in skipped:
                heapq.heappush(heap, entry)
            if pick is None:
                continue  # nothing left this critic may take
            idea = pick[2]
            plan[c].append(idea)
            had[idea].add(c)
            load[c] += 1
            heapq.heappush(heap, (len(had[idea]), pick[1], idea))
            if load[c] < per_critic:
                still.append(c)
        room = still


def batches(assigned: Sequence[str], size: int = BATCH) -> list[list[str]]:
    """A critic's assignments cut into calls of at most `size` ideas."""
    return [list(assigned[k:k + size]) for k in range(0, len(assigned), size)]


def champions(given: Sequence[str | None], proposers: Sequence[str], critics: Sequence[str],
              seed: int) -> list[tuple[str, str]]:
    """(defender, source) per seed proposal: the persona its config names (`config`), else one assigned by the
    protocol (`protocol`): the proposer defending the fewest ideas so far (each proposer starts with their own),
    ties broken by the seed; critics defend only when nobody proposes. ("", "none") when the panel has no one."""
    pool = list(dict.fromkeys(proposers)) or list(dict.fromkeys(critics))
    rng = rng_for(seed, "champions")
    burden = {p: 1 if p in proposers else 0 for p in pool}
    for name in given:
        if name in burden:
            burden[name] += 1
    tie = {p: rng.random() for p in pool}
    out: list[tuple[str, str]] = []
    for name in given:
        if name:
            out.append((name, "config"))
        elif pool:
            pick = min(pool, key=lambda p: (burden[p], tie[p]))
            burden[pick] += 1
            out.append((pick, "protocol"))
        else:
            out.append(("", "none"))
    return out
