"""One launched model server shared by every process that launches the same engine on the same port.

A sweep's Ray workers, a fork started from the dashboard and runs started side by side each hold a *lease*: the
first starts the server (under a file lock, so two starters never race), later ones attach to it, and the last
lease released stops it. Leases are files named by process id; a process that died without releasing is pruned,
so a crashed run never keeps a GPU (or 1 GB of CPU memory) busy forever, and an orphaned server is adopted by the
next process that launches on its port.

State lives in a directory per host:port (default under the temp dir, `GAUNTLET_SERVER_DIR` to move it):
`lock` (fcntl), `server.json` ({pid, engine, model, base_url}) and `leases/<pid>-<token>`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import httpx

from gauntlet.agents.launch import ModelServer, base_url_for, is_healthy, served_name
from gauntlet.config import ModelConfig
from gauntlet.errors import InputError
from gauntlet.processes import pid_alive as _alive


def state_root() -> Path:
    return Path(os.environ.get("GAUNTLET_SERVER_DIR") or Path(tempfile.gettempdir()) / "gauntlet-servers")


def live_leases(lease_dir: Path) -> list[Path]:
    """Leases whose process still runs; the others are removed (their holders died without releasing)."""
    out = []
    for lease in sorted(lease_dir.glob("*")):
        pid = int(lease.name.split("-", 1)[0]) if lease.name.split("-", 1)[0].isdigit() else -1
        if pid > 0 and _alive(pid):
            out.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return out


def serves(base_url: str, model: str) -> bool:
    """Whether the server at base_url lists `model` (any model when `model` is empty)."""
    try:
        ids = [m["id"] for m in httpx.get(base_url.rstrip("/") + "/models", timeout=5).json()["data"]]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False
    return not model or model in ids


class SharedServer:
    """acquire() → base URL of a healthy server for cfg (started or attached); release() when done."""

    def __init__(self, cfg: ModelConfig, *, host: str = "127.0.0.1", root: Path | None = None) -> None:
        self.cfg = cfg
        self.host = host
        self.base_url = base_url_for(cfg, host)
        self.dir = (root or state_root()) / f"{host}-{cfg.launch_port}"
        self.lease: Path | None = None
        self.started = False  # whether this process started the server (for reporting only)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        (self.dir / "leases").mkdir(parents=True, exist_ok=True)
        with open(self.dir / "lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _record(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.dir / "server.json").read_text())
        except (OSError, ValueError):
            return None

    def acquire(self) -> str:
        with self._locked():
            record = self._record()
            model = served_name(self.cfg)
            if record and not _alive(int(record.get("pid", -1))):
                (self.dir / "server.json").unlink(missing_ok=True)
                record = None
            if record and (record.get("engine"), record.get("model")) != (self.cfg.launch_engine, model):
                raise InputError(f"port {self.cfg.launch_port} already serves {record.get('model')!r} "
                                 f"({record.get('engine')}), not {model!r}", field="model.launch_port",
                                 fix="pick another launch_port for a different model")
            if record is None and not (is_healthy(self.base_url) and serves(self.base_url, model)):
                server = ModelServer(self.cfg, host=self.host)
                server.start()
                assert server.proc is not None
                (self.dir / "server.json").write_text(json.dumps(
                    {"pid": server.proc.pid, "engine": self.cfg.launch_engine, "model": model,
                     "base_url": self.base_url, "log": str(server.log_path), "started": time.time()}))
                self.started = True
            # A healthy server nobody here started (e.g. one you ran yourself) is used but never stopped by us.
            self.lease = self.dir / "leases" / f"{os.getpid()}-{secrets.token_hex(4)}"
            self.lease.write_text(self.base_url)
        return self.base_url

    def release(self, grace_s: float = 30.0) -> None:
        """Drop this lease; the last live lease out stops the server it launched."""
        if self.lease is None:
            return
        with self._locked():
            self.lease.unlink(missing_ok=True)
            self.lease = None
            if live_leases(self.dir / "leases"):
                return
            record = self._record()
            (self.dir / "server.json").unlink(missing_ok=True)
            if record and _alive(int(record["pid"])):
                stop_group(int(record["pid"]), grace_s)


def stop_group(pid: int, grace_s: float) -> None:
    """SIGTERM the server's process group (it was started in its own session), SIGKILL after grace_s."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            # The starter may be another process, so waitpid is not ours to call: poll for the group instead.
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child, else it lingers as a zombie
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
