"""Recurrence across repeated runs with another seed, in `gauntlet eval panel --seeds` — the pure
matching and pooling functions called directly, the narrow judge on a real HTTP server, and the command end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.errors import InputError
from gauntlet.graphs.evals import panel_recurrence as recur
from gauntlet.graphs.evals.panel_cases import PanelCase
from gauntlet.graphs.evals.panel_figures import RunResult, pooled, score
from gauntlet.testing.synthetic_server import running_server
from gauntlet.ui.cli.eval import seed_list

from tests.conftest import ROOT
from tests.test_panel_rulings_e2e import _gauntlet

FLAWED = PanelCase(id="rlhf", proposal="Train a reward model on human ratings and optimise a policy against it.",
                   known_flaws=["Optimising hard against the learned reward overoptimises the proxy.",
                                "Raters can be fooled by outputs that only look good."])
SOUND = PanelCase(id="canary", proposal="Put canary strings in eval sets to detect leakage.", sound=True)


def crit(id: str, text: str, anchor: str = "optimise a policy against it") -> dict:
    return {"id": id, "persona": "critic", "text": text, "anchor": anchor,
            "flaw_type": "proxy_goodhart", "severity": "fatal"}


def match(seed: int, critique: str, flaw_index: int = 0, case: str = "rlhf") -> dict:
    return {"case": case, "seed": seed, "flaw_index": flaw_index, "critique": critique, "persona": "critic"}


def test_critiques_matching_the_same_known_flaw_in_different_seeds_recur():
    links = recur.flaw_links([match(0, "c0"), match(1, "c1"), match(1, "c1b", flaw_index=1), match(0, "c0x")])
    assert {(tuple(link["a"]), tuple(link["b"])) for link in links} == {((0, "c0"), (1, "c1")),
                                                                        ((1, "c1"), (0, "c0x"))}
    assert recur.recurring_keys(links) == {(0, "c0"), (1, "c1"), (0, "c0x")}  # c1b: one seed only
    assert recur.flaw_links([match(0, "a"), match(0, "b")]) == []  # two critics in one run: not a repeat


def by_words(a: list[str], b: list[str]) -> list[list[float]]:
    """A plain word-overlap similarity (Jaccard), standing in for the embedding encoder's cosine."""
    def jac(x: str, y: str) -> float:
        sx, sy = set(x.lower().split()), set(y.lower().split())
        return len(sx & sy) / len(sx | sy)
    return [[jac(x, y) for y in b] for x in a]


def test_judge_pairs_ask_only_the_most_similar_cross_seed_pairs_not_yet_linked():
    sustained = {0: [crit("a0", "the reward proxy is overoptimised", "reward model"),
                     crit("b0", "raters are fooled by looks", "human ratings")],
                 1: [crit("a1", "the reward proxy is overoptimised by the policy", "reward model"),
                     crit("z1", "zebra quantum", "canary strings")]}
    pairs = recur.judge_pairs(sustained, set(), by_words)
    asked = {(sustained[s][i]["id"], sustained[t][j]["id"]) for s, i, t, j, _ in pairs}
    assert ("a0", "a1") in asked and ("a0", "z1") not in asked  # below the similarity floor: never asked
    assert all(s < t for s, _, t, _, _ in pairs)
    assert ("a0", "a1") not in {(sustained[s][i]["id"], sustained[t][j]["id"]) for s, i, t, j, _ in
                                recur.judge_pairs(sustained, {(0, "a0"), (1, "a1")}, by_words)}


@pytest.mark.parametrize("answer,recurs", [(True, True), (False, False)])
def test_the_narrow_judge_links_an_objection_that_comes_back_in_another_seed(answer, recurs):
    sustained = {0: [crit("a0", "the reward proxy is overoptimised")],
                 1: [crit("a1", "the learned reward is a proxy the policy overoptimises")]}
    reply = json.dumps({"states_flaw": answer, "evidence": "the policy overoptimises"})

    async def go():
        with running_server(script=[reply]) as url:
            llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
            try:
                return await recur.recurrence(llm, "rlhf", sustained, [], None, 11)
            finally:
                await llm.aclose()
    links, tokens = asyncio.run(go())
    assert tokens > 0
    assert bool(links) == recurs
    if recurs:
        (link,) = links
        assert link["via"] == "judge" and link["evidence"] and {tuple(link["a"]), tuple(link["b"])} == {
            (0, "a0"), (1, "a1")}


def result(case: str, shot_down: bool, *ids: str) -> RunResult:
    status = "shot_down" if shot_down else "undecided" if ids else "standing"
    return RunResult(case, f"run-{case}", shot_down, [crit(i, f"objection {i}") for i in ids], status=status)


def test_pooled_figures_over_seeds_and_recall_counting_only_recurring_matches():
    runs = {0: {"rlhf": result("rlhf", True, "c0", "n0"), "canary": result("canary", True, "k0")},
            1: {"rlhf": result("rlhf", False, "c1"), "canary": result("canary", False)}}
    matches = [match(0, "c0"), match(1, "c1"), match(0, "n0", flaw_index=1)]
    recurring = recur.recurring_keys(recur.flaw_links(matches))
    doc = pooled([FLAWED, SOUND], [0, 1], runs, matches, recurring)
    assert doc["flaws"] == 4 and doc["flaws_found"] == 3 and doc["flaw_recall"] == 0.75
    assert doc["flaw_recall_any_seed"] == 1.0
    assert doc["recurring_flaw_recall"] == 0.5  # flaw 1 was stated in seed 0 only
    assert [f["seeds"] for f in doc["flaw_seeds"]] == [[0, 1], [0]]
    assert doc["false_shootdown_rate"] == 0.5 and doc["shot_down_flawed"] == 1
    assert doc["undecided_flawed"] == 1 and doc["undecided_sound"] == 0  # abstentions, counted apart
    assert [(u["id"], u["seed"], u["recurring"]) for u in doc["unmatched_sustained"]] == [("k0", 0, False)]
    one = pooled([FLAWED, SOUND], [0], {0: runs[0]}, matches[::2], set())
    plain = score([FLAWED, SOUND], runs[0], matches[::2])
    assert {k: one[k] for k in ("flaw_recall", "flaws", "flaws_found", "false_shootdown_rate")} == {
        k: plain[k] for k in ("flaw_recall", "flaws", "flaws_found", "false_shootdown_rate")}
    assert one["recurring_flaw_recall"] is None  # one seed: nothing can recur


def test_seed_options():
    assert seed_list("0,1", None, 11) == [0, 1] and seed_list(None, 3, 11) == [11, 12, 13]
    assert seed_list(None, None, 11) is None
    for seeds, repeats in (("0,x", None), ("1,1", None), ("0", 2), (None, 0)):
        with pytest.raises(InputError):
            seed_list(seeds, repeats, 11)


def test_eval_panel_with_two_seeds_end_to_end(tmp_path: Path, synthetic_url):
    cfg = yaml.safe_load((ROOT / "runs/configs/eval-panel.yaml").read_text())
    cfg["model"] = {"backend": "openai", "name": "synthetic", "base_url": synthetic_url}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = _gauntlet("eval", "panel", "runs/evals/panel.yaml", "--config", str(tmp_path / "cfg.yaml"),
                    "--only", "rlhf-reward-model", "--seeds", "0,1", "--no-baseline", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["seeds"] == [0, 1] and [(c["id"], c["seed"]) for c in doc["runs"]] == [
        ("rlhf-reward-model", 0), ("rlhf-reward-model", 1)]
    assert doc["flaws"] == 4 and all(f["of_seeds"] == 2 and set(f["seeds"]) <= {0, 1} for f in doc["flaw_seeds"])
    assert doc["recurring_flaw_recall"] is not None and doc["recurring_flaw_recall"] <= doc["flaw_recall_any_seed"]
    assert all(isinstance(m["recurring"], bool) for m in doc["matches"])
    bad = _gauntlet("eval", "panel", "runs/evals/panel.yaml", "--seeds", "0,zero", "--json")
    assert bad.returncode == 2 and bad.stdout == "" and "--seeds" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
