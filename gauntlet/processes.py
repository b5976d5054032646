"""Whether a process id still runs: for leases and run records left by processes that may have died."""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True while `pid` exists (also when it belongs to another user); False for None, 0 or a dead process."""
    if not pid or pid < 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
