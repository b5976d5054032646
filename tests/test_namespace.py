"""One import namespace: the wheel installs only `gauntlet` at top level, so Gauntlet and the OpenAI Agents SDK
(whose import package is `agents`) live in one environment and both work."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pip(py: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=900)


def test_wheel_installs_only_gauntlet_beside_openai_agents(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("gauntlet_workbench-*.whl"))
    import zipfile
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"gauntlet"}

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    sdk = _pip(py, "openai-agents")
    if sdk.returncode != 0:
        pytest.skip(f"cannot install openai-agents from the package index here: {sdk.stderr.strip()[-300:]}")
    # Gauntlet's own code needs only these for the modules used below; the full dependency set is the CI's.
    ours = _pip(py, "--no-deps", str(wheel))
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert _pip(py, "pyyaml", "numpy").returncode == 0
    code = (
        "import agents\n"
        "from agents import Agent\n"
        "assert Agent(name='sdk', instructions='hi').name == 'sdk'\n"
        "import gauntlet.agents.persona as persona\n"
        "from gauntlet.graphs.argument.semantics import grounded\n"
        "lab = grounded(['a', 'b'], [('a', 'b')])\n"
        "assert lab.label('a') == 'in' and lab.label('b') == 'out', lab\n"
        "assert len(persona.library()) >= 10\n"
        "assert agents.__file__ != persona.__file__ and 'gauntlet' in persona.__file__\n"
        "print('both ok')\n")
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0 and "both ok" in out.stdout, out.stderr[-2000:]
