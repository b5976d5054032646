"""Rendering model text safely. Everything an LLM wrote is untrusted: it may carry HTML, scripts or tracking images.

Streamlit's markdown already refuses raw HTML unless `unsafe_allow_html` is set (we never set it); on top of that we
escape the HTML metacharacters so a `<script>` shows up as visible text instead of silently vanishing, and we break
image syntax so model text cannot make the reviewer's browser fetch a URL.
"""

from __future__ import annotations

import html

import streamlit as st


def md_escape(text: str) -> str:
    """Markdown source that shows `text` as written: HTML escaped, images and autolinks disarmed."""
    out = html.escape(text or "", quote=False)
    return out.replace("![", "!\\[")


def plain(text: str, limit: int | None = None) -> str:
    """One line of plain text (for canvas labels and table cells), cut to `limit` characters."""
    one = " ".join((text or "").split())
    if limit is not None and len(one) > limit:
        one = one[: limit - 1] + "…"
    return one


def show_text(text: str) -> None:
    st.markdown(md_escape(text))


def caption(text: str) -> None:
    st.caption(md_escape(text))
