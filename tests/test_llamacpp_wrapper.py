"""The llama.cpp server wrapper launches run through: llama_cpp.server's own arguments, Gauntlet's load
parameters applied first; a bad override is one line and exit code 2. (The slow test in
tests/test_llamacpp_server.py serves the real model through it.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gauntlet.agents.launch import _has_llamacpp_server

pytestmark = pytest.mark.skipif(not _has_llamacpp_server(), reason="needs the serve extra: pip install -e '.[serve]'")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gauntlet.agents.llamacpp_server", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_it_takes_llama_cpp_servers_arguments_after_applying_the_parameters():
    out = run("--help", GAUNTLET_LLAMA_REPACK="off")
    assert out.returncode == 0, out.stderr[-800:]
    assert "--n_threads_batch" in out.stdout and "--model_alias" in out.stdout
    assert "gauntlet: llama.cpp model load: weight repack off" in out.stderr


def test_a_bad_override_is_one_line_and_exit_2():
    out = run("--help", GAUNTLET_LLAMA_REPACK="sometimes")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "GAUNTLET_LLAMA_REPACK" in out.stderr
