"""RunConfig: the YAML a user writes, validated strictly (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gauntlet.errors import InputError
from gauntlet.yaml_lines import load_with_lines, validated

_MAX_CONFIG_BYTES = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedFormal(_Strict):
    """A formalisation given with a seed math claim, so the debate needs no formaliser call for it."""

    smtlib: str | None = Field(default=None, max_length=256_000, description="SMT-LIB asserting the negation")
    lean: str | None = Field(default=None, max_length=64_000, description="a Lean 4 theorem with its proof")
    assumptions: list[str] = Field(default_factory=list, max_length=10)


_CLAIM_KEYS = ("text", "smtlib", "lean", "assumptions")


class SeedProposal(_Strict):
    title: str = Field(min_length=1, max_length=200)
    claim: str = Field(min_length=1, max_length=2000)
    rationale: str = Field(default="", max_length=4000)
    # Items are written as a text or as {text, smtlib, lean, assumptions}; they are stored split into the
    # texts (what the debate shows) and `formal_claims` (aligned by index, None where only a text was given).
    math_claims: list[str] = Field(default_factory=list, max_length=10)
    formal_claims: list[SeedFormal | None] = Field(default_factory=list, max_length=10)
    # Who defends this idea against its critiques (a proposer or critic on the panel); unset, the protocol assigns
    # one (seeded, balanced) and records it on the idea.
    champion: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _claim_objects(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("math_claims"), list):
            return data
        items = data["math_claims"]
        if not any(isinstance(c, dict) for c in items):
            return data
        if data.get("formal_claims"):
            raise ValueError("give formalisations inside math_claims items or in formal_claims, not both")
        texts: list[Any] = []
        formal: list[Any] = []
        for k, c in enumerate(items):
            if not isinstance(c, dict):
                texts.append(c)
                formal.append(None)
                continue
            extra = sorted(set(c) - set(_CLAIM_KEYS))
            if extra:
                raise ValueError(f"math_claims item {k + 1} has unknown key {extra[0]!r}; use text, smtlib, "
                                 "lean, assumptions")
            if not isinstance(c.get("text"), str) or not c["text"].strip():
                raise ValueError(f"math_claims item {k + 1} needs `text`: the claim in words")
            texts.append(c["text"])
            formal.append({key: v for key, v in c.items() if key != "text"})
        return {**data, "math_claims": texts, "formal_claims": formal}

    @model_validator(mode="after")
    def _aligned(self) -> "SeedProposal":
        if self.formal_claims and len(self.formal_claims) != len(self.math_claims):
            raise ValueError("formal_claims must have one entry (or null) per math_claims item")
        return self

    def formal_for(self, index: int) -> SeedFormal | None:
        """The formalisation given for math claim `index` (0-based), if any."""
        return self.formal_claims[index] if index < len(self.formal_claims) else None


class Panel(_Strict):
    proposers: list[str] = Field(default_factory=list, max_length=512)
    critics: list[str] = Field(min_length=1, max_length=1024)
    judge: str | None = None


class ModelConfig(_Strict):
    backend: Literal["embedded", "openai"] = "embedded"
    name: str = Field(default="", max_length=200, description="model name sent to an OpenAI-compatible server")
    base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    api_key_env: str | None = Field(default=None, max_length=100, description="env var holding the API key")
    path: str | None = Field(default=None, max_length=1000, description="GGUF file for the embedded backend")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=320, ge=16, le=16384)
    concurrency: int = Field(default=16, ge=1, le=4096)
    timeout_s: float = Field(default=120.0, gt=0, le=3600)
    max_retries: int = Field(default=4, ge=0, le=20)
    n_ctx: int = Field(default=4096, ge=512, le=131072)
    threads: int | None = Field(default=None, ge=1, le=256)
    # How response_format carries the schema: json_schema (OpenAI, vLLM), json_object + schema (llama-cpp-python's
    # server, which rejects json_schema); auto sends json_schema and switches for good on that rejection.
    structured_output: Literal["auto", "json_schema", "json_object"] = "auto"
    # Gauntlet starts the server itself (waits on health, stops it at the end); see agents/launch.py. Processes
    # launching the same engine and port share one server (agents/server_share.py): the last one out stops it.
    launch: bool = False
    # vllm: `vllm serve name` (GPU); llama.cpp: llama-cpp-python's server on `path` (default: the embedded GGUF), CPU.
    launch_engine: Literal["vllm", "llama.cpp"] = "vllm"
    tensor_parallel_size: int = Field(default=1, ge=1, le=64)
    launch_port: int = Field(default=8000, ge=1, le=65535)
    launch_args: list[str] = Field(default_factory=list, max_length=64, description="extra `vllm serve` flags")
    launch_timeout_s: float = Field(default=900.0, gt=0, le=7200, description="how long to wait on /health")

    @model_validator(mode="after")
    def _endpoint_needs_url(self) -> "ModelConfig":
        if self.launch and self.backend != "openai":
            raise ValueError("launch: true needs backend 'openai' (Gauntlet then talks to the server it starts)")
        if self.launch and self.launch_engine == "vllm" and not self.name:
            raise ValueError("launch: true needs backend 'openai' and name (the model vllm serves, e.g. "
                             "Qwen/Qwen2.5-7B-Instruct)")
        if self.backend == "openai" and not self.base_url and not self.launch:
            raise ValueError("backend 'openai' needs base_url (e.g. http://127.0.0.1:8000/v1)")
        return self


class ProverConfig(_Strict):
    enabled: bool = True
    z3: bool = True
    lean: bool = False
    timeout_s: float = Field(default=5.0, gt=0, le=600)
    # Where checks run: here, or as Ray tasks (provers/pool.py); Lean checks on a cluster of Lean machines.
    pool: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(default=None, max_length=300, pattern=r"^(auto|ray://[\w.\-]+:\d+|[\w.\-]+:\d+)$",
                                    description="None: a local Ray; auto: the running cluster; ray://HEAD:10001")
    # The faithfulness gate (provers/pipeline.py): k candidates per claim, z3-error repairs per candidate, how
    # many surviving candidates must agree, and whether a back-translation + judge call must confirm the meaning.
    k: int = Field(default=3, ge=1, le=16)
    repairs: int = Field(default=1, ge=0, le=5)
    min_agree: int = Field(default=2, ge=1, le=16)
    back_translate: bool = True
    # Unanimity: a verdict needs ALL k candidates to pass and agree (min_agree is then unused); witness: a
    # refutation needs its counterexample, read in the claim's words, to break the sentence (2 calls).
    unanimous: bool = True
    witness: bool = True

    @model_validator(mode="after")
    def _ray_available(self) -> "ProverConfig":
        import importlib.util

        if self.ray_address and self.pool != "ray":
            raise ValueError("ray_address is only used with pool: ray")
        if self.pool == "ray" and importlib.util.find_spec("ray") is None:
            raise ValueError("pool: ray needs Ray installed: pip install -e '.[cluster]' (or use pool: local)")
        return self


class Budgets(_Strict):
    max_calls: int | None = Field(default=None, ge=1, le=10_000_000)
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000_000)
    wall_seconds: float | None = Field(default=None, gt=0, le=30 * 24 * 3600)


class Rulings(_Strict):
    """Who rules on critiques: `jury_size` jurors per critique, never its critic nor the target's
    author, each ruling alone; a split jury leaves the critique contested."""

    jury_size: int = Field(default=1, ge=1, le=15)
    jurors: list[str] = Field(default_factory=list, max_length=64,
                              description="panel personas to draw jurors from; default: judge, critics, proposers")


class LibraryOptions(_Strict):
    """The failure-mode library in the critique move (gauntlet.agents.failure_modes): the shipped entries plus
    the .yaml files in `dirs`; for each idea, `top_k` nearest entries are checked for applicability and those
    at or above `threshold` are shown to the critic."""

    enabled: bool = True
    dirs: list[str] = Field(default_factory=list, max_length=32, description="directories of user library files")
    top_k: int = Field(default=3, ge=1, le=20)
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0,
                             description="applicability probability an entry needs (without a calibration)")
    max_shown: int = Field(default=2, ge=1, le=10, description="applicable entries shown per idea")


class RunConfig(_Strict):
    """A debate: the topic, who sits on the panel, how they argue, and on which model."""

    topic: str = Field(min_length=1, max_length=4000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    rounds: int = Field(default=1, ge=1, le=50)
    protocol: str = Field(default="gauntlet", description="a name in the protocol registry (gauntlet.graphs.protocols.registry)")
    protocol_options: dict[str, Any] = Field(default_factory=dict,
                                             description="options of the chosen protocol (see its module)")
    seed_proposals: list[SeedProposal] = Field(default_factory=list, max_length=50)
    panel: Panel
    model: ModelConfig = Field(default_factory=ModelConfig)
    provers: ProverConfig = Field(default_factory=ProverConfig)
    budgets: Budgets = Field(default_factory=Budgets)
    critiques_per_critic: int = Field(default=2, ge=1, le=10)
    # Coverage rule: every idea is critiqued by at least this many distinct personas (fewer only when the panel,
    # less the idea's owner, is smaller); the protocol allocates the work (gauntlet.graphs.protocols.allocation).
    min_critics_per_idea: int = Field(default=2, ge=1, le=64)
    rulings: Rulings = Field(default_factory=Rulings)
    library: LibraryOptions = Field(default_factory=LibraryOptions)
    # Several models: named endpoints, and routes from a persona name or a role (proposers, critics, judge)
    # to an endpoint name; anything unrouted uses `model`. E.g. a strong judge and cheaper critics.
    endpoints: dict[str, ModelConfig] = Field(default_factory=dict, max_length=32)
    routes: dict[str, str] = Field(default_factory=dict, max_length=4096)

    @model_validator(mode="after")
    def _routes_resolve(self) -> "RunConfig":
        panel = set(self.panel.proposers) | set(self.panel.critics) | {self.panel.judge or ""}
        for who, where in self.routes.items():
            if where != "default" and where not in self.endpoints:
                raise ValueError(f"routes.{who} names endpoint {where!r}, which is not under endpoints "
                                 f"(have: default{''.join(', ' + e for e in self.endpoints)})")
            if who not in panel and who not in ("proposers", "critics", "judge"):
                raise ValueError(f"routes key {who!r} is neither a panel persona nor proposers/critics/judge")
        return self

    @model_validator(mode="after")
    def _champions_on_panel(self) -> "RunConfig":
        defenders = set(self.panel.proposers) | set(self.panel.critics)
        for k, sp in enumerate(self.seed_proposals):
            if sp.champion is None:
                continue
            if sp.champion == self.panel.judge and sp.champion not in defenders:
                raise ValueError(f"seed_proposals.{k}.champion {sp.champion!r} is the judge, who may not judge "
                                 "an idea it defends; name a proposer or critic")
            if sp.champion not in defenders:
                raise ValueError(f"seed_proposals.{k}.champion {sp.champion!r} is not on the panel; name one of "
                                 "panel.proposers or panel.critics")
        return self

    @model_validator(mode="after")
    def _jurors_on_panel(self) -> "RunConfig":
        panel = set(self.panel.proposers) | set(self.panel.critics) | {self.panel.judge or ""}
        for who in self.rulings.jurors:
            if who not in panel:
                raise ValueError(f"rulings.jurors names {who!r}, who is not on the panel; add it to panel.critics "
                                 "or remove it")
        return self

    @model_validator(mode="after")
    def _someone_proposes(self) -> "RunConfig":
        if not self.panel.proposers and not self.seed_proposals:
            raise ValueError("nothing to debate: give panel.proposers or seed_proposals")
        return self


def _fix_for(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "remove this key (unknown keys are not ignored)"
    if kind == "missing":
        return "add this key"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return "use a value within the stated range"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        noun = {"int": "an integer", "float": "a number", "bool": "true or false", "string": "a text",
                "list": "a list", "dict": "a mapping"}.get(kind.split("_")[0], "a valid")
        return f"give {noun} value" if noun == "a valid" else f"give {noun}"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', 'the allowed values')}"
    if kind in ("string_too_short", "too_short"):
        return "give a non-empty value"
    if kind in ("string_too_long", "too_long"):
        return "shorten it"
    if kind == "string_pattern_mismatch":
        return f"match the pattern {ctx.get('pattern', '')}"
    return "see runs/configs/demo.yaml for a valid example"


def parse_shape(text: str, source: str = "<config>") -> tuple[RunConfig, dict]:
    """Validate YAML text into a RunConfig (its shape only: protocols and persona cards are checked by
    `gauntlet.graphs.run.loading`); return it with the YAML line map; raise InputError (one line) if wrong."""
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", file=source,
                         line=mark.line + 1 if mark else None,
                         fix="check indentation, colons and quoting") from None
    if data is None:
        raise InputError("config is empty", file=source, fix="copy runs/configs/demo.yaml and edit it")
    if not isinstance(data, dict):
        raise InputError("config must be a YAML mapping of keys to values", file=source, line=1,
                         fix="start from runs/configs/demo.yaml")
    return validated(RunConfig, data, lines, source, _fix_for), lines


def read_config_text(path: str | Path) -> str:
    """A config file's text, refusing what is not a small UTF-8 text file (errors name the file and fix)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("config file not found", file=str(p), fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a directory, not a config file", file=str(p),
                         fix="give a .yaml file") from None
    except OSError as exc:
        raise InputError(f"cannot read config ({exc.strerror})", file=str(p), fix="check permissions") from None
    if len(raw) > _MAX_CONFIG_BYTES:
        raise InputError("config is over 1 MB", file=str(p), fix="a run config is a short YAML file")
    if b"\x00" in raw:
        raise InputError("config is a binary file", file=str(p), fix="give a YAML text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("config is not UTF-8 text", file=str(p), fix="save it as UTF-8") from None
    return text
