"""Any OpenAI-compatible chat endpoint: `vllm serve`, llama.cpp server, Ollama, hosted APIs.

Decisions are scored, not written: `score` asks for one greedy answer with `logprobs`/`top_logprobs` and reads each
choice's probability from them (agents/choice_logprobs.py). A server without logprobs (it ignores the field or
refuses it) gets a constrained generation among the choices instead, marked unscored. A GBNF grammar rides where
the server's engine takes it (agents/grammar_field.py); a server that takes none refuses the call (LLMError).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import time
from typing import Any, Callable, Sequence, TypeVar

import httpx

from gauntlet.agents.choice_logprobs import choice_logprobs, positions_of, tokens_needed
from gauntlet.agents.grammar_field import GrammarField, grammar_body, refuses_grammar, refuses_logprobs
from gauntlet.agents.http_transport import Reply, json_client
from gauntlet.agents.llm import ChoiceScores, Completion, LLMError, Message
from gauntlet.agents.response_format import Style, is_request_error, rejects_json_schema, response_format
from gauntlet.agents.structured import parse_json

log = logging.getLogger("gauntlet.llm")

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
TOP_LOGPROBS = 20  # the most vLLM (max_logprobs default) and OpenAI return
R = TypeVar("R", Completion, ChoiceScores)


class _Refused(Exception):
    """The server refused a feature of the request (logprobs, a grammar field): the caller decides what next."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text[:200])
        self.reply = reply


class OpenAIBackend:
    """Chat completions over HTTP with JSON-schema output, bounded concurrency and retries with backoff.

    `structured_output` picks how the schema rides in `response_format` (agents/response_format.py): "auto" sends
    json_schema and, the first time the server rejects that type, switches to json_object + schema for good.
    """

    def __init__(self, base_url: str, model: str = "", *, api_key: str | None = None, concurrency: int = 16,
                 timeout_s: float = 120.0, max_retries: int = 4, temperature: float = 0.7,
                 max_tokens: int = 512, backoff_s: float = 0.5, structured_output: str = "auto",
                 grammar_field: str = "auto") -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model or 'default'}@{self.base_url}"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.adaptive = structured_output == "auto"
        self.style: Style = "json_object" if structured_output == "json_object" else "json_schema"
        self._slots = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = json_client(self.base_url, headers, concurrency, timeout_s)
        self._jitter = random.Random(0)  # jitter only spaces retries; it never touches model output
        self.has_logprobs: bool | None = None  # learnt from the first scoring call
        self.grammar = GrammarField(self.base_url, grammar_field, headers, timeout_s)

    @classmethod
    def from_config(cls, cfg: Any) -> "OpenAIBackend":
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        return cls(cfg.base_url, cfg.name, api_key=key, concurrency=cfg.concurrency, timeout_s=cfg.timeout_s,
                   max_retries=cfg.max_retries, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                   structured_output=getattr(cfg, "structured_output", "auto"),
                   grammar_field=getattr(cfg, "grammar_field", "auto"))

    def _body(self, messages: list[Message], schema: dict[str, Any] | None, seed: int | None,
              max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        if seed is not None:
            body["seed"] = seed
        if schema is not None:
            body["response_format"] = response_format(schema, self.style)
        return body

    def _switch_dialect(self, resp: Reply, body: dict[str, Any], schema: dict[str, Any] | None) -> bool:
        """On a server that rejects json_schema (llama-cpp-python), move to json_object + schema; True if done."""
        if schema is None or not self.adaptive or body["response_format"]["type"] != "json_schema":
            return False
        if not rejects_json_schema(resp.status_code, resp.text):
            return False
        if self.style == "json_schema":
            log.info("%s rejects response_format json_schema; using json_object + schema", self.base_url)
        self.style = "json_object"
        body["response_format"] = response_format(schema, self.style)
        return True

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None, grammar: str | None = None) -> Completion:
        if grammar is not None and schema is not None:
            raise LLMError("a call takes a schema or a grammar, not both")
        body = self._body(messages, schema, seed, max_tokens, temperature)
        if grammar is not None:
            body.update(grammar_body(await self.grammar.field(), grammar))
        try:
            return await self._request(body, lambda r, t, q, a: self._parse(r, schema, t, q, a), schema,
                                       refused=refuses_grammar if grammar is not None else None)
        except _Refused as exc:
            raise LLMError(f"{self.base_url} refused the grammar ({self.grammar.known}): {exc}") from None

    async def score(self, messages: list[Message], choices: Sequence[str], *,
                    seed: int | None = None) -> ChoiceScores:
        """log P(the reply starts with each choice), from one greedy answer's top log-probabilities."""
        if not choices:
            raise LLMError("score needs at least one choice")
        if self.has_logprobs is False:
            return await self._pick(messages, choices, seed)
        body = self._body(messages, None, seed, tokens_needed(choices), 0.0)
        body.update({"logprobs": True, "top_logprobs": TOP_LOGPROBS})

        def parse(resp: Reply, latency: float, queued: float, attempts: int) -> ChoiceScores | None:
            try:
                payload = resp.json()
                choice = payload["choices"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                return None
            positions = positions_of(choice) if isinstance(choice, dict) else None
            if positions is None:
                return ChoiceScores({}, scored=False)  # answered without logprobs: the server has none
            logprobs, faults = choice_logprobs(positions, choices)
            usage = payload.get("usage") or {}
            return ChoiceScores(logprobs, model=str(payload.get("model", self.model)),
                                prompt_tokens=int(usage.get("prompt_tokens") or 0), latency_s=latency,
                                faults=faults)

        try:
            result = await self._request(body, parse, None, refused=refuses_logprobs)
        except _Refused as exc:
            log.info("%s refuses logprobs (%s); decisions there are generated and unscored", self.base_url, exc)
            result = ChoiceScores({}, scored=False)
        if result.scored:
            self.has_logprobs = True
            return result
        self.has_logprobs = False
        return await self._pick(messages, choices, seed)

    async def _pick(self, messages: list[Message], choices: Sequence[str], seed: int | None) -> ChoiceScores:
        """No logprobs: one generation constrained to the choices (an enum), its pick at log 1, unscored."""
        schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": list(choices)}},
                  "required": ["answer"], "additionalProperties": False}
        longest = max(len(c) for c in choices)
        c = await self.complete(messages, schema, seed=seed, max_tokens=16 + longest, temperature=0.0)
        picked = (c.data or {}).get("answer")
        if picked not in choices:
            raise LLMError(f"{self.base_url}: the constrained pick {c.text[:80]!r} names none of {list(choices)}")
        return ChoiceScores({k: (0.0 if k == picked else -math.inf) for k in choices}, scored=False,
                            model=c.model, prompt_tokens=c.prompt_tokens, latency_s=c.latency_s,
                            faults=c.faults + ["no_logprobs"])

    async def _request(self, body: dict[str, Any], parse: Callable[[Reply, float, float, int], R | None],
                       schema: dict[str, Any] | None, *, refused: Callable[[int, str], bool] | None = None) -> R:
        """POST with retries and backoff; `parse` turns a 2xx answer into the result (None: a bad answer, retried);
        `refused` recognises the server refusing a feature of the request, raised as _Refused."""
        faults: list[str] = []
        t_queue = time.perf_counter()
        async with self._slots:
            queued = time.perf_counter() - t_queue
            for attempt in range(self.max_retries + 1):
                t0 = time.perf_counter()
                fault = None
                try:
                    resp = await self._client.post_json("/chat/completions", body)
                    if resp.status_code >= 400 and self._switch_dialect(resp, body, schema):
                        # A dialect mismatch is not a fault of the call: ask again at once, same attempt.
                        t0 = time.perf_counter()
                        resp = await self._client.post_json("/chat/completions", body)
                except httpx.TimeoutException:
                    fault = "timeout"
                except httpx.TransportError:
                    fault = "connection"
                else:
                    if resp.status_code >= 400 and refused is not None and refused(resp.status_code, resp.text):
                        raise _Refused(resp)
                    if resp.status_code == 500 and is_request_error(resp.status_code, resp.text):
                        raise LLMError(f"{self.base_url} refused the request ({resp.status_code}): "
                                       f"{resp.text[:200]!r}")
                    if resp.status_code in _RETRY_STATUS:
                        fault = f"http_{resp.status_code}"
                    elif resp.status_code >= 400:
                        raise LLMError(f"{self.base_url} answered {resp.status_code}: {resp.text[:200]!r}")
                    else:
                        result = parse(resp, time.perf_counter() - t0, queued, attempt + 1)
                        if result is not None:
                            result.faults = faults + result.faults
                            return result
                        fault = "bad_response"
                faults.append(fault)
                if attempt < self.max_retries:
                    delay = self.backoff_s * (2 ** attempt) * (0.5 + self._jitter.random())
                    await asyncio.sleep(min(delay, 30.0))
        raise LLMError(f"{self.base_url}: gave up after {self.max_retries + 1} tries ({', '.join(faults)})")

    def _parse(self, resp: Reply, schema: dict[str, Any] | None, latency: float, queued: float,
               attempts: int) -> Completion | None:
        try:
            payload = resp.json()
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        usage = payload.get("usage") or {}
        faults = ["truncated"] if choice.get("finish_reason") == "length" else []
        if not usage.get("completion_tokens") and text:
            faults.append("no_usage")  # the server did not count tokens: budgets and stats undercount this call
        data, repaired = parse_json(text) if schema is not None else (None, False)
        return Completion(text=text, data=data, model=str(payload.get("model", self.model)),
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          latency_s=latency, queued_s=queued, attempts=attempts, repaired=repaired, faults=faults)

    async def aclose(self) -> None:
        await self._client.aclose()
