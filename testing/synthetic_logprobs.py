"""Token log-probabilities for the synthetic server: deterministic from the prompt, in the OpenAI chat format.

A test double, not a model: each request gets pseudo-random logits over a small vocabulary of answer labels (and
filler words), seeded by the messages, so the same prompt always gets the same scores and different prompts get
different ones. What a test needs is configurable (`LogprobPlan`):

- `labels`: the answer vocabulary; a label written `sust|ained` is emitted as two tokens (a multi-token label),
  and each label also appears with a leading space (`" Yes"`), as real tokenizers have both;
- `bias`: added to a label's logit (a label bias the content-free calibration must remove);
- `mode`: `hash` (answer logprobs), `none` (ignore the request, as servers without logprobs do), `refuse` (HTTP 400);
- `when`: `[[text, {"Yes": -0.1, "No": -2.3}], …]`: a request whose messages contain `text` gets exactly
  those first-token log-probabilities (the first match wins), so concurrent calls get their answers by content.

A scripted reply `logprobs:{"Yes": -0.2, "No": -1.8}` answers exactly those first-token log-probabilities.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LABELS = ("Yes", "No", "sustained", "overruled", "A", "B", "fatal", "major", "minor", "agree",
                  "disagree", "same", "different", "first", "second", "faithful", "unfaithful")
FILLER = ("The", "I", "It", "This", "{", "\"", "Based", "In", "To", "As")
MODES = ("hash", "none", "refuse")
SCRIPT_PREFIX = "logprobs:"


@dataclass
class LogprobPlan:
    mode: str = "hash"
    labels: tuple[str, ...] = DEFAULT_LABELS
    bias: dict[str, float] = field(default_factory=dict)
    spread: float = 2.0  # standard deviation of the pseudo-random logits
    when: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    @classmethod
    def from_json(cls, text: str) -> "LogprobPlan":
        raw = json.loads(text) if text else {}
        plan = cls(mode=raw.get("mode", "hash"), bias=dict(raw.get("bias") or {}),
                   spread=float(raw.get("spread", 2.0)),
                   when=[(str(t), {str(k): float(v) for k, v in d.items()}) for t, d in raw.get("when") or []])
        if raw.get("labels"):
            plan.labels = tuple(raw["labels"])
        if plan.mode not in MODES:
            raise ValueError(f"logprobs mode {plan.mode!r}: choose from {MODES}")
        return plan


def _rng(body: dict[str, Any]) -> random.Random:
    blob = json.dumps([body.get("messages"), body.get("seed")], sort_keys=True).encode()
    return random.Random(int.from_bytes(hashlib.sha256(blob).digest()[:8], "big"))


def _log_softmax(logits: dict[str, float]) -> dict[str, float]:
    top = max(logits.values())
    total = top + math.log(sum(math.exp(v - top) for v in logits.values()))
    return {k: v - total for k, v in logits.items()}


def _entry(token: str, logprob: float, top: dict[str, float], k: int) -> dict[str, Any]:
    ranked = sorted(top.items(), key=lambda kv: -kv[1])[:k]
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()),
            "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode())} for t, v in ranked]}


def first_token_distribution(body: dict[str, Any], plan: LogprobPlan) -> dict[str, float]:
    """log P of each first token: every label's first piece, bare and with a leading space, and filler words."""
    rng = _rng(body)
    logits: dict[str, float] = {}
    for label in plan.labels:
        first = label.split("|")[0]
        value = rng.gauss(0.0, plan.spread) + plan.bias.get(label.replace("|", ""), 0.0)
        logits[first] = value
        logits[" " + first] = value - 1.5 - rng.random()  # the leading-space variant: real, but less likely
    for word in FILLER:
        logits.setdefault(word, rng.gauss(-3.0, 1.0))
    return _log_softmax(logits)


def scripted_distribution(content: str) -> dict[str, float] | None:
    """The first-token log-probabilities a `logprobs:{...}` script entry asks for (None for a plain reply)."""
    if not content.startswith(SCRIPT_PREFIX):
        return None
    return {str(k): float(v) for k, v in json.loads(content[len(SCRIPT_PREFIX):]).items()}


def answer(body: dict[str, Any], plan: LogprobPlan, scripted: str | None) -> tuple[str, dict[str, Any]]:
    """(content, the choice's `logprobs` field) for a request with `logprobs: true`, greedy over the plan.

    A scripted plain reply is answered as the most likely token (its first word, log P -0.05); a multi-token
    label continues with its remaining pieces, each near-certain, up to `max_tokens`."""
    k = max(1, min(int(body.get("top_logprobs") or 1), 20))
    dist = scripted_distribution(scripted) if scripted is not None else None
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
    dist = dist or next((dict(d) for text, d in plan.when if text in prompt), None)
    if dist is None:
        dist = first_token_distribution(body, plan)
        if scripted is not None and scripted.split():
            forced = scripted.split()[0]
            others = _log_softmax({t: v for t, v in dist.items() if t != forced})
            dist = {forced: -0.05, **{t: v + math.log1p(-math.exp(-0.05)) for t, v in others.items()}}
    first = max(dist, key=lambda t: dist[t])
    entries = [_entry(first, dist[first], dist, k)]
    pieces = next((label.split("|") for label in plan.labels if label.split("|")[0] == first.lstrip()
                   and "|" in label), [])
    for piece in pieces[1:int(body.get("max_tokens") or 1)]:
        entries.append(_entry(piece, -0.01, {piece: -0.01, piece[:-1] or "x": -5.0, ".": -6.0}, k))
    content = first + "".join(e["token"] for e in entries[1:])
    return content, {"content": entries, "refusal": None}
