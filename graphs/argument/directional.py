"""Acceptance decided on the part of the framework that can reach the argument (directionality).

Complete, grounded and preferred semantics are directional (Baroni & Giacomin 2007): the extensions restricted to
a set closed under attackers are exactly the extensions of that sub-framework. So DC and DS of an argument A under
complete/preferred need only A's ancestors (arguments with an attack path to A); where that part is small (a
debate's critique tree, a sparse file), the solver never sees the rest. The certificate is then extended to the
whole framework: the sub-framework's labelling is held and the grounded labelling computed around it, which
gives a complete extension of the whole (the sub-framework is not attacked from outside); a preferred
certificate is grown from it by the full engine (only the answer, not the certificate, is then cheap). Stable semantics is not directional and is not restricted.
"""

from __future__ import annotations

import numpy as np

from gauntlet.graphs.argument.framework import AF, ancestors, distinct
from gauntlet.graphs.argument.sat_engine import Engine
from gauntlet.graphs.argument.semantics import IN, OUT, grounded_labels

# Restrict only when the relevant part is at most this share of the framework (else it does not pay).
_MAX_SHARE = 0.5


def decide(af: AF, fixed: dict | None, arg: int, semantics: str, task: str) -> tuple[bool, list[int] | None]:
    """(answer, certificate) of DC ('credulous') or DS ('sceptical') for argument position `arg`."""
    engine_task = "credulous" if task == "DC" else "sceptical"
    if semantics not in ("complete", "preferred"):
        return getattr(Engine(af, fixed), engine_task)(arg, semantics)
    pin_in, pin_out = af.pin_indices(fixed)
    pinned = np.zeros(af.n, dtype=bool)
    pinned[pin_in] = True
    pinned[pin_out] = True
    live = ~pinned[af.dst] & ~np.isin(af.src, pin_out)  # attacks that carry anything under the pins
    src, dst = af.src[live], af.dst[live]
    part = ancestors(af.n, src, dst, [arg])
    if part.size > _MAX_SHARE * af.n:
        return getattr(Engine(af, fixed), engine_task)(arg, semantics)
    local = np.full(af.n, -1, dtype=np.int64)
    local[part] = np.arange(part.size)
    inside = (local[src] >= 0) & (local[dst] >= 0)
    sub = AF(int(part.size), local[src[inside]], local[dst[inside]], list(range(part.size)))
    sub_fixed = {int(local[i]): "in" for i in pin_in.tolist() if local[i] >= 0}
    sub_fixed.update({int(local[i]): "out" for i in pin_out.tolist() if local[i] >= 0})
    yes, cert = getattr(Engine(sub, sub_fixed), engine_task)(int(local[arg]), semantics)
    if cert is None:
        return yes, None
    whole = _extend(af, src, dst, part, sub, cert, pin_in, pin_out)
    if semantics == "preferred":
        # A preferred certificate: every preferred superset restricts to a preferred extension of the
        # sub-framework containing the sub's certificate, which is preferred there, so A keeps its side.
        whole = Engine(af, fixed).grow(whole)
    return yes, whole


def _extend(af: AF, src: np.ndarray, dst: np.ndarray, part: np.ndarray, sub: AF, cert: list[int],
            pin_in: np.ndarray, pin_out: np.ndarray) -> list[int]:
    """The least complete extension of the whole framework that agrees with the sub-framework's labelling."""
    sub_label = np.zeros(sub.n, dtype=np.int8)
    sub_label[cert] = IN
    hit = sub.dst[np.isin(sub.src, cert)]
    sub_label[hit] = OUT
    sub_label[np.isin(part, pin_out)] = OUT
    held_in = np.concatenate((pin_in, part[sub_label == IN]))
    held_out = np.concatenate((pin_out, part[sub_label == OUT]))
    held_undec = part[sub_label == 0]
    label = grounded_labels(af.n, src, dst, distinct(held_in, af.n), distinct(held_out, af.n), held_undec)
    return np.flatnonzero(label == IN).tolist()
