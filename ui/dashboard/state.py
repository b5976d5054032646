"""Where the dashboard is: the database from the command line, the run and node from the URL (shareable links)."""

from __future__ import annotations

import argparse
import os

import streamlit as st

from gauntlet.graphs.store.store import DEFAULT_DB


def db_arg(argv: list[str]) -> str:
    """`--db` as passed by `gauntlet ui` (after streamlit's `--`); else $GAUNTLET_DB; else the default file."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(argv)
    return known.db or os.environ.get("GAUNTLET_DB") or DEFAULT_DB


def current_run() -> str | None:
    return st.query_params.get("run") or None


def current_node() -> str | None:
    return st.query_params.get("node") or None


def open_run(run_id: str | None) -> None:
    """Navigate by URL so the address bar is always a link someone else can open."""
    st.query_params.clear()
    if run_id:
        st.query_params["run"] = run_id


def select_node(node_id: str) -> None:
    if st.query_params.get("node") != node_id:
        st.query_params["node"] = node_id


def run_link(run_id: str) -> str:
    return f"/?run={run_id}"


def current_page() -> str | None:
    return st.query_params.get("page") or None


def sidebar_pages() -> None:
    """Buttons to the two top-level pages; navigation is by URL, like everything else."""
    runs, evals = st.sidebar.columns(2)
    if runs.button("Runs", key="nav_runs", width="stretch"):
        st.query_params.clear()
        st.rerun()
    if evals.button("Evaluations", key="nav_evals", width="stretch"):
        st.query_params.clear()
        st.query_params["page"] = "evals"
        st.rerun()
