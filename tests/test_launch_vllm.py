"""The vLLM launch path up to the process command line (no GPU here), plus the health wait against a real server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gauntlet.agents.launch import VllmServer, health_url, vllm_bench_command, vllm_command, wait_healthy
from gauntlet.config import ModelConfig
from gauntlet.graphs.run.loading import parse_config
from gauntlet.errors import InputError


def launch_cfg(**kw) -> ModelConfig:
    return ModelConfig(backend="openai", name="Qwen/Qwen2.5-7B-Instruct", launch=True, **kw)


def test_command_serves_the_model_with_prefix_caching_and_tensor_parallelism():
    cmd = vllm_command(launch_cfg(tensor_parallel_size=4, launch_port=8123, concurrency=256))
    assert cmd[:3] == ["vllm", "serve", "Qwen/Qwen2.5-7B-Instruct"]
    assert "--enable-prefix-caching" in cmd
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "4"
    assert cmd[cmd.index("--port") + 1] == "8123"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--max-num-seqs") + 1] == "256"  # the engine batch can hold a whole round


def test_extra_args_are_appended_but_cannot_override_our_flags():
    cmd = vllm_command(launch_cfg(launch_args=["--gpu-memory-utilization", "0.85"]))
    assert cmd[-2:] == ["--gpu-memory-utilization", "0.85"]
    with pytest.raises(InputError, match="--port"):
        vllm_command(launch_cfg(launch_args=["--port=9000"]))


def test_server_object_builds_the_same_command_and_url():
    server = VllmServer(launch_cfg(launch_port=8200), executable="/opt/bin/vllm")
    assert server.command()[0] == "/opt/bin/vllm"
    assert server.base_url == "http://127.0.0.1:8200/v1"
    assert health_url(server.base_url) == "http://127.0.0.1:8200/health"


def test_config_accepts_launch_without_base_url_and_rejects_it_without_a_model(tmp_path):
    ok = parse_config("topic: t\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
                      "model: {backend: openai, name: m, launch: true, tensor_parallel_size: 2}\n")
    assert ok.config.model.launch and ok.config.model.tensor_parallel_size == 2
    with pytest.raises(InputError, match="launch: true needs") as exc:
        parse_config("topic: t\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
                     "model: {backend: openai, launch: true}\n")
    assert "\n" not in exc.value.one_line()
    with pytest.raises(InputError, match="unknown keys|remove this key"):
        parse_config("topic: t\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
                     "model: {backend: openai, name: m, launch: true, tensor_paralel_size: 2}\n")


def test_start_without_vllm_installed_is_a_one_line_input_error():
    server = VllmServer(launch_cfg())
    server.executable = ""
    with pytest.raises(InputError, match="not installed"):
        server.start()


def test_wait_healthy_returns_once_a_real_server_answers(synthetic_url):
    wait_healthy(synthetic_url, timeout_s=10, poll_s=0.05)


def test_wait_healthy_reports_a_dead_process_with_its_log(tmp_path):
    log = tmp_path / "vllm.log"
    log.write_text("CUDA out of memory\n")
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(InputError, match="exited with code 3: CUDA out of memory"):
        wait_healthy("http://127.0.0.1:9/v1", timeout_s=5, poll_s=0.05, proc=proc, log_path=log)


def test_vllm_bench_command_targets_the_same_server_and_model(tmp_path):
    cmd = vllm_bench_command("http://10.0.0.2:8000/v1", "m", tmp_path)
    assert cmd[:3] == ["vllm", "bench", "serve"]
    assert cmd[cmd.index("--base-url") + 1] == "http://10.0.0.2:8000"
    assert cmd[cmd.index("--model") + 1] == "m"
