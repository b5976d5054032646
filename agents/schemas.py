"""What each debate move must return. JSON schemas are built per call so `target` can only name real nodes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# `unfaithful_formalisation` attacks a formal result whose formal text does not say what its claim says.
ATTACK_KINDS = ("objection", "counterexample", "missing_assumption", "unfaithful_formalisation")
CRITIQUE_KINDS = ATTACK_KINDS + ("support",)
REBUTTAL_ACTIONS = ("concede", "revise", "counter")


class Proposal(BaseModel):
    title: str = Field(max_length=400)
    claim: str = Field(max_length=2000)
    rationale: str = Field(default="", max_length=4000)
    math_claims: list[str] = Field(default_factory=list, max_length=5)


class CritiqueItem(BaseModel):
    target: str
    kind: Literal["objection", "counterexample", "missing_assumption", "unfaithful_formalisation", "support"]
    text: str = Field(max_length=4000)


class CritiqueSet(BaseModel):
    critiques: list[CritiqueItem] = Field(max_length=20)


class RebuttalItem(BaseModel):
    target: str
    action: Literal["concede", "revise", "counter"]
    text: str = Field(max_length=4000)
    revised_title: str = Field(default="", max_length=400)
    revised_claim: str = Field(default="", max_length=2000)


class RebuttalSet(BaseModel):
    responses: list[RebuttalItem] = Field(max_length=20)


class Score(BaseModel):
    target: str
    score: int = Field(ge=1, le=10)
    reason: str = Field(default="", max_length=2000)


class Judgement(BaseModel):
    scores: list[Score] = Field(max_length=200)


def _str(max_len: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_len}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def proposal_schema(max_math: int = 2) -> dict[str, Any]:
    return _obj({"title": _str(90), "claim": _str(320), "rationale": _str(420),
                 "math_claims": {"type": "array", "items": _str(160), "maxItems": max_math}})


def critique_schema(targets: list[str], max_items: int) -> dict[str, Any]:
    item = _obj({"target": {"type": "string", "enum": targets},
                 "kind": {"type": "string", "enum": list(CRITIQUE_KINDS)}, "text": _str(360)})
    return _obj({"critiques": {"type": "array", "items": item, "minItems": 1, "maxItems": max_items}})


def rebuttal_schema(targets: list[str]) -> dict[str, Any]:
    item = _obj({"target": {"type": "string", "enum": targets},
                 "action": {"type": "string", "enum": list(REBUTTAL_ACTIONS)}, "text": _str(320),
                 "revised_title": _str(90), "revised_claim": _str(320)})
    # Capped at RebuttalSet's limit: a proposer hit by hundreds of critics answers the first 20, not none.
    cap = RebuttalSet.model_fields["responses"].metadata[0].max_length
    return _obj({"responses": {"type": "array", "items": item, "minItems": 1, "maxItems": min(len(targets), cap)}})


def judgement_schema(targets: list[str]) -> dict[str, Any]:
    item = _obj({"target": {"type": "string", "enum": targets},
                 "score": {"type": "integer", "minimum": 1, "maximum": 10}, "reason": _str(200)})
    return _obj({"scores": {"type": "array", "items": item, "minItems": len(targets),
                            "maxItems": len(targets)}})
