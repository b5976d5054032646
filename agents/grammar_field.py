"""Where a GBNF grammar rides in a chat request, per engine, and how to tell a server refused a request's extras.

Engines disagree, and some ignore fields they do not know, which would turn a grammar-constrained call into free
text without a word. So the field is chosen from what the server says it is, never guessed:
- llama.cpp's own server (`owned_by: llamacpp`) and llama-cpp-python's (`owned_by: me`): body field `grammar`;
- vLLM (`owned_by: vllm`): `structured_outputs: {grammar}` from 0.10.2 on, `guided_grammar` before (its /version);
- anything else (OpenAI, Ollama, unknown): no grammar, so the call fails with LLMError naming the server.
`grammar_field` in the model config ("grammar", "structured_outputs", "guided_grammar", "none") overrides the
detection for a proxy that hides the engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gauntlet.agents.llm import LLMError

FIELDS = ("grammar", "structured_outputs", "guided_grammar", "none")
ENGINE_FIELD = {"llamacpp": "grammar", "me": "grammar"}


def grammar_body(field: str, grammar: str) -> dict[str, Any]:
    """The request fields that carry `grammar` in this engine's dialect."""
    if field == "structured_outputs":
        return {"structured_outputs": {"grammar": grammar}}
    if field in ("grammar", "guided_grammar"):
        return {field: grammar}
    raise LLMError(f"grammar field {field!r}: this server enforces no grammar")


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def vllm_field(version: str) -> str:
    return "structured_outputs" if _version(version) >= (0, 10, 2) else "guided_grammar"


class GrammarField:
    """The grammar field of one server, detected once (GET /v1/models, and vLLM's /version)."""

    def __init__(self, base_url: str, configured: str, headers: dict[str, str], timeout_s: float) -> None:
        if configured not in ("auto", *FIELDS):
            raise LLMError(f"grammar_field {configured!r}: choose auto or one of {FIELDS}")
        self.base_url = base_url
        self.known = "" if configured == "auto" else configured
        self._headers = headers
        self._timeout = min(timeout_s, 30.0)
        self._lock = asyncio.Lock()

    async def field(self) -> str:
        async with self._lock:
            if not self.known:
                self.known = await self._detect()
        if self.known == "none":
            raise LLMError(f"{self.base_url} enforces no GBNF grammar (its /v1/models names no llama.cpp or vLLM "
                           "engine); use llama.cpp or vLLM, or set model.grammar_field if a proxy hides it")
        return self.known

    async def _detect(self) -> str:
        async with httpx.AsyncClient(headers=self._headers, timeout=self._timeout) as client:
            try:
                models = (await client.get(self.base_url + "/models")).json()
                owner = str(((models.get("data") or [{}])[0]).get("owned_by", ""))
            except (httpx.HTTPError, ValueError, AttributeError, IndexError, TypeError):
                return "none"
            if owner in ENGINE_FIELD:
                return ENGINE_FIELD[owner]
            if owner != "vllm":
                return "none"
            root = self.base_url.removesuffix("/v1")
            try:
                return vllm_field(str((await client.get(root + "/version")).json().get("version", "")))
            except (httpx.HTTPError, ValueError, AttributeError):
                return "guided_grammar"


def _names(text: str, *words: str) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def refuses_grammar(status: int, text: str) -> bool:
    """A 4xx (or llama-cpp-python's validation 500) that names the grammar field: the server will not take it."""
    return status in (400, 404, 422, 500) and _names(text, "grammar", "structured_outputs") and (
        status != 500 or "validation error" in text.lower() or "grammar" in text.lower())


def refuses_logprobs(status: int, text: str) -> bool:
    """A refusal that names logprobs (llama-cpp-python without logits_all answers 500 with its ValueError)."""
    return status in (400, 404, 422, 500) and _names(text, "logprob", "logits_all")
