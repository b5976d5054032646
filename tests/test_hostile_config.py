"""Property test: 1,000 mutated configs give either a valid config or one clean InputError — never a traceback."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gauntlet.graphs.run.loading import parse_config
from gauntlet.errors import InputError

DEMO = yaml.safe_load((Path(__file__).parent.parent / "runs" / "configs" / "demo.yaml").read_text())

junk = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["../../etc/passwd", "../../etc/passwd.yaml", "/etc/shadow.md", "1e9", "", "\x00\x01",
                     "http://127.0.0.1:1/v1", "javascript:alert(1)", "<script>x</script>"]),
    st.lists(st.text(max_size=8), max_size=3), st.dictionaries(st.text(max_size=6), st.integers(), max_size=2))


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(DEMO) if p]


@st.composite
def mutated(draw):
    doc = copy.deepcopy(DEMO)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(junk)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=10))] = draw(junk)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    return doc


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_mutated_configs_never_raise_anything_but_input_error(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        parse_config(text, source="fuzz.yaml", base_dir=Path(__file__).parent)
    except InputError as exc:
        line = exc.one_line()
        assert "\n" not in line and line.startswith("fuzz.yaml")
        assert exc.fix  # every error says how to fix it


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_traceback(blob):
    try:
        parse_config(blob.decode("utf-8", errors="replace"), source="b.yaml")
    except InputError as exc:
        assert "\n" not in exc.one_line()


def test_cli_rejects_hostile_inputs_without_writing(tmp_path):
    cases = {
        "escape.yaml": "topic: t\npanel:\n  critics: [../../etc/passwd.yaml]\n",
        "absurd.yaml": "topic: t\nrounds: 1000000000\npanel:\n  critics: [security-engineer]\n",
        "types.yaml": "topic: [1, 2]\npanel:\n  critics: security-engineer\n",
        "empty.yaml": "",
        "binary.yaml": b"\x7fELF\x02\x01\x01\x00",
        "url.yaml": "topic: t\npanel:\n  critics: [security-engineer]\nmodel:\n  backend: openai\n  base_url: file:///etc\n",
    }
    db = tmp_path / "db.sqlite"
    for name, body in cases.items():
        p = tmp_path / name
        p.write_bytes(body if isinstance(body, bytes) else body.encode())
        out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(p), "--db", str(db)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, (name, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and name in out.stderr and "Traceback" not in out.stderr
    assert not db.exists()
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2 and "directory" in out.stderr
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "show", "x", "--db", "nope://"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "--db" in out.stderr
