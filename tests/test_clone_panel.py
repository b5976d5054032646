"""A panel of clones in a debate: one clone seated three times (`card@K`), its stated positions put in front of it
when it critiques (with their quotes), and `show --json` persona stats and diversity covering every seat."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gauntlet.agents import prompts
from gauntlet.agents.persona import Persona, Stance
from gauntlet.graphs.run.loading import load_config
from gauntlet.graphs.store.views import load_graph, show
from tests.conftest import run_debate

ROOT = Path(__file__).resolve().parent.parent
STANCES = [
    {"claim": "Mechanistic interpretability will explain frontier models at the weight level in time.",
     "stance": "disagree", "source": "interpretability-will-not-arrive-in-time.md",
     "quote": "I no longer believe mechanistic interpretability will give us a weight-level account of frontier "
              "models before those models are dangerous."},
    {"claim": "Safety evaluations should assume the model is adversarial.", "stance": "agree",
     "source": "control-before-alignment.md",
     "quote": "I agree with the view that safety evaluations must assume the model is adversarial."},
]


def test_with_stances_puts_labelled_quotes_before_the_task():
    card = Persona(name="x", discipline="ML", worldview="w", stances=[Stance(**s) for s in STANCES])
    msgs = prompts.critique_messages(card, "topic", "[i1] an idea", ["i1"], 1)
    out = prompts.with_stances(msgs, card.stances)
    assert out[0] == msgs[0]  # the cacheable system prefix is untouched
    head = out[-1]["content"]
    assert head.index("[P2] You agree that: Safety evaluations") < head.index("Topic: topic")
    assert STANCES[0]["quote"] in head and prompts.with_stances(msgs, []) == msgs


def test_a_panel_of_one_clone_at_three_seats(tmp_path: Path, store, synthetic_url):
    shutil.copytree(ROOT / "runs" / "corpora" / "ines-varga", tmp_path / "corpus")
    card = {"name": "ines-varga", "display_name": "Ines Varga", "discipline": "empirical ML safety",
            "worldview": "We will deploy models we cannot verify, so control them.", "corpus": "corpus",
            "stances": STANCES}
    (tmp_path / "ines.yaml").write_text(yaml.safe_dump(card))
    config = yaml.safe_load((ROOT / "runs" / "configs" / "demo.yaml").read_text())
    config["panel"] = {"proposers": ["ines.yaml@1", "ines.yaml@2", "ml-empiricist"],
                       "critics": ["ines.yaml@1", "ines.yaml@2", "ines.yaml@3", "security-engineer"],
                       "judge": "philosopher-of-science"}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    loaded = load_config(tmp_path / "run.yaml")
    seats = {ref: p for ref, p in loaded.personas.items() if ref.startswith("ines")}
    assert sorted(p.name for p in seats.values()) == ["ines-varga-v1", "ines-varga-v2", "ines-varga-v3"]
    assert all(p.stances == seats["ines.yaml@1"].stances for p in seats.values())

    run_id = run_debate(store, loaded, synthetic_url)
    doc = show(store, run_id)
    stats = {s["persona"]: s for s in doc["persona_stats"]}
    assert {"ines.yaml@1", "ines.yaml@2", "ines.yaml@3"} <= set(stats)
    # @2 proposes (a revision it makes counts as an idea too); @3 only critiques
    assert stats["ines.yaml@2"]["ideas"] >= 1 and stats["ines.yaml@3"]["ideas"] == 0
    assert {"ines.yaml@1", "ines.yaml@2"} <= set(doc["diversity"]["by_persona"])
    assert {"ines.yaml@1", "ines.yaml@2", "ines.yaml@3"} <= set(doc["diversity"]["critiques"]["by_persona"])
    # Each seat critiques with the clone's positions in front of it; the critic without stances gets none.
    crits = [n for n in load_graph(store, run_id).nodes.values() if n.kind == "critique"]
    clone_crits = [n for n in crits if n.persona.startswith("ines")]
    assert clone_crits and all(n.data.get("stances_shown") for n in clone_crits)
    assert all(s["quote"] in {x["quote"] for x in STANCES} for n in clone_crits for s in n.data["stances_shown"])
    assert not any(n.data.get("stances_shown") for n in crits if n.persona == "security-engineer")
    # Three seats, three seeds: the same clone does not write the same critique three times.
    texts = {n.persona: n.text for n in clone_crits}
    assert len(set(texts.values())) == len(texts)
