"""Where Gauntlet keeps what it can rebuild: the assembled model file and the prover verdict cache, under one
directory (GAUNTLET_CACHE, else ~/.cache/gauntlet) that `gauntlet doctor` reports. Nothing here is written
into the directory a command is run from."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "GAUNTLET_CACHE"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gauntlet")


def models_dir() -> Path:
    """The assembled GGUF files (built once from the model's chunk packages)."""
    return cache_root() / "models"


def prover_cache_file() -> Path:
    """The standalone prover verdict cache (`gauntlet prove` without --db; GAUNTLET_PROVER_CACHE moves it)."""
    return Path(os.environ.get("GAUNTLET_PROVER_CACHE") or cache_root() / "prover-cache.sqlite")
