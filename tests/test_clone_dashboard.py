"""The dashboard's persona view: a clone's card with its evidence (quotes and their sources) beside each field."""

from __future__ import annotations

from pathlib import Path

import yaml
from streamlit.testing.v1 import AppTest

from gauntlet.graphs.run.loading import load_config
from gauntlet.graphs.store.store import Store
from tests.conftest import DEMO, run_debate

APP = str(Path(__file__).resolve().parent.parent / "ui" / "dashboard" / "app.py")
QUOTE = "Control is tractable because it is an engineering problem with a measurable target."


def open_app(monkeypatch, db: str, **params: str) -> AppTest:
    import streamlit as st
    monkeypatch.setenv("GAUNTLET_DB", db)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_a_clone_is_shown_beside_its_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("GAUNTLET_PERSONAS", str(tmp_path / "personas"))
    (tmp_path / "personas").mkdir()
    card = {"name": "ines-varga", "display_name": "Ines Varga", "discipline": "empirical ML safety",
            "worldview": "Control what you cannot verify.",
            "evidence": [{"field": "worldview", "quote": QUOTE, "source": "control-before-alignment.md"}],
            "stances": [{"claim": "AI control is tractable.", "stance": "agree", "quote": QUOTE,
                         "source": "control-before-alignment.md"}],
            "sources": [{"path": "control-before-alignment.md", "sha256": "a" * 64}]}
    (tmp_path / "personas" / "ines-varga.yaml").write_text(yaml.safe_dump(card))
    db = str(tmp_path / "g.sqlite")
    Store(db)
    at = open_app(monkeypatch, db, persona="ines-varga")
    assert not at.exception and not at.error
    text = "\n".join(m.value for m in at.markdown)
    assert QUOTE in text and "control-before-alignment.md" in text and "Control what you cannot verify." in text
    assert any("discipline" in m.value for m in at.markdown)
    assert any(w.value.startswith("no quote backs") for w in at.warning)  # discipline has no quote: flagged
    tables = [d.value for d in at.dataframe]
    assert any("stance" in t.columns and list(t["stance"]) == ["agree"] for t in tables)
    assert any("sha256" in t.columns for t in tables)
    missing = open_app(monkeypatch, db, persona="nobody")
    assert missing.error and "no persona 'nobody'" in missing.error[0].value


def test_a_run_links_each_panelist_to_its_stored_card(tmp_path, monkeypatch, synthetic_url):
    monkeypatch.setenv("GAUNTLET_PERSONAS", str(tmp_path / "none"))
    db = str(tmp_path / "g.sqlite")
    run_id = run_debate(Store(db), load_config(DEMO), synthetic_url)
    at = open_app(monkeypatch, db, run=run_id)
    assert not at.exception
    assert any(f"/?run={run_id}&persona=security-engineer" in c.value for c in at.caption)
    card = open_app(monkeypatch, db, run=run_id, persona="security-engineer")
    assert not card.exception and not card.error
    assert any("style card" in c.value for c in card.caption)
