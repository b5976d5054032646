"""From a server's token log-probabilities to log P(the reply starts with each choice). Pure functions.

A chat completion asked with `logprobs: true, top_logprobs: k` answers, per generated token, its log-probability
and the k most likely tokens at that position. Two formats are in use:
- OpenAI / vLLM / llama-cpp-python >= 0.3.5: `logprobs.content = [{token, logprob, bytes, top_logprobs: [{token,
  logprob, bytes}]}]`;
- llama-cpp-python before 0.3.5 (the completions format): `logprobs = {tokens, token_logprobs, top_logprobs:
  [{token: logprob}]}`.

A label may take several tokens ("overruled" = "over" + "ruled"). The generation is greedy, so along the generated
path every position's alternatives are known exactly: a label is credited with P(path prefix) * P(its token), and a
label that leaves the path part-way through a token it shares a prefix with is credited as if its remaining tokens
were certain (the usual first-token approximation, exact whenever the first token already tells the labels apart).
A leading-space variant (" Yes") counts for its label ("Yes"): both are folded in by log-sum-exp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Position:
    """One generated token: its text, its log-probability, and the top alternatives at that position."""

    token: str
    logprob: float
    top: dict[str, float]


def _text(entry: dict[str, Any]) -> str:
    raw = entry.get("bytes")
    if isinstance(raw, list) and raw:
        try:
            return bytes(raw).decode("utf-8")
        except (UnicodeDecodeError, ValueError, TypeError):
            pass  # a token that is part of a multi-byte character: its text field is the best there is
    return str(entry.get("token") or "")


def positions_of(choice: dict[str, Any]) -> list[Position] | None:
    """The generated positions of a chat-completion choice, in either format; None when it carries no logprobs."""
    lp = choice.get("logprobs")
    if not isinstance(lp, dict):
        return None
    out: list[Position] = []
    if isinstance(lp.get("content"), list):
        for entry in lp["content"]:
            if not isinstance(entry, dict) or entry.get("logprob") is None:
                return None
            top: dict[str, float] = {}
            for alt in entry.get("top_logprobs") or []:
                text = _text(alt)
                if text and alt.get("logprob") is not None:
                    top[text] = max(top.get(text, -math.inf), float(alt["logprob"]))  # same text: keep the best
            token = _text(entry)
            top.setdefault(token, float(entry["logprob"]))
            out.append(Position(token, float(entry["logprob"]), top))
    elif isinstance(lp.get("tokens"), list):
        for token, logprob, top in zip(lp["tokens"], lp.get("token_logprobs") or [], lp.get("top_logprobs") or []):
            if logprob is None:
                return None
            alts = {str(t): float(v) for t, v in (top or {}).items() if v is not None}
            alts.setdefault(str(token), float(logprob))
            out.append(Position(str(token), float(logprob), alts))
    return out or None


def _completes(text: str, label: str) -> bool:
    """The reply so far starts with the whole label (and the label's word ends there: "Yes." yes, "Yesterday" no)."""
    return text == label or (text.startswith(label) and not text[len(label)].isalnum())


def _variant_logprobs(positions: Sequence[Position], label: str) -> list[float]:
    """The log-probabilities of the ways the greedy path's alternatives spell `label` (see the module docstring)."""
    found: list[float] = []
    path_lp, consumed = 0.0, ""
    for pos in positions:
        for token, lp in pos.top.items():
            text = consumed + token
            if not token:
                continue
            if _completes(text, label):
                found.append(path_lp + lp)
            elif label.startswith(text) and token != pos.token:
                found.append(path_lp + lp)  # leaves the path inside the label: rest taken as certain
        walked = consumed + pos.token
        if not (pos.token and label.startswith(walked) and walked != label):
            return found
        path_lp, consumed = path_lp + pos.logprob, walked
    if consumed:
        found.append(path_lp)  # the path stopped (max_tokens) inside the label: rest taken as certain
    return found


def logsumexp(values: Sequence[float]) -> float:
    finite = [v for v in values if v != -math.inf]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log(sum(math.exp(v - top) for v in finite))


def choice_logprobs(positions: Sequence[Position], choices: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    """(log P(reply starts with choice) for each choice, faults). A choice outside the listed alternatives gets
    the smallest listed log-probability at the first position (an upper bound on its own), with a fault."""
    faults: list[str] = []
    out: dict[str, float] = {}
    for choice in choices:
        variants = dict.fromkeys((choice, " " + choice))
        out[choice] = logsumexp([lp for v in variants for lp in _variant_logprobs(positions, v)])
    floor = min(positions[0].top.values()) if positions and positions[0].top else -math.inf
    for choice, lp in out.items():
        if lp == -math.inf:
            out[choice] = floor
            faults.append(f"not_in_top_logprobs:{choice}")
    return out, faults


def tokens_needed(choices: Sequence[str]) -> int:
    """How many tokens a scoring request generates: one when every label is short enough to be a single token in
    any common vocabulary, else a few, so a multi-token label's continuation is read rather than assumed."""
    return 1 if max((len(c) for c in choices), default=1) <= 3 else 3
