"""What each debate move must return, as pydantic models: the one source of both validation and the JSON schema
sent to the model (`schema_for`), so their limits cannot disagree. Per call, `target` fields are narrowed to the
ids of real nodes and list lengths to what the move asks for."""

from __future__ import annotations

import copy
import functools
from typing import Annotated, Any, Collection, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from gauntlet.kinds import FORMAL_CHECKS as CORE_FORMAL_CHECKS
from gauntlet.kinds import ClaimKind, CritiqueKind, FlawType, FormalCheck, RebuttalAction, Severity

# `unfaithful_formalisation` attacks a formal result whose formal text does not say what its claim says.
ATTACK_KINDS = ("objection", "counterexample", "missing_assumption", "unfaithful_formalisation")
CRITIQUE_KINDS = ATTACK_KINDS + ("support",)
REBUTTAL_ACTIONS = ("concede", "revise", "counter")
# The flaw taxonomy a critique names, each with the question it answers; prompts and docs show these.
FLAW_TYPES = {
    "counterexample": "a concrete case where the claim fails",
    "unstated_assumption": "it relies on an assumption it neither states nor defends",
    "proxy_goodhart": "it optimises a proxy that comes apart from the goal under optimisation pressure",
    "does_not_scale": "it may work for weak systems but breaks as capability grows",
    "evaluator_fooled": "the overseer or evaluator it relies on can be fooled or manipulated",
    "deceptive_alignment": "a deceptive model (treacherous turn) would pass it",
    "unsupported_empirical": "an empirical claim is asserted without evidence",
    "known_prior_result": "a known prior result already contradicts or subsumes it",
    "unfaithful_formalisation": "the formal text does not say what its claim says",
    "none": "no flaw: use with kind support",
}
SEVERITIES = ("fatal", "major", "minor")  # only sustained fatal/major critiques defeat; minor = revision request
# The formalisation gate's checks; an unfaithful_formalisation critique names the one it thinks failed.
FORMAL_CHECKS = CORE_FORMAL_CHECKS  # the core vocabulary (gauntlet.kinds)
RULING_VOTES = ("sustained", "overruled")  # one juror's vote; a split jury makes the outcome `contested`


class MoveModel(BaseModel):
    """A move's output: every field required in the schema (models fill them all), unknown keys refused."""

    model_config = ConfigDict(extra="forbid")


class MathClaim(MoveModel):
    """Triage by the claim's author: only a `theorem` naming its quantities goes to the formaliser;
    an `empirical` claim (a measurement, a forecast, a vague trend) is kept as a claim and never proved/refuted."""

    text: str = Field(max_length=160)
    kind: ClaimKind
    quantities: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list, max_length=4)


class Proposal(MoveModel):
    title: str = Field(max_length=90)
    # Free-text bounds are the demo's generated tokens (most of its wall time on a CPU): room for what the
    # prompt asks for (one sentence, a brief rationale, two sentences of critique), no more.
    claim: str = Field(max_length=240)
    rationale: str = Field(default="", max_length=260)
    math_claims: list[MathClaim] = Field(default_factory=list, max_length=2)



class CritiqueItem(MoveModel):
    """One critique. Field order is generation order: target, then the quoted words, then the verdict on them."""

    target: str
    kind: CritiqueKind
    # The exact words of the target attacked (verified verbatim after normalising case and whitespace).
    # A quoted span: graphs/argument/anchors.py `spans` offers spans of up to 200 characters.
    anchor: str = Field(default="", max_length=240)
    flaw_type: FlawType = "none"
    severity: Severity = "major"
    # For unfaithful_formalisation only: which formalisation check the critic believes failed ("" otherwise).
    failed_check: Literal["", FormalCheck] = ""
    text: str = Field(max_length=260)


class CritiqueSet(MoveModel):
    critiques: list[CritiqueItem] = Field(min_length=1, max_length=20)


class RebuttalItem(MoveModel):
    target: str  # the critique this answers
    action: RebuttalAction
    text: str = Field(max_length=240)
    revised_title: str = Field(default="", max_length=90)
    revised_claim: str = Field(default="", max_length=240)


class RebuttalSet(MoveModel):
    responses: list[RebuttalItem] = Field(min_length=1, max_length=20)


class FlawMatch(MoveModel):
    """The eval's narrow yes/no question: does this critique state this known flaw?"""

    states_flaw: bool
    evidence: str = Field(default="", max_length=200)


class Score(MoveModel):
    target: str
    score: int = Field(ge=1, le=10)
    reason: str = Field(min_length=8, max_length=140)  # the rubric asks for a reason per idea


class Judgement(MoveModel):
    scores: list[Score] = Field(max_length=200)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]), defs)
        out = {}
        for k, v in node.items():
            if k == "properties":  # property names are data, not annotations: keep every one
                out[k] = {name: _inline(prop, defs) for name, prop in v.items()}
            elif k not in ("title", "default", "$defs"):
                out[k] = _inline(v, defs)
        if out.get("type") == "object" and "properties" in out:
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


@functools.lru_cache(maxsize=None)
def _base_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A move model's schema, inlined, built once per model: generating it per call was about half of the
    orchestrator's CPU per critic call at 256 critics (BENCHMARKS.md, served path)."""
    full = model.model_json_schema()
    return _inline(full, full.get("$defs", {}))


@functools.lru_cache(maxsize=None)
def _base_schema_json(model: type[BaseModel]) -> bytes:
    return orjson.dumps(_base_schema(model))


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data: ~15x faster than copy.deepcopy, which was the largest single CPU cost of a
    critic call at 256 critics (BENCHMARKS.md)."""
    return orjson.loads(orjson.dumps(value))


@functools.lru_cache(maxsize=None)
def _property_paths(model: type[BaseModel]) -> dict[str, list[tuple[Any, ...]]]:
    """Where each named property sits in the model's schema: property name → the key paths of the `properties`
    dicts that hold it. Found once per model, so a call narrows its copy without walking the whole schema
    (the walk was ~70 nodes a call, ~50 us, at 256 critics)."""
    found: dict[str, list[tuple[Any, ...]]] = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for name in node.get("properties") or {}:
                found.setdefault(name, []).append(path + ("properties",))
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(_base_schema(model), ())
    return found


def schema_for(model: type[BaseModel], *, enums: dict[str, list[str]] | None = None,
               items: dict[str, tuple[int, int]] | None = None) -> dict[str, Any]:
    """The JSON schema the model is asked to fill, generated from `model`: references inlined, every property
    required; `enums` narrows string fields by name (e.g. target → the ids of real nodes) and `items` sets a
    list field's (minItems, maxItems), never beyond the model's own limit."""
    schema = orjson.loads(_base_schema_json(model))  # callers narrow (and may extend) their own copy
    paths = _property_paths(model)
    for name in {**(enums or {}), **(items or {})}:
        for path in paths.get(name, ()):
            try:
                props = schema
                for step in path:
                    props = props[step]
                prop = props[name]
            except (KeyError, IndexError, TypeError):
                continue  # inside a property an enum above replaced: gone, as the narrowing meant
            if enums and name in enums:
                prop.clear()
                prop.update({"type": "string", "enum": list(enums[name])})
            if items and name in items and prop.get("type") == "array":
                lo, hi = items[name]
                cap = prop.get("maxItems", hi)
                prop["minItems"], prop["maxItems"] = min(lo, cap), min(hi, cap)
    return schema


def proposal_schema(max_math: int = 2) -> dict[str, Any]:
    return schema_for(Proposal, items={"math_claims": (0, max_math)})


def critique_schema(targets: list[str], max_items: int, spans: dict[str, list[str]] | None = None,
                    min_items: int = 1, formal: Collection[str] | None = None) -> dict[str, Any]:
    """`min_items`: at least one critique per idea the protocol assigned to this critic. With `spans` (target id
    → quotable spans of its text), each item is one of a per-target variant whose anchor is an enum of that
    target's spans, so a grammar-constrained model can only quote real words. With `formal` (the targets that are
    formal results), a variant for any other target has no `failed_check` and no unfaithful_formalisation kind."""
    schema = schema_for(CritiqueSet, enums={"target": targets}, items={"critiques": (max(1, min_items), max_items)})
    if spans or formal is not None:
        schema["properties"]["critiques"]["items"] = anchored_variants(schema["properties"]["critiques"]["items"],
                                                                       targets, spans or {}, formal)
    return schema


def anchored_variants(item: dict[str, Any], targets: list[str], spans: dict[str, list[str]],
                      formal: Collection[str] | None = None) -> dict[str, Any]:
    """An item schema with `target` and `anchor` fields turned into one variant per target, whose anchor is an
    enum of that target's quotable spans (one variant: no anyOf). Given `formal`, a target outside it is not a
    formal result: its variant drops the formalisation-only field and kind, which a model otherwise fills with
    noise (a check name on an objection) at a dozen generated tokens an item."""
    variants = []
    for t in targets:
        v = json_copy(item)
        v["properties"]["target"] = {"type": "string", "enum": [t]}
        if spans.get(t):
            v["properties"]["anchor"] = {"type": "string", "enum": list(spans[t])}
        if formal is not None and t not in formal:
            _without_formalisation(v)
        variants.append(v)
    return {"anyOf": variants} if len(variants) > 1 else variants[0]


def _drop(variant: dict[str, Any], names: Collection[str]) -> None:
    """Remove properties from an object schema, and from its required list."""
    for name in names:
        variant["properties"].pop(name, None)
    variant["required"] = [r for r in variant.get("required", []) if r in variant["properties"]]


def _without_formalisation(variant: dict[str, Any]) -> None:
    props = variant["properties"]
    _drop(variant, ("failed_check",))
    for name in ("kind", "flaw_type"):
        if "enum" in props.get(name, {}):
            props[name]["enum"] = [k for k in props[name]["enum"] if k != "unfaithful_formalisation"]


def flaw_match_schema() -> dict[str, Any]:
    return schema_for(FlawMatch)


def rebuttal_schema(targets: list[str]) -> dict[str, Any]:
    """One variant per action: `revise` carries the revised title and claim, `concede` and `counter` do not. The
    action comes before the text, so a grammar-constrained model that chose counter never writes the two empty
    revised fields (a dozen tokens an answer); a served model reads the same choice from the schema."""
    # Capped at RebuttalSet's limit: a proposer hit by hundreds of critics answers the first 20, not none.
    schema = schema_for(RebuttalSet, enums={"target": targets}, items={"responses": (1, len(targets))})
    item = schema["properties"]["responses"]["items"]
    variants = []
    for action in REBUTTAL_ACTIONS:
        v = json_copy(item)
        v["properties"]["action"] = {"type": "string", "enum": [action]}
        if action != "revise":
            _drop(v, ("revised_title", "revised_claim"))
        variants.append(v)
    schema["properties"]["responses"]["items"] = {"anyOf": variants}
    return schema


def judgement_schema(targets: list[str]) -> dict[str, Any]:
    return schema_for(Judgement, enums={"target": targets}, items={"scores": (len(targets), len(targets))})
