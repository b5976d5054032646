"""How a JSON schema rides in `response_format`, per server dialect, and how to tell a server rejected ours.

Servers disagree (checked against the real ones, see tests/test_llamacpp_server.py):
- OpenAI and vLLM: `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`.
- llama-cpp-python's server (0.3.x): only `text` or `json_object`, the schema under `schema`; anything else is a
  pydantic validation error answered with **HTTP 500** ("Input should be 'text' or 'json_object'"). Its grammar
  also turns `maxLength: N` into N nested optional characters, which crashes the parser past a few hundred
  (see GRAMMAR_MAX_LENGTH in agents/embedded.py), so long limits are dropped there and left to validation.
"""

from __future__ import annotations

from typing import Any, Literal

from gauntlet.agents.embedded import grammar_schema

Style = Literal["json_schema", "json_object"]


def response_format(schema: dict[str, Any], style: Style) -> dict[str, Any]:
    """The `response_format` field for this schema in this dialect."""
    if style == "json_object":
        return {"type": "json_object", "schema": grammar_schema(schema)}
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}


def rejects_json_schema(status: int, body: str) -> bool:
    """True when an error answer says the server does not take `response_format.type = json_schema`.

    llama-cpp-python answers 500 (its validation error), others 400/422; all name the field and the types they do
    take. Matching on those words, not on the status, keeps real 500s (a crashed engine) retryable.
    """
    if status not in (400, 422, 500):
        return False
    text = body.lower()
    return "response_format" in text and "json_object" in text and ("json_schema" in text or "literal" in text)


def is_request_error(status: int, body: str) -> bool:
    """A 500 that is really the server refusing our request (a validation error): retrying cannot help."""
    return status == 500 and "validation error" in body.lower()
