"""Any OpenAI-compatible chat endpoint: `vllm serve`, llama.cpp server, Ollama, hosted APIs."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

import httpx

from gauntlet.agents.http_transport import Reply, json_client
from gauntlet.agents.llm import Completion, LLMError, Message
from gauntlet.agents.response_format import Style, is_request_error, rejects_json_schema, response_format
from gauntlet.agents.structured import parse_json

log = logging.getLogger("gauntlet.llm")

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIBackend:
    """Chat completions over HTTP with JSON-schema output, bounded concurrency and retries with backoff.

    `structured_output` picks how the schema rides in `response_format` (agents/response_format.py): "auto" sends
    json_schema and, the first time the server rejects that type, switches to json_object + schema for good.
    """

    def __init__(self, base_url: str, model: str = "", *, api_key: str | None = None, concurrency: int = 16,
                 timeout_s: float = 120.0, max_retries: int = 4, temperature: float = 0.7,
                 max_tokens: int = 512, backoff_s: float = 0.5, structured_output: str = "auto") -> None:
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

    @classmethod
    def from_config(cls, cfg: Any) -> "OpenAIBackend":
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        return cls(cfg.base_url, cfg.name, api_key=key, concurrency=cfg.concurrency, timeout_s=cfg.timeout_s,
                   max_retries=cfg.max_retries, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                   structured_output=getattr(cfg, "structured_output", "auto"))

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
                       temperature: float | None = None) -> Completion:
        body = self._body(messages, schema, seed, max_tokens, temperature)
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
                    if resp.status_code == 500 and is_request_error(resp.status_code, resp.text):
                        raise LLMError(f"{self.base_url} refused the request ({resp.status_code}): "
                                       f"{resp.text[:200]!r}")
                    if resp.status_code in _RETRY_STATUS:
                        fault = f"http_{resp.status_code}"
                    elif resp.status_code >= 400:
                        raise LLMError(f"{self.base_url} answered {resp.status_code}: {resp.text[:200]!r}")
                    else:
                        result = self._parse(resp, schema, time.perf_counter() - t0, queued, attempt + 1)
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
