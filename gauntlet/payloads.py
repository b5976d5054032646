"""Typed payloads of the event log: one pydantic model per event kind, and one per node kind for a node's `data`.

The log is the single source for replay, fork, views, exports and the dashboard, so its shapes are written down
once, here. Writers build payloads with these models (moves' `node`/`edge`, the runner's lifecycle events); the
store validates every event once in `Store.append` (a run file being imported included, so a hostile file is
refused with the field that is wrong); readers parse with `parse_payload`/`node_data` and get typed objects.

Envelopes are closed (`extra="forbid"`): a node is exactly id, kind, persona, round, title, text, data. A node's
`data` and an LLM call's record are open records (`extra="allow"`): the fields the semantics and the views rely on
are typed and checked, and a move may add diagnostics beside them without a schema change.
Core: imports nothing above `gauntlet.kinds` and `gauntlet.errors`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import models_json_schema

from gauntlet.errors import InputError
from gauntlet.kinds import (ClaimKind, CritiqueKind, EdgeKind, FlawType, FormalCheck, FormalVerdict, NodeKind,
                            RebuttalAction, RulingOutcome, Severity)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- node data, by node kind --------------------------------------------------------------------------------
class NodeData(_Open):
    """What every node's data may carry: the corpus passages its persona was grounded on."""

    citations: list[dict[str, Any]] = Field(default_factory=list)


class IdeaData(NodeData):
    rationale: str = ""
    champion: str = ""  # the persona defending a seed idea
    champion_source: str = ""
    revises: str = ""  # the idea this one revises
    intuition: bool = False  # a deconfusion holder's intuition


class ClaimData(NodeData):
    champion: str = ""
    claim_kind: ClaimKind | None = None  # the author's triage: only a theorem goes to the formaliser
    quantities: list[str] = Field(default_factory=list)
    smtlib: str | None = None
    lean: str | None = None


class CritiqueData(NodeData):
    target: str = ""
    critique_kind: CritiqueKind | None = None
    anchor: str = ""  # the target's words it attacks, verified verbatim
    anchor_match: str = ""  # exact | snapped | none
    anchor_span: list[int] = Field(default_factory=list)
    anchor_given: str = ""  # what the critic quoted, when it was snapped or missed
    unanchored: bool = False  # its quote is not in the target: it answers but attacks nothing
    flaw_type: FlawType | None = None
    severity: Severity | None = None
    failed_check: Literal["", FormalCheck] = ""  # for unfaithful_formalisation: the gate check the critic says failed
    assigned: bool = False
    reasked: bool = False
    toy_case: bool = False
    match: int | None = None  # a tournament match argument: which match, for which side
    side: str = ""
    # Entries of the failure-mode library the critic was given for this target, and the citations of those its
    # critique drew on: {entry, title, authors, year, link}.
    library_entries: list[str] = Field(default_factory=list)
    cites: list[dict[str, Any]] = Field(default_factory=list)


class RebuttalData(NodeData):
    target: str = ""  # the critique it answers
    action: RebuttalAction | None = None


class RulingData(NodeData):
    """A jury's ruling on one critique. Each vote (accepted or abstained) carries `p_sustained`, the calibrated
    probability its juror model gave the critique; `threshold` and `calibration` say what it had to reach, and
    under which calibration (a vote below its threshold is an abstention that still shows p)."""

    critique: str
    target: str = ""
    outcome: RulingOutcome
    reason: str = ""
    votes: list[dict[str, Any]] = Field(default_factory=list)
    abstained: list[Any] = Field(default_factory=list)
    threshold: float | None = None  # the sustained threshold of the (first) juror's calibration
    calibration: str = ""  # its id; several jurors on different models: ids joined with ", "
    severity: Severity | None = None
    flaw_type: FlawType | None = None


class JudgementData(NodeData):
    blind: bool = False
    scores: list[dict[str, Any]] = Field(default_factory=list)
    match: dict[str, Any] | None = None
    elo: dict[str, Any] | None = None


class FormalResultData(NodeData):
    verdict: FormalVerdict
    prover: str = ""
    claim: str = ""  # the claim node it decides
    claim_text: str = ""
    detail: str = ""
    counterexample: dict[str, Any] | None = None
    counterexample_text: str | None = None
    smtlib: str | None = None
    lean: str | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)  # each gate check: check, passed, reason
    candidates: list[dict[str, Any]] = Field(default_factory=list)


class HumanNoteData(NodeData):
    author: str = ""
    target: str = ""


NODE_DATA: dict[str, type[NodeData]] = {
    "idea": IdeaData, "claim": ClaimData, "critique": CritiqueData, "rebuttal": RebuttalData, "ruling": RulingData,
    "judgement": JudgementData, "formal_result": FormalResultData, "human_note": HumanNoteData,
}


# --- event payloads, by event kind ----------------------------------------------------------------------------
class NodePayload(_Closed):
    id: str = Field(min_length=1)
    kind: NodeKind
    persona: str = ""
    round: int = Field(default=0, ge=0)
    title: str = ""
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _data_fits_kind(self) -> NodePayload:
        try:
            NODE_DATA.get(self.kind, NodeData).model_validate(self.data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"data.{_loc(err)}: {err['msg']}") from None
        return self

    def typed_data(self) -> NodeData:
        return node_data(self.kind, self.data)


class EdgePayload(_Closed):
    src: str = Field(min_length=1)
    dst: str = Field(min_length=1)
    kind: EdgeKind


class LLMCallPayload(_Open):
    """One model call as the moves record it: the prompt, the answer, and what it cost."""

    key: str
    persona: str
    phase: str
    round: int = Field(ge=0)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    response: str = ""
    model: str = ""
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    latency_s: float = Field(default=0.0, ge=0)
    queued_s: float = Field(default=0.0, ge=0)
    attempts: int = Field(default=1, ge=0)
    faults: list[Any] = Field(default_factory=list)
    repaired: bool = False
    citations: list[dict[str, Any]] = Field(default_factory=list)
    closing: bool = False  # a call of the closing critique pass
    reask: bool = False  # a juror asked again about the critiques it skipped


class RunStartedPayload(_Closed):
    config: dict[str, Any]
    source: str = ""


class RunResumedPayload(_Closed):
    previous_status: str


class RunForkedPayload(_Closed):
    parent_run_id: str
    parent_step: int = Field(ge=0)
    changes: dict[str, Any] = Field(default_factory=dict)


class RoundStartedPayload(_Closed):
    round: int = Field(ge=0)


class CheckPayload(_Open):
    check: str
    passed: bool
    reason: str = ""


class BudgetReachedPayload(_Closed):
    reason: str


class RunEndedPayload(_Closed):
    """run_finished, run_failed and run_interrupted: why it ended, when it did not end well."""

    error: str | None = None


EVENT_PAYLOADS: dict[str, type[BaseModel]] = {
    "run_started": RunStartedPayload, "run_resumed": RunResumedPayload, "run_forked": RunForkedPayload,
    "round_started": RoundStartedPayload, "llm_call": LLMCallPayload, "node": NodePayload, "edge": EdgePayload,
    "check": CheckPayload, "budget_reached": BudgetReachedPayload, "run_finished": RunEndedPayload,
    "run_failed": RunEndedPayload, "run_interrupted": RunEndedPayload,
}


def json_schemas() -> tuple[dict[str, Any], dict[str, str]]:
    """($defs of every payload model, event kind → its $ref), generated from the models (never written by hand)."""
    models = sorted(set(EVENT_PAYLOADS.values()), key=lambda m: m.__name__)
    refs, schema = models_json_schema([(m, "validation") for m in models], ref_template="#/$defs/{model}")
    by_model = {m: refs[(m, "validation")]["$ref"] for m in models}
    return schema.get("$defs", {}), {kind: by_model[m] for kind, m in EVENT_PAYLOADS.items()}


def parse_payload(kind: str, payload: Any, *, where: str = "") -> BaseModel:
    """The typed payload of one event; bad input raises InputError naming the event and the field."""
    model = EVENT_PAYLOADS.get(kind)
    if model is None:
        raise InputError(f"unknown event kind {kind!r}", field=where or "kind",
                         fix="use one of " + ", ".join(EVENT_PAYLOADS))
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise _payload_error(exc, kind, payload, where) from None


def node_data(kind: str, data: dict[str, Any]) -> NodeData:
    """A node's data as its kind's typed model (an unknown field is kept, a wrong known field is refused)."""
    try:
        return NODE_DATA.get(kind, NodeData).model_validate(data)
    except ValidationError as exc:
        raise _payload_error(exc, "node", {"kind": kind, "data": data}, "data") from None


def _loc(err: Any) -> str:
    return ".".join(str(p) for p in err["loc"])


def _payload_error(exc: ValidationError, kind: str, payload: Any, where: str) -> InputError:
    err = exc.errors()[0]
    what = kind
    if kind == "node" and isinstance(payload, dict):
        what = f"{payload.get('kind')} node {payload.get('id', '')}".strip()
    loc = _loc(err)
    msg = str(err["msg"]).removeprefix("Value error, ")
    return InputError(f"{what} payload: {msg}", field=".".join(p for p in (where or "payload", loc) if p),
                      fix="write payloads with the models in gauntlet.payloads; a run file: pass an unedited one")
