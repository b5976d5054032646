"""The Evaluations page (`/?page=evals`): open an eval report and see its risk-coverage curve, its right / wrong /
abstained bars beside the baselines measured in the same run, and its cases; or two reports side by side.

Reports come from runs/evals/results (or $GAUNTLET_EVALS_DIR) or an upload; `&report=NAME&compare=NAME` in the URL
opens two by file name, so a comparison is a link.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from gauntlet.errors import InputError
from gauntlet.ui.dashboard import eval_report
from gauntlet.ui.dashboard.eval_report import Summary

OUTCOME_COLOURS = {"right": "#2e9d4f", "wrong": "#d64545", "abstained": "#9e9e9e"}
FILTERS = ["all", "wrong or abstained", "wrong", "abstained"]
UPLOAD = "(upload a report…)"
CURVE_HEIGHT = 340


def risk_coverage_chart(summaries: list[Summary]) -> alt.Chart:
    """Risk (error among accepted) against coverage, one line per report; each report's own operating point
    ringed. The lower the line, the better the ranking of confidences."""
    pts = pd.DataFrame([{"report": s.name, "coverage": p["coverage"], "risk": p["risk"],
                         "threshold": p.get("threshold"), "accepted": p.get("accepted"), "wrong": p.get("wrong")}
                        for s in summaries for p in s.curve])
    ops = pd.DataFrame([{"report": s.name, **op} for s in summaries if (op := eval_report.operating_point(s))])
    scale_x = alt.Scale(domain=[0, 1])
    colour = alt.Color("report:N", scale=alt.Scale(scheme="tableau10"), legend=alt.Legend(orient="bottom", title=None,
                                                                                      labelLimit=400))
    line = alt.Chart(pts).mark_line(point=True, interpolate="step-after").encode(
        x=alt.X("coverage:Q", scale=scale_x, title="coverage (share of cases accepted)"),
        y=alt.Y("risk:Q", scale=alt.Scale(domain=[0, 1]), title="risk (error among accepted)"),
        color=colour, tooltip=["report", "coverage", "risk", "threshold", "accepted", "wrong"])
    chart = line
    if not ops.empty:
        chart = line + alt.Chart(ops).mark_point(size=160, shape="circle", filled=False, strokeWidth=2).encode(
            x="coverage:Q", y="risk:Q", color=colour, tooltip=["report", "coverage", "risk"])
    return chart.properties(title="Risk-coverage").interactive(bind_y=False)


def outcome_chart(s: Summary) -> alt.Chart:
    rows = pd.DataFrame(eval_report.outcome_bars(s))
    return alt.Chart(rows).mark_bar().encode(
        y=alt.Y("system:N", sort=None, title=None),
        x=alt.X("cases:Q", stack="zero", title="cases"),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLOURS),
                                                     range=list(OUTCOME_COLOURS.values())),
                        legend=alt.Legend(orient="bottom", title=None)),
        order=alt.Order("order:Q"), tooltip=["system", "outcome", "cases"],
    ).properties(title="Right / wrong / abstained", height=alt.Step(28))



def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:.0%}" if pct else (f"{x:.3g}" if isinstance(x, float) else str(x))


def headline(s: Summary) -> None:
    cols = st.columns(5)
    cols[0].metric("cases", _fmt(s.cases))
    cols[1].metric("right / wrong", f"{_fmt(s.right)} / {_fmt(s.wrong)}")
    cols[2].metric("abstained", _fmt(s.abstained))
    cols[3].metric("coverage", _fmt(s.coverage, pct=True))
    cols[4].metric("error ≤ (95%)", _fmt(s.error_upper_95, pct=True),
                   help="one-sided 95% upper bound on the error rate of accepted verdicts (Clopper-Pearson)")


def render_report(s: Summary, key: str) -> None:
    st.subheader(f"{s.eval} · {s.model if s.model != '?' else 'model not recorded'}")
    st.caption(s.name + (f" · AURC {s.aurc:.3f}" if s.aurc is not None else ""))
    headline(s)
    if s.curve:
        st.altair_chart(risk_coverage_chart([s]), width="stretch", height=CURVE_HEIGHT)
        st.caption(f"curve: {s.curve_source}; ringed: this report's operating point")
    if eval_report.outcome_bars(s):
        st.altair_chart(outcome_chart(s), width="stretch")
    if s.baselines:
        st.dataframe([{"baseline": b["name"], **{k: b.get(k) for k in ("right", "wrong", "abstained", "coverage",
                                                                          "error_upper_95")},
                       **b.get("figures", {}), "note": b["note"]} for b in s.baselines],
                     hide_index=True, width="stretch")
    for note in s.notes:
        st.caption("note: " + note)
    if s.figures:
        # A report without right/wrong counts (an older panel report) has only its own figures: show them open.
        with st.expander("the eval's own figures", expanded=s.right is None):
            st.dataframe([{"figure": k, "value": str(v)} for k, v in s.figures.items()], hide_index=True,
                         width="stretch")
    if s.per_case:
        show = st.radio("Cases", FILTERS, horizontal=True, key=f"case_filter_{key}")
        rows = eval_report.case_rows(s, show)
        st.caption(f"{len(rows)} of {len(s.per_case)} cases")
        st.dataframe(rows, hide_index=True, width="stretch")


def _pick(label: str, files: list[str], key: str, wanted: str | None) -> Summary | None:
    options = files + [UPLOAD]
    if wanted in options and key not in st.session_state:
        st.session_state[key] = wanted
    choice = st.selectbox(label, options, key=key)
    if choice == UPLOAD:
        up = st.file_uploader("Eval report (JSON)", type=["json"], key=f"{key}_upload")
        if up is None:
            return None
        return eval_report.summarise(eval_report.parse(up.getvalue(), up.name), up.name)
    if choice is None:
        return None
    st.query_params["report" if key == "eval_a" else "compare"] = choice
    path = eval_report.reports_dir() / choice
    return eval_report.summarise(eval_report.parse(path.read_bytes(), choice), choice)


def render() -> None:
    st.title("Evaluations")
    folder = eval_report.reports_dir()
    files = [p.name for p in eval_report.report_files(folder)]
    shown = folder.relative_to(eval_report.ROOT) if folder.is_relative_to(eval_report.ROOT) else folder
    st.caption(f"reports in {shown} ({len(files)}), or upload one written by `gauntlet eval NAME --out DIR`")
    compare = st.toggle("Compare two reports side by side", key="eval_compare",
                        value=bool(st.query_params.get("compare")))
    try:
        if not compare:
            s = _pick("Report", files, "eval_a", st.query_params.get("report"))
            if s:
                render_report(s, "a")
            return
        left, right = st.columns(2)
        with left:
            a = _pick("Left report", files, "eval_a", st.query_params.get("report"))
        with right:
            b = _pick("Right report", files, "eval_b", st.query_params.get("compare"))
        both = [s for s in (a, b) if s]
        if len(both) == 2 and all(s.curve for s in both):
            st.altair_chart(risk_coverage_chart(both), width="stretch", height=CURVE_HEIGHT)
        for col, s, key in zip(st.columns(2), (a, b), ("a", "b")):
            with col:
                if s:
                    render_report(s, key)
    except InputError as exc:
        st.error(exc.one_line())
