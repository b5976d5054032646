"""Config validation: every error is one line naming file, line, field and fix; nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.graphs.run.loading import load_config, parse_config
from gauntlet.errors import InputError

GOOD = """\
topic: test topic
seed: 1
panel:
  proposers: [ml-empiricist]
  critics: [security-engineer]
"""


def err(text: str, tmp_path: Path, name: str = "c.yaml") -> InputError:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_config(p)
    return info.value


def test_demo_config_is_valid():
    loaded = load_config(Path(__file__).parent.parent / "runs" / "configs" / "demo.yaml")
    assert len(loaded.personas) >= 4
    assert loaded.config.seed_proposals and loaded.config.panel.judge


def test_unknown_key_is_an_error_with_line(tmp_path):
    e = err(GOOD + "colour: blue\n", tmp_path)
    assert e.line == 6 and e.field == "colour" and "remove" in e.fix


def test_nested_unknown_key(tmp_path):
    e = err(GOOD.replace("  critics:", "  critic_count: 3\n  critics:"), tmp_path)
    assert e.field == "panel.critic_count" and e.line == 5


def test_wrong_type_and_absurd_numbers(tmp_path):
    e = err(GOOD + "rounds: 1e9\n", tmp_path)
    assert e.field == "rounds" and e.line == 6
    e = err(GOOD + "rounds: 1000000000\n", tmp_path)
    assert e.field == "rounds" and "range" in e.fix
    e = err(GOOD + "rounds: -1\n", tmp_path)
    assert e.field == "rounds"


def test_unknown_persona_and_escaping_path(tmp_path):
    e = err(GOOD.replace("security-engineer", "nobody"), tmp_path)
    assert e.field == "panel.critics" and "gauntlet personas" in e.fix
    e = err(GOOD.replace("security-engineer", "../../etc/passwd.yaml"), tmp_path)
    assert "escapes" in e.message


def test_persona_card_beside_config(tmp_path):
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "me.yaml").write_text("name: me\ndiscipline: linguistics\nworldview: words matter\n")
    p = tmp_path / "c.yaml"
    p.write_text(GOOD.replace("security-engineer", "cards/me.yaml"))
    assert load_config(p).personas["cards/me.yaml"].discipline == "linguistics"


def test_empty_binary_and_non_mapping(tmp_path):
    assert "empty" in err("", tmp_path).message
    p = tmp_path / "b.yaml"
    p.write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        load_config(p)
    assert "mapping" in err("- a\n- b\n", tmp_path).message


def test_openai_backend_needs_url(tmp_path):
    e = err(GOOD + "model:\n  backend: openai\n", tmp_path)
    assert e.field == "model" and "base_url" in e.message


def test_parse_config_from_text_without_files():
    loaded = parse_config(GOOD, source="inline")
    assert loaded.config.panel.critics == ["security-engineer"]


def test_cli_broken_yaml_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("topic: x\npanel: [\n")
    db = tmp_path / "db.sqlite"
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(bad), "--db", str(db)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.yaml:3" in lines[0] and "fix:" in lines[0]
    assert not db.exists()
