"""The orchestration benchmark's floor: a bare asyncio client making the debate's own calls, turn by turn.

The debate's LLM is wrapped so every request body it sends is recorded, scored ones (log-probabilities) too;
afterwards the bare client sends the same bodies against the same server with plain aiohttp (one session, the same
in-flight limit), one turn (round, phase) after another, each turn's calls at once, parsing each answer (its JSON,
or its log-probabilities) as any client must. A call that is several requests in the debate (a juror's vote: both
answer orders and the content-free pass; a critique: its library checks, then the critique) is the same requests,
one after another, in the replay (`chains_of`). Its wall time is
what any client on this machine would need; `vs_bare_client = bare_s / debate_s` is the share of that floor the
debate reaches, and the per-call CPU figures say where the rest goes (the debate process vs the bare client vs
the server, which share the same cores).
"""

from __future__ import annotations

import asyncio
import cProfile
import hashlib
import io
import json
import pstats
import time
from typing import Any, Sequence

import aiohttp

from gauntlet.agents.choice_logprobs import positions_of, tokens_needed
from gauntlet.agents.llm import ChoiceScores, Completion, Message
from gauntlet.agents.openai_backend import TOP_LOGPROBS
from gauntlet.graphs.run import event_loop


def _key(messages: list[Message]) -> str:
    return hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()


class RecordingLLM:
    """Delegates to an OpenAIBackend and notes each call's arguments and span; `finish()` turns the notes into
    request bodies keyed by their messages. Nothing is hashed or serialised during the timed debate: that was
    ~0.1 ms per call of the benchmark's own work counted against the debate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        # (messages, schema, or the choices of a scored request, kwargs, start, end, the asyncio task that asked)
        self.notes: list[tuple[list[Message], Any, dict[str, Any], float, float, Any]] = []
        self.bodies: dict[str, dict[str, Any]] = {}
        self.spans: dict[str, tuple[float, float]] = {}  # perf_counter at call start and end
        self.requests: list[tuple[str, dict[str, Any], float, Any]] = []  # (key, body, start, task), as sent

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None, grammar: str | None = None) -> Completion:
        t0 = time.perf_counter()
        out = await self.inner.complete(messages, schema, seed=seed, max_tokens=max_tokens, temperature=temperature,
                                        grammar=grammar)
        self.notes.append((messages, schema, {"seed": seed, "max_tokens": max_tokens, "temperature": temperature},
                           t0, time.perf_counter(), asyncio.current_task()))
        return out

    async def score(self, messages: list[Message], choices: Sequence[str], *,
                    seed: int | None = None) -> ChoiceScores:
        t0 = time.perf_counter()
        out = await self.inner.score(messages, choices, seed=seed)
        if out.scored:  # an unscored pick went through the backend's own complete(): not this request
            self.notes.append((messages, tuple(choices), {"seed": seed}, t0, time.perf_counter(),
                               asyncio.current_task()))
        return out

    def _body(self, messages: list[Message], asked: Any, kw: dict[str, Any]) -> dict[str, Any]:
        if isinstance(asked, tuple):  # a scored request, as the backend's score() sends it
            body = self.inner._body(messages, None, kw["seed"], tokens_needed(asked), 0.0)
            return {**body, "logprobs": True, "top_logprobs": TOP_LOGPROBS}
        return self.inner._body(messages, asked, kw["seed"], kw["max_tokens"], kw["temperature"])

    def finish(self) -> None:
        """Bodies and spans by message key, and every request in the order sent, from the notes (after the timed
        run)."""
        for messages, asked, kw, t0, t1, task in self.notes:
            key = _key(messages)
            self.bodies[key] = body = self._body(messages, asked, kw)
            self.spans[key] = (t0, t1)
            self.requests.append((key, body, t0, task))
        self.notes = []

    async def aclose(self) -> None:
        await self.inner.aclose()


def turn_of(call: dict[str, Any]) -> tuple[Any, Any, Any, str]:
    """A call's turn: its LangGraph superstep (when the call carries it, as `orchestration_once` adds it from the
    event) and (round, phase), calls of one turn running in parallel. A re-ask step (an allocated idea a critic
    skipped, an idea the judge left unscored, a rebuttal echoing its critique) waits on the call before it, so it
    is a turn of its own.

    Why the superstep: (round, phase) alone merged steps that run one after the other under one phase name, e.g.
    the round's rulings and the closing pass's rulings (both `rule`), so the bare client made in one turn what the
    debate must make in two, and was credited a whole latency it does not wait for."""
    last = str(call.get("key", "")).rsplit("/", 1)[-1]
    return (call.get("superstep"), call["round"], call["phase"],
            next((s for s in ("cover", "rescore", "reanchor", "reask") if s in last), ""))


def turns_of(calls: list[dict[str, Any]], bodies: dict[str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The recorded bodies grouped by turn (`turn_of`), turns in the order the debate ran them."""
    order: dict[tuple[Any, Any, str], list[dict[str, Any]]] = {}
    for c in calls:
        body = bodies.get(_key(c["messages"]))
        if body is not None:
            order.setdefault(turn_of(c), []).append(body)
    return list(order.values())


def chains_of(calls: list[dict[str, Any]],
              requests: list[tuple[str, dict[str, Any], float, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each recorded call (by message key), every request the debate made for it, in order: the requests one
    asyncio task sent around that call. A request that is no call of its own (the second answer order, a
    content-free pass, a library check) belongs to the task's call before it, or, before the task's first call,
    to that first call (a critique's library checks come before the critique)."""
    called = {_key(c["messages"]) for c in calls}
    by_task: dict[Any, list[tuple[str, dict[str, Any]]]] = {}
    for key, body, _t0, task in sorted(requests, key=lambda r: r[2]):
        by_task.setdefault(task, []).append((key, body))
    chains: dict[str, list[dict[str, Any]]] = {}
    for sent in by_task.values():
        heads = [i for i, (key, _) in enumerate(sent) if key in called]
        if not heads:
            continue  # no call of the debate's record asked it
        for i, (_, body) in enumerate(sent):
            head = max((h for h in heads if h <= i), default=heads[0])
            chains.setdefault(sent[head][0], []).append(body)
    return chains


def timeline(calls: list[dict[str, Any]], spans: dict[str, tuple[float, float]], t0: float,
             t1: float) -> dict[str, float]:
    """Where the debate's wall time went: before the first call, inside turns (first call sent to last answer
    back), between turns (graph steps, checkpoints, prompt and schema building) and after the last call."""
    turns: dict[tuple[Any, Any, str], list[tuple[float, float]]] = {}
    for c in calls:
        span = spans.get(_key(c["messages"]))
        if span is not None:
            turns.setdefault(turn_of(c), []).append(span)
    bounds = sorted((min(s for s, _ in v), max(e for _, e in v)) for v in turns.values())
    if not bounds:
        return {}
    inside = sum(e - s for s, e in bounds)
    return {"setup_s": round(bounds[0][0] - t0, 3), "in_turns_s": round(inside, 3),
            "between_turns_s": round(bounds[-1][1] - bounds[0][0] - inside, 3),
            "finish_s": round(t1 - bounds[-1][1], 3)}


async def replay(base_url: str, turns: list[list[dict[str, Any]]], concurrency: int,
                 chains: dict[str, list[dict[str, Any]]] | None = None) -> float:
    """Send each turn's calls at once (at most `concurrency` in flight), turn after turn; a call's chain (its
    requests, `chains_of`) one request after another; the wall time."""
    chains = chains or {}
    url = base_url.rstrip("/") + "/chat/completions"
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, keepalive_timeout=60)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(body: dict[str, Any]) -> None:
            async with session.post(url, data=json.dumps(body), headers=headers) as resp:
                payload = await resp.json(content_type=None)
            choice = payload["choices"][0]
            if body.get("logprobs"):
                positions_of(choice)
            else:
                json.loads(choice["message"]["content"])

        async def chain(body: dict[str, Any]) -> None:
            for b in chains.get(_key(body["messages"]), [body]):
                await one(b)

        t0 = time.perf_counter()
        for turn in turns:
            await asyncio.gather(*(chain(b) for b in turn))
        return time.perf_counter() - t0


def requests_in(turns: list[list[dict[str, Any]]], chains: dict[str, list[dict[str, Any]]] | None = None) -> int:
    """How many requests the replay sends."""
    chains = chains or {}
    return sum(len(chains.get(_key(b["messages"]), [b])) for t in turns for b in t)


def bare_client(base_url: str, turns: list[list[dict[str, Any]]], concurrency: int,
                chains: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, float]:
    """Run the replay in a fresh event loop; its wall time and this process's CPU time per request."""
    cpu0 = time.process_time()
    wall = event_loop.run(replay(base_url, turns, concurrency, chains))  # the debate's kind of loop
    sent = requests_in(turns, chains)
    return {"bare_s": wall, "bare_cpu_ms_per_call": 1000 * (time.process_time() - cpu0) / max(1, sent),
            "bare_requests": sent}


def top_functions(profile: cProfile.Profile, n: int = 12) -> list[dict[str, Any]]:
    """The functions with the most own time in a profile: where the debate's CPU goes."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]  # type: ignore[attr-defined]
    return [{"function": f"{short_path(file)}:{line}:{name}", "tottime_s": round(tt, 3), "calls": nc}
            for (file, line, name), (_, nc, tt, _ct, _callers) in rows]


def short_path(file: str) -> str:
    """The last two parts of a source path, enough to find it in the profile table."""
    parts = file.replace("\\", "/").split("/")
    return "/".join(parts[-2:])
