"""Launched model servers shared across processes: first starts, later attach, the last lease out stops it.

The engine binary is a stand-in (`vllm` on PATH that starts the synthetic OpenAI-compatible server), so the
real parts are exercised: process groups, the file lock, lease files named by pid, health waits, /v1/models.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from gauntlet.agents.launch import is_healthy, llamacpp_command
from gauntlet.agents.routing import attached
from gauntlet.agents.server_share import SharedServer, live_leases
from gauntlet.config import ModelConfig
from gauntlet.errors import InputError
from gauntlet.testing.synthetic_server import free_port


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch):
    """A `vllm` executable that serves the synthetic server on the --port it is given."""
    exe = tmp_path / "bin" / "vllm"
    exe.parent.mkdir()
    exe.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        from gauntlet.testing.synthetic_server import main
        argv = sys.argv[1:]
        main(["--port", argv[argv.index("--port") + 1]])
        """))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GAUNTLET_SERVER_DIR", str(tmp_path / "servers"))
    return exe


def cfg(port: int) -> ModelConfig:
    return ModelConfig(backend="openai", name="synthetic", launch=True, launch_port=port, launch_timeout_s=60)


def test_second_process_attaches_and_the_last_lease_stops_the_server(fake_vllm):
    port = free_port()
    first, second = SharedServer(cfg(port)), SharedServer(cfg(port))
    url = first.acquire()
    assert first.started and is_healthy(url)
    record = json.loads((first.dir / "server.json").read_text())
    assert second.acquire() == url and not second.started  # attached: no second copy of the model
    first.release()
    assert is_healthy(url), "a lease is still held: the server must stay up"
    second.release()
    assert not is_healthy(url, timeout_s=1) and not (first.dir / "server.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(record["pid"], 0)


def test_a_dead_holders_lease_is_pruned_and_its_server_adopted(fake_vllm):
    port = free_port()
    script = ("from gauntlet.agents.server_share import SharedServer; from gauntlet.config import ModelConfig; "
              f"SharedServer(ModelConfig(backend='openai', name='synthetic', launch=True, launch_port={port}))"
              ".acquire()")  # exits without releasing, as a killed run would
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy(), timeout=120)
    ours = SharedServer(cfg(port))
    url = ours.acquire()
    assert not ours.started and is_healthy(url)  # the orphan is adopted, not duplicated
    assert len(live_leases(ours.dir / "leases")) == 1  # the dead process's lease is gone
    ours.release()
    assert not is_healthy(url, timeout_s=1)


def test_a_port_serving_another_model_is_a_one_line_error(fake_vllm):
    port = free_port()
    first = SharedServer(cfg(port))
    first.acquire()
    try:
        other = ModelConfig(backend="openai", name="other-model", launch=True, launch_port=port)
        with pytest.raises(InputError, match="already serves 'synthetic'"):
            SharedServer(other).acquire()
    finally:
        first.release()


def test_llamacpp_launch_command_and_attached_config():
    c = ModelConfig(backend="openai", launch=True, launch_engine="llama.cpp", launch_port=8123, n_ctx=2048,
                    threads=2)
    cmd = llamacpp_command(c, python="/py", model_file="/m.gguf")
    assert cmd[:3] == ["/py", "-m", "gauntlet.agents.llamacpp_server"]  # llama_cpp.server without the AMX repack
    assert cmd[cmd.index("--model") + 1] == "/m.gguf" and cmd[cmd.index("--n_ctx") + 1] == "2048"
    assert cmd[cmd.index("--port") + 1] == "8123" and cmd[cmd.index("--model_alias") + 1] == "embedded"
    with pytest.raises(InputError, match="--n_ctx"):
        llamacpp_command(c.model_copy(update={"launch_args": ["--n_ctx=8"]}), model_file="/m.gguf")
    a = attached(c, "http://127.0.0.1:8123/v1")
    assert (a.launch, a.base_url, a.name, a.structured_output) == (False, "http://127.0.0.1:8123/v1", "embedded",
                                                                   "json_object")


def test_llamacpp_launch_needs_no_model_name_but_vllm_does():
    ModelConfig(backend="openai", launch=True, launch_engine="llama.cpp")
    with pytest.raises(ValueError, match="launch: true needs"):
        ModelConfig(backend="openai", launch=True)


def test_sweep_points_share_one_launched_server(fake_vllm, tmp_path):
    from gauntlet.graphs.run.sweep import grid, share_servers
    import yaml
    port = free_port()
    base = tmp_path / "sweep.yaml"
    base.write_text("topic: t\nrounds: 1\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
                    f"model: {{backend: openai, name: synthetic, launch: true, launch_port: {port}}}\n")
    points, servers = share_servers(grid(base, ["seed=1,2,3"]))
    try:
        assert len(servers) == 1 and servers[0].started  # three runs, one server
        models = [yaml.safe_load(p.config_yaml)["model"] for p in points]
        assert all(m.get("launch", False) is False and m["base_url"] == f"http://127.0.0.1:{port}/v1"
                   for m in models)
        assert [p.params for p in points] == [{"seed": 1}, {"seed": 2}, {"seed": 3}]
    finally:
        servers[0].release()
    assert not is_healthy(f"http://127.0.0.1:{port}/v1", timeout_s=1)


def test_share_model_serves_the_embedded_model_once():
    from gauntlet.graphs.run.sweep import served_once
    out = served_once({"backend": "embedded", "max_tokens": 200, "threads": 2})
    assert out["launch"] and out["launch_engine"] == "llama.cpp" and out["concurrency"] == 1
    assert out["max_tokens"] == 200 and out["threads"] == 2
    ModelConfig.model_validate(out)
    assert served_once({"backend": "openai", "base_url": "http://h/v1"}) == {"backend": "openai",
                                                                             "base_url": "http://h/v1"}


def test_a_run_with_launch_true_starts_uses_and_stops_its_server(fake_vllm, tmp_path):
    """`gauntlet run` on a launch config: the server comes up, the debate talks to it, and it is gone after."""
    port = free_port()
    cfg_file = tmp_path / "launch.yaml"
    cfg_file.write_text("topic: t\nrounds: 1\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
                        f"model: {{backend: openai, name: synthetic, launch: true, launch_port: {port}}}\n"
                        "provers: {enabled: false}\n")
    db = tmp_path / "g.sqlite"
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(cfg_file), "--db", str(db), "--json",
                          "-q"], capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert out.returncode == 0, out.stderr[-1500:]
    run_id = json.loads(out.stdout)["run_id"]
    shown = json.loads(subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "show", run_id, "--db", str(db),
                                       "--json"], capture_output=True, text=True, timeout=120).stdout)
    assert shown["status"] == "done" and shown["ideas"]
    assert not is_healthy(f"http://127.0.0.1:{port}/v1", timeout_s=1)  # the last (only) lease stopped it


def test_a_cluster_sweep_refuses_to_share_a_server_on_the_drivers_loopback(tmp_path):
    from gauntlet.graphs.run.sweep import grid, run_sweep
    base = tmp_path / "s.yaml"
    base.write_text("topic: t\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n")
    with pytest.raises(InputError, match="cluster sweep cannot share"):
        run_sweep(grid(base, []), base_dir=tmp_path, db="postgresql+psycopg://u@db.example/g", address="ray://h:10001",
                  share_model=True)
