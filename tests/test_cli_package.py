"""The command line as a package: every command teaches by example, `personas` is `persona list`, and the shared
options are defined once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from gauntlet.ui.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands(group, prefix: str = ""):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (Typer may vendor its own click)
            yield from _commands(cmd, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", cmd


def test_every_command_shows_an_example():
    commands = dict(_commands(typer.main.get_command(app)))
    assert {"run", "show", "eval formalise", "eval panel", "eval clone", "persona list", "persona show",
            "persona new", "personas", "bench af", "bench coverage", "import", "ui"} <= set(commands)
    missing = [name for name, cmd in commands.items()
               if not re.search(r"Example[^:\n]*:\s+gauntlet ", cmd.help or "")]
    assert missing == []


def test_personas_is_persona_list():
    runner = CliRunner()
    a, b = runner.invoke(app, ["personas", "--json"]), runner.invoke(app, ["persona", "list", "--json"])
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout) and len(json.loads(a.stdout)) >= 8
    shown = runner.invoke(app, ["persona", "show", "security-engineer", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["name"] == "security-engineer"
    missing = runner.invoke(app, ["persona", "show", "no-such-card"])
    assert missing.exit_code == 2 and "CARD" in missing.output


def test_shared_options_are_defined_once_and_nothing_attaches_by_side_effect():
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "ui").rglob("*.py")}
    assert [p.name for p, s in sources.items() if "JsonOpt = " in s and "--json/--no-json" not in s] == ["options.py"]
    assert [p.name for p, s in sources.items() if "def print_json" in s or "def _print_json" in s] == ["options.py"]
    assert not [p for p, s in sources.items() if "noqa: E402" in s]
