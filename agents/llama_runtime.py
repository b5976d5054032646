"""How Gauntlet runs llama.cpp on this machine: the model-load parameters chosen from the CPU, and the lock that
keeps two Gauntlet processes from running a model at once.

Load parameters. llama.cpp's CPU backend repacks quantised weights into "extra buffer types" when the CPU
supports a faster layout; on CPUs with AMX (Intel Sapphire Rapids and later) it picks the AMX path for Q4_K_M
weights, and `ggml_backend_amx_mul_mat` crashes with SIGSEGV on the first prompt longer than a few tokens
(llama.cpp issue 20824, closed unfixed). Loading with `use_extra_bufts = False` avoids it and answers the same.
`Llama(...)` has no argument for it, so `apply()` wraps llama_cpp's `llama_model_default_params`, which every
`Llama` (and llama_cpp.server, which builds a `Llama`) reads when it loads a model. On 2 AMD EPYC (Zen 4,
AVX-512, no AMX) cores the repack is a trade, not a gain: without it prompts evaluate faster (best of interleaved
runs ~145 vs ~100 tokens/s) and single tokens decode slower (~24 vs ~31 tokens/s); the demo, most of whose
tokens are prompt tokens now that rulings are scored, comes out even or ahead. So the default turns it off
everywhere, which also means the tests on any CI machine run the configuration AMX machines get. Set
GAUNTLET_LLAMA_REPACK=on to have it back (e.g. to test a llama.cpp that fixed AMX), or =auto to turn it off only
where the CPU reports AMX.

The model lock. Two llama.cpp processes on 2 cores slow each other about tenfold (each spins its threads while
the other holds the cores), so every in-process model call holds an exclusive `fcntl.flock` on
`<tempdir>/gauntlet-embedded.lock` (GAUNTLET_MODEL_LOCK moves it): a second Gauntlet process waits for the call
to end instead of fighting it. It is a different file from any lock a user takes around whole commands, so a
command run under `flock /tmp/gauntlet-model.lock …` never deadlocks against itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

REPACK_ENV = "GAUNTLET_LLAMA_REPACK"
LOCK_ENV = "GAUNTLET_MODEL_LOCK"
AMX_FLAGS = ("amx_tile", "amx_int8", "amx_bf16")


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU feature flags of the first processor in /proc/cpuinfo (or of the given text); empty if unknown."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_features(flags: frozenset[str]) -> dict[str, bool]:
    """The features that decide llama.cpp's CPU kernels, as `doctor` reports them."""
    return {"avx2": "avx2" in flags, "avx512": "avx512f" in flags, "amx": has_amx(flags)}


def has_amx(flags: frozenset[str]) -> bool:
    return any(f in flags for f in AMX_FLAGS)


@dataclass(frozen=True)
class LoadParams:
    """What Gauntlet changes in llama.cpp's default model parameters, and why."""

    use_extra_bufts: bool
    reason: str

    @property
    def amx_workaround(self) -> bool:
        return not self.use_extra_bufts


def load_params(flags: frozenset[str], setting: str | None = None) -> LoadParams:
    """The load parameters for a CPU with these flags. `setting` is GAUNTLET_LLAMA_REPACK: on, off, auto
    (off only where the CPU has AMX) or empty (off: the repack crashed on AMX and bought nothing elsewhere)."""
    choice = (setting or "").strip().lower()
    amx = has_amx(flags)
    if choice in ("on", "1", "true", "yes"):
        return LoadParams(True, f"{REPACK_ENV}={setting}: weight repack on" + (" (CPU has AMX)" if amx else ""))
    if choice in ("auto",):
        if amx:
            return LoadParams(False, "CPU has AMX: weight repack off (its AMX kernel crashes)")
        return LoadParams(True, f"{REPACK_ENV}=auto and no AMX: weight repack on")
    if choice not in ("", "off", "0", "false", "no"):
        from gauntlet.errors import InputError
        raise InputError(f"{REPACK_ENV}={setting!r} is not on, off or auto", field=REPACK_ENV,
                         fix=f"unset {REPACK_ENV}, or set it to on, off or auto")
    return LoadParams(False, "weight repack off" + (" (CPU has AMX: its AMX kernel crashes)" if amx else
                                                    " (default: it crashes on AMX CPUs; a wash elsewhere)"))


def current_params(env: Mapping[str, str] | None = None, cpuinfo: str | None = None) -> LoadParams:
    """The load parameters for this machine and environment."""
    env = os.environ if env is None else env
    return load_params(cpu_flags(cpuinfo), env.get(REPACK_ENV))


_PATCH_LOCK = threading.Lock()


def apply(params: LoadParams, module: Any = None) -> None:
    """Make every later model load in this process use `params`: wrap llama_cpp's default-parameter function
    (llama_cpp.llama_cpp, which `Llama.__init__` calls through the module at load time). Idempotent; a later
    call replaces the earlier choice."""
    if module is None:
        import llama_cpp.llama_cpp as module  # noqa: PLC0415 - the native library loads only when a model does
    with _PATCH_LOCK:
        original = getattr(module.llama_model_default_params, "gauntlet_original",
                           module.llama_model_default_params)

        def llama_model_default_params() -> Any:
            out = original()
            out.use_extra_bufts = params.use_extra_bufts
            return out

        llama_model_default_params.gauntlet_original = original  # type: ignore[attr-defined]
        llama_model_default_params.params = params  # type: ignore[attr-defined]
        module.llama_model_default_params = llama_model_default_params


def applied(module: Any = None) -> LoadParams | None:
    """The parameters `apply` installed in this process (None: llama.cpp's own defaults)."""
    if module is None:
        import llama_cpp.llama_cpp as module  # noqa: PLC0415
    return getattr(module.llama_model_default_params, "params", None)


DECODER_ENV = "GAUNTLET_LLAMA_DECODER"
_ON = ("on", "1", "true", "yes")
_OFF = ("off", "0", "false", "no")


@dataclass(frozen=True)
class DecoderChoice:
    """Whether generation runs on a second copy of the weights with the repack on (agents/llama_session.py).

    Measured on 2 AMD EPYC (Zen 4, AVX-512) cores at a 1,400-token context: without the repack prompts evaluate
    at ~102 tokens/s and a generated token takes ~67 ms; with it, ~72 tokens/s and ~52 ms. So prompts are
    evaluated on the unrepacked model and, when a call generates, its prompt state (KV cache, ~40 MB) is handed to
    the repacked copy for the tokens it writes: 80 of 80 greedy tokens were the same, 17% faster, for ~1.2 GB more
    memory. Off where the CPU has AMX (the repacked weights crash there), where the prompt model is already
    repacked (GAUNTLET_LLAMA_REPACK=on), on CPUs without AVX-512 (not measured: =on tries it), and when free
    memory is short. GAUNTLET_LLAMA_DECODER=off turns it off (a run's text then comes from one set of kernels)."""

    enabled: bool
    reason: str


def decoder_choice(flags: frozenset[str], params: LoadParams, setting: str | None = None,
                   available: int | None = None, model_bytes: int = 0) -> DecoderChoice:
    """The choice for a CPU with these flags, the prompt model's load parameters, GAUNTLET_LLAMA_DECODER's value,
    the memory available (bytes, None if unknown) and the model file's size."""
    choice = (setting or "").strip().lower()
    if choice not in ("", "auto", *_ON, *_OFF):
        from gauntlet.errors import InputError
        raise InputError(f"unknown {DECODER_ENV} value {setting!r}", field=DECODER_ENV, fix="use on, off or auto")
    if choice in _OFF:
        return DecoderChoice(False, f"{DECODER_ENV}={setting}: one model for prompts and generation")
    if has_amx(flags):
        return DecoderChoice(False, "CPU has AMX: no repacked copy for generation (its AMX kernel crashes)")
    if params.use_extra_bufts:
        return DecoderChoice(False, "the model already loads with the weight repack")
    if choice not in _ON and "avx512f" not in flags:
        return DecoderChoice(False, f"no AVX-512: a repacked decoder is not measured here ({DECODER_ENV}=on tries it)")
    if available is not None and model_bytes and available < 2 * model_bytes + (1 << 30):
        return DecoderChoice(False, f"{available >> 20} MB free: too little for a second copy of the weights")
    return DecoderChoice(True, "generation on a repacked copy of the weights (~17% faster tokens here), prompts "
                               "on the unrepacked model")


def available_memory(meminfo: str | None = None) -> int | None:
    """MemAvailable from /proc/meminfo, in bytes (None if unknown)."""
    if meminfo is None:
        try:
            meminfo = Path("/proc/meminfo").read_text()
        except OSError:
            return None
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            return int(parts[1]) * 1024 if len(parts) >= 2 and parts[1].isdigit() else None
    return None


def current_decoder(model_bytes: int, env: Mapping[str, str] | None = None,
                    cpuinfo: str | None = None) -> DecoderChoice:
    env = os.environ if env is None else env
    return decoder_choice(cpu_flags(cpuinfo), current_params(env, cpuinfo), env.get(DECODER_ENV),
                          available_memory(), model_bytes)


def lock_path() -> Path:
    return Path(os.environ.get(LOCK_ENV) or Path(tempfile.gettempdir()) / "gauntlet-embedded.lock")


_THREAD_LOCK = threading.Lock()  # flock is per open file: threads of one process are serialised here first


@contextlib.contextmanager
def model_call_lock() -> Iterator[None]:
    """Hold the machine-wide model lock for one model call (see the module docstring). A lock file this user
    cannot open (another user's, in a shared temp dir) leaves the call unguarded rather than failing it."""
    with _THREAD_LOCK:
        path = lock_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a+")
        except OSError:
            yield
            return
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
