"""Layers point one way and the project's modules form no import cycle (lazy imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
# folder -> installed package; the order is the layering, bottom first
PACKAGES = {"gauntlet": "gauntlet", "agents": "gauntlet.agents", "provers": "gauntlet.provers",
            "graphs": "gauntlet.graphs", "ui": "gauntlet.ui", "testing": "gauntlet.testing"}
# what each layer may import from the project (besides itself)
ALLOWED = {
    "gauntlet": set(),
    "gauntlet.agents": {"gauntlet"},
    "gauntlet.provers": {"gauntlet", "gauntlet.agents"},
    "gauntlet.graphs": {"gauntlet", "gauntlet.agents", "gauntlet.provers"},
    "gauntlet.testing": {"gauntlet", "gauntlet.agents"},
    "gauntlet.ui": {"gauntlet", "gauntlet.agents", "gauntlet.provers", "gauntlet.graphs", "gauntlet.testing"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, pkg in PACKAGES.items():
        for f in (ROOT / folder).rglob("*.py"):
            rel = f.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if folder == "gauntlet" and parts and parts[0] in ("agents", "provers", "graphs", "ui", "testing"):
                continue
            out[".".join([pkg, *parts])] = f
    return out


def _imports(mod: str, path: Path, known: set[str]) -> set[str]:
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found: set[str] = set()
    for s in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(s, ast.Import):
            names = [a.name for a in s.names]
        elif isinstance(s, ast.ImportFrom):
            base = s.module or ""
            if s.level:
                parts = pkg.split(".")[: len(pkg.split(".")) - (s.level - 1)]
                base = ".".join(parts + ([s.module] if s.module else []))
            names = [base] + [f"{base}.{a.name}" for a in s.names]
        for n in names:
            while n and n not in known:
                n = n.rpartition(".")[0]
            if n and n != mod and not mod.startswith(n + "."):
                found.add(n)
    return found


def _layer(mod: str) -> str:
    if mod == "gauntlet":
        return "facade"  # the root re-exports the public API lazily; nothing in the project imports it
    for pkg in sorted(ALLOWED, key=len, reverse=True):
        if mod == pkg or mod.startswith(pkg + "."):
            return pkg
    raise AssertionError(mod)


def _graph() -> nx.DiGraph:
    mods = _modules()
    g = nx.DiGraph()
    for mod, path in mods.items():
        g.add_node(mod)
        for dep in _imports(mod, path, set(mods)):
            g.add_edge(mod, dep)
    return g


def test_no_import_cycles() -> None:
    g = _graph()
    assert g.number_of_nodes() > 60  # the walk found the project, not an empty folder
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == []


def test_layers_point_one_way() -> None:
    wrong = []
    for src, dst in _graph().edges:
        a, b = _layer(src), _layer(dst)
        if a == "facade":
            continue
        if b == "facade" or (a != b and b not in ALLOWED[a]):
            wrong.append(f"{src} -> {dst}")
    assert wrong == []


def test_core_config_loads_without_the_upper_layers() -> None:
    import subprocess
    import sys
    code = ("import sys; from gauntlet.config import parse_shape; "
            "parse_shape('topic: t\\npanel: {critics: [a]}\\nseed_proposals: [{title: x, claim: y}]\\n'); "
            "bad = [m for m in sys.modules if m.startswith(('gauntlet.graphs', 'gauntlet.agents', 'langgraph'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
