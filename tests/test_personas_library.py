"""The persona library: enough distinct styles of thought across enough disciplines, complete cards, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.agents.persona import LIBRARY_DIR, library, load_card, resolve
from gauntlet.errors import InputError


def test_library_is_large_and_diverse():
    cards = library()
    assert len(cards) >= 16
    assert len({c.discipline for c in cards.values()}) >= 6
    # Distinct styles, not one card copied: worldviews and objections differ between every pair.
    assert len({c.worldview for c in cards.values()}) == len(cards)
    assert len({tuple(c.typical_objections) for c in cards.values()}) == len(cards)


@pytest.mark.parametrize("name", sorted(library()))
def test_every_card_is_complete(name):
    c = library()[name]
    assert c.research_style and c.would_change_mind and c.temperament and c.display_name
    assert len(c.vocabulary) >= 4 and len(c.typical_objections) >= 3
    assert (LIBRARY_DIR / f"{name}.yaml").is_file()  # file name = card name, so `resolve` finds it


def test_corpus_path_is_resolved_against_the_card():
    card = library()["oversight-sceptic"]
    assert card.corpus and Path(card.corpus).is_absolute() and Path(card.corpus).is_dir()
    assert any(Path(card.corpus).glob("*.md"))


def test_user_card_corpus_may_not_escape_the_config_dir(tmp_path):
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "me.yaml").write_text("name: me\ndiscipline: x\nworldview: y\ncorpus: ../elsewhere\n")
    with pytest.raises(InputError, match="escapes the config directory"):
        resolve("me.yaml", cfg_dir)
    (cfg_dir / "notes").mkdir()
    (cfg_dir / "ok.yaml").write_text("name: ok\ndiscipline: x\nworldview: y\ncorpus: notes\n")
    assert resolve("ok.yaml", cfg_dir).corpus == str((cfg_dir / "notes").resolve())


def test_bad_card_names_the_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: Bad Name\ndiscipline: x\nworldview: y\n")
    with pytest.raises(InputError) as exc:
        load_card(p)
    assert "name" in exc.value.one_line() and "\n" not in exc.value.one_line()


def test_cli_personas_json():
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "personas", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) >= 16 and len({r["discipline"] for r in rows}) >= 6
    assert all(r["name"] and r["discipline"] for r in rows)
