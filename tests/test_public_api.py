"""The package root re-exports the typed public API, and `gauntlet --help` lists the contract commands."""

from __future__ import annotations

import subprocess
import sys

import gauntlet


def test_every_export_resolves():
    for name in gauntlet.__all__:
        assert getattr(gauntlet, name) is not None, name


def test_help_lists_the_contract_commands():
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for cmd in ("run", "show", "replay", "export", "prove", "af", "runs", "resume", "personas", "bench", "ui"):
        assert f" {cmd} " in out.stdout, cmd
