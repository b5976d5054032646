"""Where prover checks run: on this machine (the default) or as Ray tasks on a cluster's CPUs.

A pool runs only the *uncached, screened* part of a check (the `smt.check` / `lean.check` call): hostile Lean is
refused and verdicts are cached by the router on the driver, so nothing unscreened is ever shipped to a worker and a
cache hit costs no task. Lean checks are the reason to use Ray: each one elaborates against Mathlib for seconds to
minutes, and a cluster of Lean-equipped nodes takes a debate's claims in parallel.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any, Callable, Protocol, TypeVar

T = TypeVar("T")

NEEDS_RAY = "pip install -e '.[cluster]' (Ray), or set provers.pool: local"


class PoolError(RuntimeError):
    """The pool could not run a check (a worker died, the cluster went away); the claim itself is not at fault."""


class ProverPool(Protocol):
    name: str

    @property
    def capacity(self) -> int:
        """How many checks may usefully run at once."""

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` somewhere in the pool, blocking until it returns. `fn` must be importable by name."""


class LocalPool:
    """Checks run here: each is already its own sandboxed child process, so one per core."""

    name = "local"

    @property
    def capacity(self) -> int:
        return max(1, os.cpu_count() or 1)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(*args, **kwargs)


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(*args, **kwargs)


class RayPool:
    """Checks run as Ray tasks: local Ray (address None), `auto` (a running cluster) or `ray://HEAD:10001`.

    Inside a Ray worker (a run of `gauntlet sweep`) Ray is already initialised and the checks become nested tasks
    on the same cluster. Every node that takes checks needs Gauntlet installed, and Lean for Lean checks.
    """

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_check: float = 1.0) -> None:
        try:
            import ray
        except ImportError:
            from gauntlet.errors import InputError
            raise InputError("ray is not installed", field="provers.pool", fix=NEEDS_RAY) from None
        self._ray = ray
        self.address = address
        self._connect()
        self.cpus_per_check = cpus_per_check
        # A worker that dies mid-check (OOM killer on a big Lean file) is retried once, then reported.
        self._remote = ray.remote(num_cpus=cpus_per_check, max_retries=1)(_call)

    def _connect(self) -> None:
        if not self._ray.is_initialized():  # also after someone else's ray.shutdown()
            self._ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                           logging_level="ERROR")

    @property
    def capacity(self) -> int:
        self._connect()
        cpus = self._ray.cluster_resources().get("CPU", 1.0)
        return max(1, int(cpus / self.cpus_per_check))

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._connect()
        try:
            return self._ray.get(self._remote.remote(fn, args, kwargs))
        except self._ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            last = (str(cause).strip().splitlines() or [type(cause).__name__])[-1]
            raise PoolError(f"ray task failed: {last[:300]}") from None


_POOLS: dict[tuple[str, str | None], ProverPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(kind: str = "local", address: str | None = None) -> ProverPool:
    """The process's pool of this kind: Ray is initialised once, not per formalise step."""
    with _POOLS_LOCK:
        key = (kind, address if kind == "ray" else None)
        if key not in _POOLS:
            _POOLS[key] = RayPool(address) if kind == "ray" else LocalPool()
        return _POOLS[key]


def check_pool(cfg: Any, *, config_file: str = "") -> None:
    """Fail fast, before a run is created, when `provers.pool: ray` cannot reach (or start) Ray."""
    if not cfg.enabled or cfg.pool != "ray":
        return
    from gauntlet.errors import InputError

    def unreachable(reason: str) -> InputError:
        return InputError(f"cannot reach Ray at {cfg.ray_address or 'a local Ray'} ({reason})", file=config_file,
                          field="provers.ray_address",
                          fix="start the cluster (`ray start --head`), correct the address, or use pool: local")

    host, _, port = (cfg.ray_address or "").removeprefix("ray://").rpartition(":")
    if host and port.isdigit():  # ray.init waits minutes on a dead address; a TCP probe answers in seconds
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as exc:
            raise unreachable(exc.strerror or type(exc).__name__) from None
    try:
        pool_for(cfg.pool, cfg.ray_address)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - ray.init raises ConnectionError, RuntimeError, ValueError …
        raise unreachable(type(exc).__name__) from None
