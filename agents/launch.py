"""Launching a model server from a ModelConfig: `vllm serve` (GPU) or llama-cpp-python's server (CPU), started,
awaited until healthy, stopped at the end.

`vllm_command` / `llamacpp_command` are pure (tested without a GPU); `ModelServer` owns the process. vLLM: prefix
caching is always on, since every call of a persona starts with the same rules and persona card
(agents/prompts.py). llama.cpp: the embedded GGUF unless model.path names another, served by llama_cpp.server
through agents/llamacpp_server.py (the load parameters this CPU needs); it answers one request at a time, so
several processes sharing it (agents/server_share.py) take turns instead of each loading 1 GB.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from gauntlet.config import ModelConfig
from gauntlet.errors import InputError

# Flags Gauntlet sets itself; a launch_args entry repeating one would silently fight it.
_OWN_FLAGS = ("--host", "--port", "--tensor-parallel-size", "--enable-prefix-caching", "--served-model-name")


def vllm_command(cfg: ModelConfig, *, host: str = "127.0.0.1", executable: str = "vllm") -> list[str]:
    """The argv of `vllm serve` for this model config (no process is started)."""
    if not cfg.name:
        raise InputError("model.launch needs model.name (the Hugging Face id or local path to serve)",
                         field="model.name", fix="e.g. name: Qwen/Qwen2.5-7B-Instruct")
    for arg in cfg.launch_args:
        if arg.split("=", 1)[0] in _OWN_FLAGS:
            raise InputError(f"launch_args sets {arg.split('=', 1)[0]}, which Gauntlet sets itself",
                             field="model.launch_args", fix="use model.launch_port / tensor_parallel_size instead")
    cmd = [executable, "serve", cfg.name, "--host", host, "--port", str(cfg.launch_port),
           "--tensor-parallel-size", str(cfg.tensor_parallel_size), "--enable-prefix-caching",
           "--served-model-name", cfg.name, "--max-num-seqs", str(max(cfg.concurrency, 16))]
    # Structured output is how every debate move answers; vLLM's default backend handles response_format.
    return cmd + list(cfg.launch_args)


LLAMACPP_ALIAS = "embedded"  # the name llama.cpp's server answers to when model.name is empty
_LLAMACPP_OWN_FLAGS = ("--host", "--port", "--model", "--model_alias", "--n_ctx", "--n_threads",
                       "--n_threads_batch")


def llamacpp_command(cfg: ModelConfig, *, host: str = "127.0.0.1", python: str | None = None,
                     model_file: str | None = None) -> list[str]:
    """The argv of llama-cpp-python's OpenAI-compatible server for this config (no process is started).

    `model_file` defaults to model.path; the caller resolves the embedded GGUF when neither is given.
    """
    for arg in cfg.launch_args:
        if arg.split("=", 1)[0] in _LLAMACPP_OWN_FLAGS:
            raise InputError(f"launch_args sets {arg.split('=', 1)[0]}, which Gauntlet sets itself",
                             field="model.launch_args", fix="use model.path / n_ctx / threads / launch_port")
    path = model_file or cfg.path
    if not path:
        raise InputError("the llama.cpp launch needs a GGUF file", field="model.path",
                         fix="leave model.path empty to serve the embedded model, or name a .gguf file")
    threads = str(cfg.threads or max(1, os.cpu_count() or 1))
    # Through Gauntlet's wrapper of llama_cpp.server: the same arguments, loaded without the AMX weight repack.
    return [python or sys.executable, "-m", "gauntlet.agents.llamacpp_server", "--model", str(path), "--host", host,
            "--port", str(cfg.launch_port), "--model_alias", cfg.name or LLAMACPP_ALIAS, "--n_ctx", str(cfg.n_ctx),
            "--n_threads", threads, "--n_threads_batch", threads, *cfg.launch_args]


def base_url_for(cfg: ModelConfig, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{cfg.launch_port}/v1"


def served_name(cfg: ModelConfig) -> str:
    """The model name the launched server answers to (what /v1/models lists)."""
    return cfg.name or (LLAMACPP_ALIAS if cfg.launch_engine == "llama.cpp" else "")


class ModelServer:
    """One launched server process: start() waits until it is healthy; stop() ends its process group."""

    def __init__(self, cfg: ModelConfig, *, host: str = "127.0.0.1", executable: str | None = None,
                 log_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.host = host
        self.engine = cfg.launch_engine
        if self.engine == "llama.cpp":
            self.executable = executable or (sys.executable if _has_llamacpp_server() else "")
        else:
            self.executable = executable or shutil.which("vllm") or ""
        self.base_url = base_url_for(cfg, host)
        tag = "vllm" if self.engine == "vllm" else "llamacpp"
        self.log_path = (log_dir or Path(tempfile.gettempdir())) / f"gauntlet-{tag}-{cfg.launch_port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        if self.engine == "llama.cpp":
            model_file = self.cfg.path
            if not model_file:
                from gauntlet.agents.embedded import model_path
                model_file = str(model_path())  # assembled once from the chunk packages
            return llamacpp_command(self.cfg, host=self.host, python=self.executable or None, model_file=model_file)
        return vllm_command(self.cfg, host=self.host, executable=self.executable or "vllm")

    def start(self, poll_s: float = 1.0) -> "ModelServer":
        if not self.executable:
            if self.engine == "llama.cpp":
                raise InputError("model.launch_engine is llama.cpp but its server's web stack is not installed",
                                 field="model.launch_engine", fix="pip install -e '.[serve]'")
            raise InputError("model.launch is true but `vllm` is not installed", field="model.launch",
                             fix="pip install -e '.[gpu]' on a GPU machine, or give model.base_url instead")
        log = open(self.log_path, "wb")
        # Own process group: stop() must reach vLLM's engine and worker processes, not just the CLI.
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            wait_healthy(self.base_url, self.cfg.launch_timeout_s, poll_s=poll_s, proc=self.proc,
                         log_path=self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace_s: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "ModelServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


VllmServer = ModelServer  # the name before llama.cpp launches existed


def _has_llamacpp_server() -> bool:
    """llama-cpp-python's server needs its `server` extra (fastapi, sse-starlette, starlette-context…)."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None
               for m in ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings"))


def health_url(base_url: str) -> str:
    """vLLM serves /health at the root, beside /v1."""
    root = base_url.rstrip("/")
    return (root[:-3] if root.endswith("/v1") else root) + "/health"


def is_healthy(base_url: str, timeout_s: float = 5.0) -> bool:
    """/health answers 200 (vLLM), or, on servers without one (llama-cpp-python: 404), /v1/models does."""
    try:
        status = httpx.get(health_url(base_url), timeout=timeout_s).status_code
        if status == 404:
            status = httpx.get(base_url.rstrip("/") + "/models", timeout=timeout_s).status_code
        return status == 200
    except httpx.HTTPError:
        return False


def wait_healthy(base_url: str, timeout_s: float, *, poll_s: float = 1.0, proc: subprocess.Popen | None = None,
                 log_path: Path | None = None) -> None:
    """Block until GET /health is 200; fail early (with the log's tail) if the process dies."""
    url = health_url(base_url)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-400:].replace("\n", " | ") if log_path else ""
            raise InputError(f"model server exited with code {proc.returncode}: {tail}", field="model.launch",
                             fix=f"see {log_path} (model name, GPU memory, tensor_parallel_size)")
        if is_healthy(base_url, timeout_s=min(5.0, poll_s * 5)):
            return
        if time.monotonic() > deadline:
            raise InputError(f"{url} not healthy after {timeout_s:.0f} s", field="model.launch_timeout_s",
                             fix="raise model.launch_timeout_s (large models load slowly) or check the log")
        time.sleep(poll_s)


def served_model(base_url: str) -> str:
    """The first model an OpenAI-compatible server lists."""
    try:
        data = httpx.get(base_url.rstrip("/") + "/models", timeout=10).json()["data"]
        return str(data[0]["id"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        raise InputError(f"cannot list models at {base_url}/models", field="--endpoint",
                         fix="check the URL (…/v1) and that the server is up, or pass --model") from None


def vllm_bench_command(base_url: str, model: str, result_dir: Path, *, prompts: int = 256,
                       input_len: int = 1024, output_len: int = 256) -> list[str]:
    root = base_url.rstrip("/").removesuffix("/v1")
    return ["vllm", "bench", "serve", "--backend", "openai-chat", "--base-url", root, "--endpoint",
            "/v1/chat/completions", "--model", model, "--dataset-name", "random", "--random-input-len",
            str(input_len), "--random-output-len", str(output_len), "--num-prompts", str(prompts),
            "--save-result", "--result-dir", str(result_dir), "--result-filename", "bench.json"]


def vllm_bench_serve(base_url: str, model: str) -> dict[str, Any]:
    """Run `vllm bench serve` against the endpoint; its saved result (throughputs, TTFT…)."""
    if shutil.which("vllm") is None:
        raise InputError("`vllm bench serve` needs vllm installed", field="--vllm-bench",
                         fix="pip install -e '.[gpu]', or pass --no-vllm-bench")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(vllm_bench_command(base_url, model, Path(tmp)), check=True, capture_output=True)
        data = json.loads((Path(tmp) / "bench.json").read_text())
    keep = ("request_throughput", "output_throughput", "total_token_throughput", "median_ttft_ms",
            "median_tpot_ms", "completed", "duration")
    return {k: data[k] for k in keep if k in data}
