"""The failure-mode library: its shipped file, the loader's errors, retrieval, the scored applicability check
(against a real HTTP server speaking the OpenAI API), the "does not apply" case, and citations in the exports."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gauntlet.agents import embeddings
from gauntlet.agents import failure_modes as fm
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.protocol_prompts import with_library
from gauntlet.errors import InputError
from gauntlet.graphs.protocols import library_grounding as lg
from gauntlet.testing.synthetic_server import running_server

GOOD = """\
entries:
  - id: my-objection
    name: My objection
    statement: A long enough statement of an objection of my own.
    defeats: [plans of some kind]
    does_not_apply_when: The plan already checks the thing.
    question: Does the plan skip checking the thing?
    severity: major
    citations:
      - {authors: "Doe, J.", year: 2020, title: "A paper", link: "arXiv:2001.00001"}
"""


# --- the shipped library -----------------------------------------------------------------------------------
def test_shipped_library_is_large_unique_and_cited_in_format():
    lib = fm.load()
    assert len(lib.entries) >= 80
    assert len({e.id for e in lib.entries}) == len(lib.entries)
    for e in lib.entries:
        assert e.question.endswith("?") and e.does_not_apply_when and e.defeats
        for c in e.citations:
            assert re.fullmatch(r"https?://\S+|arXiv:\d{4}\.\d{4,5}(v\d+)?|doi:10\.\d{4,9}/\S+|isbn:\d{13}",
                                c.link), (e.id, c.link)
            assert 1900 <= c.year <= 2026 and len(c.authors) > 3 and len(c.title) > 3
            if c.link.startswith("arXiv:"):  # new-style ids: YYMM with a real month, not after the year cited+1
                yymm = c.link[6:10]
                assert 1 <= int(yymm[2:]) <= 12 and 2000 + int(yymm[:2]) <= c.year + 1, (e.id, c.link)
    severities = {e.severity for e in lib.entries}
    assert severities == {"fatal", "major", "minor"}


def test_link_urls_resolve_ids_and_refuse_the_rest():
    assert fm.link_url("arXiv:2210.10760") == "https://arxiv.org/abs/2210.10760"
    assert fm.link_url("doi:10.1086/256963") == "https://doi.org/10.1086/256963"
    assert fm.link_url("isbn:9780199678112") is None
    assert fm.link_url("javascript:alert(1)") is None
    assert fm.link_url("https://x.org/a b") is None


# --- loading and `library check` ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad, line, field", [
    (GOOD.replace("severity: major", "severity: huge"), 8, "severity"),
    (GOOD.replace('link: "arXiv:2001.00001"', 'link: "see the paper"'), 10, "link"),
    (GOOD.replace("Does the plan skip checking the thing?", "The plan skips checking the thing."), 7, "question"),
    (GOOD.replace("    severity: major\n", "    severity: major\n    colour: red\n"), 9, "colour"),
    (GOOD + GOOD.split("entries:\n", 1)[1], 11, "id"),
])
def test_bad_files_name_line_and_field(tmp_path, bad, line, field):
    path = tmp_path / "mine.yaml"
    path.write_text(bad)
    with pytest.raises(InputError) as exc:
        fm.read_file(path)
    msg = exc.value.one_line()
    assert f"mine.yaml:{line}" in msg and field in msg and "fix:" in msg


def test_library_check_cli_exits_2_with_the_line(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("severity: major", "severity: huge"))
    code = "from gauntlet.ui.cli.library import app; app()"
    ok = subprocess.run([sys.executable, "-c", code, "check", str(good), "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ids"] == ["my-objection"]
    no = subprocess.run([sys.executable, "-c", code, "check", str(bad)], capture_output=True, text=True)
    assert no.returncode == 2 and "bad.yaml:8" in no.stderr and "Traceback" not in no.stderr
    clash = tmp_path / "clash.yaml"
    clash.write_text(GOOD.replace("my-objection", "reward-hacking"))
    again = subprocess.run([sys.executable, "-c", code, "check", str(clash)], capture_output=True, text=True)
    assert again.returncode == 2 and "already a shipped entry" in again.stderr


def test_user_dirs_add_entries_and_refuse_duplicates(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    lib = fm.load([tmp_path])
    assert lib.get("my-objection").name == "My objection"
    assert lib.origins[-1].endswith("a.yaml") and lib.origins[0].startswith("shipped:")
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(InputError, match="already defined"):
        fm.load([tmp_path])


# --- retrieval ------------------------------------------------------------------------------------------------
def _toy_embed(texts):
    """Deterministic vectors: axis 0 = 'box', axis 1 = 'shutdown', axis 2 = 'security' field, axis 3 = rest."""
    rows = []
    for t in texts:
        t = t.lower()
        rows.append([("box" in t) * 1.0, ("shutdown" in t) * 1.0, ("security" in t) * 1.0, 0.2])
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _entry(eid: str, statement: str, disciplines: list[str]) -> fm.Entry:
    return fm.Entry(id=eid, name=eid.replace("-", " "), statement=statement, defeats=["plans"],
                    does_not_apply_when="The plan already handles it.", question="Does it apply here?",
                    severity="major", disciplines=disciplines,
                    citations=[fm.Citation(authors="Doe, J.", year=2020, title="T t", link="arXiv:2001.00001")])


def test_retrieval_ranks_by_similarity_and_discipline_breaks_near_ties():
    a = _entry("box-one", "An oracle in a box can still act through its answers.", ["agent foundations"])
    b = _entry("box-two", "An oracle in a box leaks through side channels.", ["computer security"])
    c = _entry("off-switch", "A shutdown button creates incentives.", ["agent foundations"])
    query = "keep the AI in a box"
    plain = fm.rank([a, b, c], query, 3, embed=_toy_embed)
    assert {plain[0][0].id, plain[1][0].id} == {"box-one", "box-two"} and plain[2][0].id == "off-switch"
    biased = fm.rank([a, b, c], query, 3, discipline="computer security", embed=_toy_embed)
    assert biased[0][0].id == "box-two" and biased[0][1] == pytest.approx(dict((e.id, v) for e, v in plain)["box-two"])
    assert fm.rank([a, b, c], "   ", 3, embed=_toy_embed) == []


@pytest.mark.skipif(not embeddings.available(), reason="local embedding model not installed")
def test_retrieval_finds_the_textbook_failure_modes():
    lib = fm.load()
    cases = {
        "Run a superintelligent system as an oracle in an isolated box that can only answer questions in text; "
        "since it cannot act in the world, it cannot cause harm.": "boxed-oracle-manipulation",
        "Give the agent a shutdown button and add a large utility penalty for resisting shutdown.": "shutdown-problem",
        "Train a reward model on human comparisons and optimise the policy against it with reinforcement "
        "learning.": "reward-model-overoptimisation",
    }
    for text, want in cases.items():
        assert want in [e.id for e, _ in lib.search(text, 3)], text


# --- the scored applicability check -----------------------------------------------------------------------
def _script(yes_no: tuple[float, float], swapped: tuple[float, float], free=(-0.7, -0.7)) -> list[str]:
    """The four passes the scorer makes for one check: both answer orders, then both content-free prompts."""
    def lp(y, n):
        return "logprobs:" + json.dumps({"Yes": y, "No": n})
    return [lp(*yes_no), lp(*swapped), lp(*free), lp(*free)]


def _check(url: str, entry: fm.Entry, proposal: str, threshold: float = 0.5) -> fm.Applicability:
    async def go():
        llm = OpenAIBackend(url, "synthetic-applicability", backoff_s=0.01)
        try:
            return await fm.check(llm, entry, proposal, threshold=threshold, seed=1)
        finally:
            await llm.aclose()
    return asyncio.run(go())


def test_applicability_threshold_accepts_a_clear_yes_and_abstains_below():
    entry = fm.load().get("boxed-oracle-manipulation")
    proposal = "Keep a superintelligence in a box; it only answers questions, so it cannot cause harm."
    with running_server(script=_script((-0.1, -2.5), (-0.2, -2.2))) as url:
        yes = _check(url, entry, proposal)
    assert yes.scored and yes.accepted and yes.p > 0.8 and "uncalibrated" in yes.calibration
    with running_server(script=_script((-0.5, -0.9), (-0.6, -0.8))) as url:  # a weak lean: p ≈ 0.57
        weak = _check(url, entry, proposal, threshold=0.7)
    assert weak.scored and not weak.accepted and 0.5 < weak.p < 0.7
    with running_server(script=_script((-0.9, -0.6), (-0.9, -0.6), free=(-0.3, -1.5))) as url:
        biased = _check(url, entry, proposal)  # a model that says Yes to anything: the content-free pass cancels it
    assert not biased.accepted and biased.p < 0.5


def test_the_does_not_apply_case_is_asked_and_shown_but_jurors_read_the_critique_alone():
    entry = fm.load().get("boxed-oracle-manipulation")
    addressed = ("Keep the oracle's answers to one of four fixed labels, machine-checked before any person reads "
                 "them, and let no one read its raw output.")
    msgs = fm.applicability_messages(entry, addressed)
    asked = msgs[-2]["content"]  # the question, the entry and its escape condition; the answer order comes last
    assert entry.does_not_apply_when in asked and entry.question in asked and addressed in msgs[1]["content"]
    flipped = fm.applicability_messages(entry, addressed, ("No", "Yes"))
    assert flipped[:-1] == msgs[:-1] and flipped[-1] != msgs[-1]  # both orders share everything but the last message
    with running_server(script=_script((-2.3, -0.1), (-2.0, -0.2))) as url:  # the model answers No
        no = _check(url, entry, addressed)
    assert no.scored and not no.accepted and no.p < 0.2
    # Shown entries carry the escape condition to the critic; a critique citing one records its citations.
    yes = fm.Applicability(entry.id, 0.9, 0.5, True, True, "default", 0.6)
    shown = [lg.Shown("L1", "seed-1", entry, yes)]
    prompt = with_library([{"role": "system", "content": "s"}, {"role": "user", "content": "task"}], shown)
    assert "[L1] for seed-1" in prompt[-1]["content"] and entry.does_not_apply_when in prompt[-1]["content"]
    # An entry found for two ideas is written out once, with both labels.
    twice = with_library([{"role": "user", "content": "task"}], shown + [lg.Shown("L2", "idea-2", entry, yes)])
    assert "[L1] for seed-1, [L2] for idea-2: " in twice[-1]["content"]
    assert twice[-1]["content"].count(entry.does_not_apply_when) == 1
    node = {"id": "c1", "text": "The box leaks through its answers [L1].", "data": {"target": "seed-1"}}
    lg.annotate([node], shown, embed=_toy_embed)
    assert node["data"]["library_entries"] == [entry.id]
    assert [c["entry"] for c in node["data"]["cites"]] == [entry.id] * len(entry.citations)
    uncited = {"id": "c2", "text": "Costs too much.", "data": {"target": "seed-1"}}
    lg.annotate([uncited], shown, embed=_toy_embed)
    assert uncited["data"]["cites"] == []


def test_a_juror_reads_a_cited_critique_in_the_form_its_calibration_was_fitted_on(demo):
    """Jurors' scores are calibrated on critiques without library text (runs/evals/rulings.yaml); the escape
    condition appended to the juror's prompt moved the probe toward `sustained` on decoys (BENCHMARKS.md), so the
    scored prompt of a cited critique is the prompt of the same critique uncited."""
    from tests.test_rulings import debate, rule_scripted, scored
    entry = fm.load().get("boxed-oracle-manipulation")
    yes = fm.Applicability(entry.id, 0.9, 0.5, True, True, "default", 0.6)
    prompts = []
    for cited in (False, True):
        nodes, edges = debate(None)
        crit = next(n for n in nodes if n["id"] == "crit")
        crit["text"] = "The box leaks through the answers people read [L1]."
        if cited:
            lg.annotate([crit], [lg.Shown("L1", crit["data"]["target"], entry, yes)], embed=_toy_embed)
            assert crit["data"]["cites"]
        update = rule_scripted(demo, nodes, edges, scored("sustained"))
        prompts.append(update["calls"][0]["messages"])
    assert prompts[0] == prompts[1]
    assert not any(entry.does_not_apply_when in m["content"] for m in prompts[1])


def test_unscored_backend_never_accepts():
    entry = fm.load().get("shutdown-problem")
    with running_server(logprobs={"mode": "none"}, script=[json.dumps({"answer": "Yes"})] * 4) as url:
        got = _check(url, entry, "A shutdown button with a penalty for resisting it.")
    assert not got.scored and not got.accepted


def test_checks_are_shared_per_idea_and_entry():
    calls = []
    checks = lg.Checks()

    async def make():
        calls.append(1)
        return fm.Applicability("x", 0.9, 0.5, True, True, "d")

    async def go():
        return await asyncio.gather(*(checks.get("k", make) for _ in range(5)))
    got = asyncio.run(go())
    assert len(calls) == 1 and all(g.p == 0.9 for g in got)


# --- citations where people read ---------------------------------------------------------------------------
def test_citations_render_in_markdown_argdown_json_and_show():
    from gauntlet.graphs.argument.argument_graph import ArgumentGraph
    from gauntlet.graphs.store import export, views
    entry = fm.load().get("reward-hacking")
    cites = entry.cites()
    nodes = [{"id": "seed-1", "kind": "idea", "persona": "seed", "round": 1, "title": "RL", "text": "Optimise.",
              "data": {}},
             {"id": "c1", "kind": "critique", "persona": "ml-empiricist", "round": 1, "title": "objection",
              "text": "The reward is a proxy [L1].",
              "data": {"target": "seed-1", "anchor": "Optimise", "severity": "major", "flaw_type": "none",
                       "critique_kind": "objection", "library_entries": [entry.id], "cites": cites}}]
    graph = ArgumentGraph(nodes, [{"src": "c1", "dst": "seed-1", "kind": "attacks"}], [])
    run = {"run_id": "r", "topic": "t", "status": "done", "model": "m"}
    md = export.to_markdown(run, graph)
    assert "library *reward\\-hacking*" in md and "<https://arxiv.org/abs/1606.06565>" in md
    ad = export.to_argdown(run, graph)
    assert "// cites reward-hacking: Amodei" in ad and "arXiv:1606.06565" in ad
    doc = json.loads(export.to_json(run, graph))
    assert next(n for n in doc["nodes"] if n["id"] == "c1")["data"]["cites"] == cites
    rec = views.critique_records(graph)
    assert rec == [{"id": "c1", "persona": "ml-empiricist", "target": "seed-1", "flaw_type": "none",
                    "severity": "major", "library_entries": [entry.id], "cites": cites}]
    assert set(cites[0]) == {"entry", "title", "authors", "year", "link"}


def test_hostile_cites_stay_inert_in_markdown():
    from gauntlet.graphs.store.export import _cites_markdown
    line = _cites_markdown([{"entry": "x", "title": "<script>", "authors": "[a](javascript:1)", "year": 1,
                             "link": "javascript:alert(1)"}])[0]
    assert "<script>" not in line and "](javascript" not in line and "<javascript" not in line


def test_a_clones_stances_become_entries_citing_its_corpus():
    from gauntlet.agents.persona import Stance
    stances = [Stance(claim="Interpretability will not scale to frontier models", stance="disagree",
                      quote="I expect interpretability to keep up with scale.", source="notes/2024 scaling.md")]
    entries = fm.stance_entries("jane-doe", stances, 2024)
    lib = fm.load(extra=entries)
    e = lib.get("jane-doe-stance-1")
    assert e.citations[0].link == "corpus:jane-doe/notes/2024_scaling.md" and "I expect" in e.statement
    assert lib.origins[-1] == "(clone stances)" and e.question.endswith("?")


def test_eval_panel_library_arm_end_to_end(tmp_path, synthetic_url):
    import yaml
    root = Path(__file__).resolve().parent.parent
    cfg = yaml.safe_load((root / "runs/configs/eval-panel.yaml").read_text())
    cfg["model"] = {"backend": "openai", "name": "synthetic", "base_url": synthetic_url}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "eval", "panel", "runs/evals/panel.yaml",
                          "--config", str(tmp_path / "cfg.yaml"), "--only", "ai-boxing,lib-sound-fixed-label-oracle",
                          "--no-baseline", "--library-arm", "--json", "--fresh"],
                         capture_output=True, text=True, cwd=root, timeout=600)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"flaw_recall", "false_shootdown_rate"} <= set(doc["no_library"]) and "no_library" in doc["baselines"]
    assert doc["by_written"]["after-library"]["cases"] == ["lib-sound-fixed-label-oracle"]
    assert set(doc["by_written"]["after-library"]["runs"]) == {"panel", "no_library"}


def test_run_config_library_option_is_strict():
    from gauntlet.config import parse_shape
    base = "topic: t\npanel:\n  critics: [security-engineer]\n  proposers: [ml-empiricist]\n"
    cfg, _ = parse_shape(base + "library:\n  dirs: [mine]\n  top_k: 4\n")
    assert cfg.library.enabled and cfg.library.dirs == ["mine"] and cfg.library.top_k == 4
    with pytest.raises(InputError) as exc:
        parse_shape(base + "library:\n  enabled: true\n  colour: red\n", "c.yaml")
    assert "c.yaml:7" in exc.value.one_line() and "library.colour" in exc.value.one_line()
