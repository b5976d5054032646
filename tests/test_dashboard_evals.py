"""The Evaluations page: a report with the current keys (a small fixture), the shipped older reports that lack some
of them, hostile files, and two reports side by side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from gauntlet.errors import InputError
from gauntlet.metrics import error_upper_95
from gauntlet.ui.dashboard import eval_report

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "ui" / "dashboard" / "app.py")
FIXTURE = ROOT / "tests" / "data" / "dashboard" / "rulings-fixture.json"
SHIPPED = ROOT / "runs" / "evals" / "results"


def load(path: Path) -> eval_report.Summary:
    return eval_report.summarise(eval_report.parse(path.read_bytes(), path.name), path.name)


def test_a_current_report_is_read_as_written():
    doc = json.loads(FIXTURE.read_text())
    s = load(FIXTURE)
    assert (s.eval, s.cases, s.right, s.wrong, s.abstained) == ("rulings", 24, doc["right"], doc["wrong"],
                                                                doc["abstained"])
    assert s.curve == doc["risk_coverage"] and s.curve_source == "report" and s.notes == []
    assert s.aurc == doc["aurc"] and s.error_upper_95 == doc["error_upper_95"]
    assert [b["name"] for b in s.baselines] == ["majority_label", "similarity_alone"]
    bars = eval_report.outcome_bars(s)
    assert {r["system"] for r in bars} == {"rulings (this run)", "majority_label", "similarity_alone"}
    assert sum(r["cases"] for r in bars if r["system"] == "rulings (this run)") == 24
    assert eval_report.operating_point(s) == {"coverage": (s.right + s.wrong) / 24, "risk": s.wrong / (s.right + s.wrong)}
    wrong = eval_report.case_rows(s, "wrong")
    assert len(wrong) == s.wrong and all(r["outcome"] == "wrong" for r in wrong)
    assert len(eval_report.case_rows(s, "wrong or abstained")) == s.wrong + s.abstained


def test_missing_keys_are_computed_from_the_per_case_rows():
    doc = json.loads(FIXTURE.read_text())
    for key in ("right", "wrong", "abstained", "coverage", "error_upper_95", "risk_coverage", "aurc"):
        del doc[key]
    s = eval_report.summarise(doc, "stripped.json")
    outcomes = [r["outcome"] for r in doc["per_case"]]
    assert (s.right, s.wrong, s.abstained) == tuple(outcomes.count(o) for o in ("right", "wrong", "abstained"))
    assert s.coverage == (s.right + s.wrong) / 24 and s.error_upper_95 == error_upper_95(s.wrong, s.right + s.wrong)
    assert s.curve_source == "computed from per-case confidences" and s.aurc is not None
    assert max(p["coverage"] for p in s.curve) == pytest.approx((s.right + s.wrong) / 24)
    assert any("computed here" in n for n in s.notes)


def test_shipped_older_reports_open_without_the_new_keys():
    reports = sorted(SHIPPED.glob("*.json"))
    assert reports
    for path in reports:
        s = load(path)
        assert s.cases > 0
        if s.right is not None and s.right + (s.wrong or 0):
            assert s.curve  # at least the report's one operating point
    formalise = load(SHIPPED / "formalise-dev-embedded.json")
    assert formalise.curve_source == "one operating point" and formalise.error_upper_95 is not None
    panel = load(SHIPPED / "panel-embedded-2026-11-30.json")
    assert panel.right is None and not panel.curve and "flaw_recall" in panel.figures
    assert panel.baselines[0]["name"] == "baseline"  # the older single `baseline` block


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_file_that_is_not_a_report_is_one_clear_error(raw):
    with pytest.raises(InputError) as err:
        eval_report.parse(raw, "bad.json")
    assert "bad.json" in err.value.one_line()


def charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


@pytest.fixture
def evals_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "evals"
    folder.mkdir()
    shutil.copy(FIXTURE, folder)
    shutil.copy(SHIPPED / "formalise-dev-embedded.json", folder)
    shutil.copy(SHIPPED / "panel-embedded-2026-11-30.json", folder)
    (folder / "broken.json").write_text("{")
    monkeypatch.setenv("GAUNTLET_EVALS_DIR", str(folder))
    monkeypatch.setenv("GAUNTLET_DB", str(tmp_path / "empty.sqlite"))
    from gauntlet.graphs.store.store import Store
    Store(str(tmp_path / "empty.sqlite")).engine.dispose()
    return folder


def open_page(**params: str) -> AppTest:
    import streamlit as st
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"] = "evals"
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_evaluations_page_draws_the_curve_bars_and_filtered_cases(evals_dir):
    at = open_page(report="rulings-fixture.json")
    assert not at.exception and not at.error
    assert at.title[0].value == "Evaluations"
    specs = charts(at)
    titles = [json.dumps(s.get("title", "")) for s in specs]
    assert any("Risk-coverage" in t for t in titles) and any("Right / wrong / abstained" in t for t in titles)
    table = [d.value for d in at.dataframe if "outcome" in d.value.columns][0]
    assert len(table) == 24
    at.radio(key="case_filter_a").set_value("wrong").run()
    table = [d.value for d in at.dataframe if "outcome" in d.value.columns][0]
    assert len(table) > 0 and set(table["outcome"]) == {"wrong"}


def test_evaluations_page_compares_two_reports_and_survives_a_broken_one(evals_dir):
    at = open_page(report="rulings-fixture.json", compare="formalise-dev-embedded.json")
    assert not at.exception and not at.error
    assert at.toggle(key="eval_compare").value is True
    assert [s.value for s in at.subheader][:2] == ["rulings · fixture:dashboard-tests",
                                                   "formalise · embedded:qwen2.5-coder-1.5b-instruct-q4"]
    overlay = [s for s in charts(at) if "Risk-coverage" in json.dumps(s.get("title", ""))]
    assert len(overlay) == 3  # both reports on one plot, then each report's own
    at = open_page(report="broken.json")
    assert not at.exception and "broken.json: not JSON" in at.error[0].value


def test_the_sidebar_opens_the_evaluations_page(evals_dir):
    import streamlit as st
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button(key="nav_evals").click().run()
    assert at.query_params["page"] in ("evals", ["evals"]) and at.title[0].value == "Evaluations"
