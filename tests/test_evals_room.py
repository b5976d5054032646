"""The evaluations room: one report shape for every eval (checked against one JSON schema), and a stopped eval
continues where it stopped (only the unfinished cases run again)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

from gauntlet.graphs.evals import registry
from gauntlet.graphs.evals.report import CaseResult, build_report, figures, report_schema
from gauntlet.graphs.evals.runner import Watch, run_eval
from gauntlet.graphs.evals.task import EvalContext, Task

from tests.conftest import ROOT


@dataclass(frozen=True)
class Sum:
    id: str
    a: int
    b: int
    expect: int


class Arithmetic(Task):
    """A pure eval: `a + b` against the expected sum; a case with a = 0 abstains. Counts what it runs."""
    name = "arithmetic"

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.prepared = 0

    def load(self, path: Path) -> list[Sum]:
        return [Sum(**c) for c in yaml.safe_load(path.read_text())]

    async def prepare(self, cases, ctx):
        self.prepared += 1
        return {"offset": 0}

    async def run_case(self, case: Sum, ctx: EvalContext) -> CaseResult:
        self.ran.append(case.id)
        if case.a == 0:
            return CaseResult(id=case.id, outcome="abstained")
        got = case.a + case.b + ctx.state["offset"]
        return CaseResult(id=case.id, outcome="right" if got == case.expect else "wrong",
                          confidence=1 / (1 + abs(case.a)), got=got)

    def summarise(self, results, ctx):
        return {"sums": len(results), "baselines": {"always_wrong": figures(["wrong"] * len(results))}}


@pytest.fixture
def sums(tmp_path: Path) -> Path:
    cases = [{"id": f"c{i}", "a": i % 4, "b": 2, "expect": i % 4 + 2 + (i == 5)} for i in range(8)]
    path = tmp_path / "sums.yaml"
    path.write_text(yaml.safe_dump(cases))
    return path


def stop_after(k: int) -> Watch:
    def case(done: int, total: int, result: CaseResult) -> None:
        if done == k:
            raise KeyboardInterrupt  # as Ctrl-C or SIGTERM would, between two cases
    return Watch(case=case)


def test_an_interrupted_eval_reports_what_finished_and_the_rerun_runs_only_the_rest(sums: Path, tmp_path: Path):
    task = Arithmetic()
    ctx = EvalContext(model="none", settings={"v": 1})
    first = run_eval(task, sums, ctx, journal_dir=tmp_path / "j", watch=stop_after(3))
    assert first["interrupted"] and first["cases"] == 3 and task.ran == ["c0", "c1", "c2"]
    task.ran.clear()
    second = run_eval(task, sums, EvalContext(model="none", settings={"v": 1}), journal_dir=tmp_path / "j")
    assert task.ran == ["c3", "c4", "c5", "c6", "c7"] and task.prepared == 1  # preparation journaled too
    assert not second["interrupted"] and second["resumed"] == 3 and second["cases"] == 8
    assert [c["id"] for c in second["per_case"]] == [f"c{i}" for i in range(8)]
    # c0 and c4 abstain (a = 0), c5 is wrong: 5 right of 6 decided
    assert (second["right"], second["wrong"], second["abstained"]) == (5, 1, 2) and second["coverage"] == 0.75
    assert 1 / 6 < second["error_upper_95"] < 0.65
    task.ran.clear()
    changed = run_eval(task, sums, EvalContext(model="other", settings={"v": 1}), journal_dir=tmp_path / "j")
    assert len(task.ran) == 8 and changed["resumed"] == 0  # another model never reuses these cases
    task.ran.clear()
    run_eval(task, sums, EvalContext(model="none", settings={"v": 1}), journal_dir=tmp_path / "j", fresh=True)
    assert len(task.ran) == 8


def test_settings_that_only_change_the_summary_reuse_the_reads(sums: Path, tmp_path: Path):
    task = Arithmetic()
    run_eval(task, sums, EvalContext(model="none", settings={"v": 1, "threshold_rule": "per-label-observed",
                                                              "target_error": 0.05}), journal_dir=tmp_path)
    task.ran.clear()
    again = run_eval(task, sums, EvalContext(model="none", settings={"v": 1, "threshold_rule": "pooled-posterior",
                                                                      "target_error": 0.02}), journal_dir=tmp_path)
    assert task.ran == [] and again["resumed"] == 8  # re-summarised from the journal, nothing read again
    run_eval(task, sums, EvalContext(model="none", settings={"v": 2}), journal_dir=tmp_path)
    assert len(task.ran) == 8  # a setting that changes the reads reads again


def test_a_torn_last_journal_line_runs_that_case_again(sums: Path, tmp_path: Path):
    task = Arithmetic()
    run_eval(task, sums, EvalContext(model="none"), journal_dir=tmp_path, watch=stop_after(2))
    (journal,) = tmp_path.glob("arithmetic-*.journal.jsonl")
    journal.write_text(journal.read_text() + '{"kind": "case", "result": {"id": "c2", "outco')
    task.ran.clear()
    doc = run_eval(task, sums, EvalContext(model="none"), journal_dir=tmp_path)
    assert task.ran[0] == "c2" and doc["cases"] == 8 and doc["resumed"] == 2


def test_the_report_shape_and_its_risk_coverage_curve():
    results = [CaseResult(id="a", outcome="right", confidence=0.9), CaseResult(id="b", outcome="wrong", confidence=0.2),
               CaseResult(id="c", outcome="abstained"), CaseResult(id="d", outcome="right", decided=False)]
    doc = build_report("toy", results, {"own": 1}, model="m")
    jsonschema.validate(doc, report_schema())
    assert (doc["right"], doc["wrong"], doc["abstained"], doc["coverage"]) == (2, 1, 1, 0.5)
    assert [(p["accepted"], p["wrong"], p["coverage"]) for p in doc["risk_coverage"]] == [(1, 0, 0.25), (2, 1, 0.5)]
    assert doc["aurc"] == 0.25 and doc["own"] == 1 and doc["per_case"][0]["id"] == "a"
    with pytest.raises(Exception):
        build_report("toy", results, {"baselines": {"x": {"right": 1}}}, model="m")  # a baseline needs its figures


def _gauntlet(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=env)


def _panel_config(tmp_path: Path, url: str) -> Path:
    cfg = yaml.safe_load((ROOT / "runs/configs/eval-panel.yaml").read_text())
    cfg["model"] = {"backend": "openai", "name": "synthetic", "base_url": url}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path / "cfg.yaml"


def eval_args(name: str, url: str, tmp_path: Path) -> list[str]:
    """The cheapest run of each registered eval against the synthetic server."""
    if name == "formalise":
        return ["formalise", "--base-url", url, "--model", "synthetic", "--per-class", "1", "--k", "2"]
    if name == "panel":
        return ["panel", "runs/evals/panel.yaml", "--config", str(_panel_config(tmp_path, url)), "--only",
                "sound-canary"]
    if name == "clone":
        return ["clone", "runs/evals/clone/ines-varga.yaml", "--model-url", url, "--max-claims", "2"]
    if name == "rulings":
        return ["rulings", "--model-url", url, "--limit", "3"]
    return [name, "--model-url", url]


@pytest.mark.parametrize("name", sorted(registry.TASKS))
def test_every_eval_report_fits_the_one_schema(name: str, tmp_path: Path, synthetic_url: str):
    out = _gauntlet("eval", *eval_args(name, synthetic_url, tmp_path), "--json", "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, report_schema())
    assert doc["eval"] == name and doc["cases"] == len(doc["per_case"]) >= 1
    assert doc["right"] + doc["wrong"] + doc["abstained"] == doc["cases"] and doc["baselines"]
    assert json.loads((tmp_path / "out" / f"{name}.json").read_text()) == doc
    again = _gauntlet("eval", *eval_args(name, synthetic_url, tmp_path), "--json", "--out", str(tmp_path / "out"))
    assert again.returncode == 0 and json.loads(again.stdout)["resumed"] >= doc["cases"]
    assert not re.search(r"^\[\d+/\d+\]", again.stderr, re.M)  # no case ran again: all from the journal


def test_the_eval_front_refuses_bad_input_in_one_line(tmp_path: Path):
    for args, needle in ((["eval", "nope"], "nope"), (["eval", "formalise", str(tmp_path / "missing.yaml")], "missing"),
                         (["eval", "clone", "no-such-card"], "CARD")):
        out = _gauntlet(*args)
        assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr
