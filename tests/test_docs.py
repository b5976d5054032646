"""The repository documents itself: the docs' links resolve inside the repository, and no code points to a
document outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
CODE = [p for d in ("gauntlet", "agents", "provers", "graphs", "ui", "testing", "tests")
        for p in (ROOT / d).rglob("*.py")]
_LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_docs_exist_with_a_picture_of_the_layers():
    names = {p.name for p in DOCS}
    assert {"architecture.md", "contracts.md"} <= names
    assert "```mermaid" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_relative_links_in_the_docs_resolve():
    for doc in DOCS:
        for target, _anchor in _LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to a missing {target}"


def test_no_code_points_to_a_design_document_outside_the_repository():
    this = Path(__file__).resolve()
    for path in CODE:
        if path.resolve() == this:
            continue
        text = path.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text and "/work/shared" not in text, f"{path.relative_to(ROOT)} points outside"
