"""The llama.cpp load parameters follow the CPU: on a CPU reporting AMX the weight repack (whose AMX kernel
crashes, llama.cpp issue 20824) is off unless the user asks for it. The CPU flags are injected, so this runs
on any machine; the slow tests load the real model with whatever this machine decides."""

from __future__ import annotations

import pytest

from gauntlet.agents import llama_runtime
from gauntlet.agents.llama_runtime import cpu_features, cpu_flags, current_params, load_params
from gauntlet.errors import InputError

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw amx_bf16 amx_tile amx_int8 avx512_fp16
"""
EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
"""


def test_flags_are_read_from_cpuinfo():
    assert {"amx_tile", "avx512f"} <= cpu_flags(SAPPHIRE_RAPIDS)
    assert cpu_features(cpu_flags(SAPPHIRE_RAPIDS)) == {"avx2": True, "avx512": True, "amx": True}
    assert cpu_features(cpu_flags(EPYC)) == {"avx2": True, "avx512": True, "amx": False}
    assert cpu_flags("no flags here") == frozenset()


@pytest.mark.parametrize("setting", [None, "", "off", "auto"])
def test_amx_cpu_loads_without_the_repack(setting):
    params = load_params(cpu_flags(SAPPHIRE_RAPIDS), setting)
    assert params.use_extra_bufts is False and params.amx_workaround and "AMX" in params.reason


def test_the_override_turns_the_repack_back_on_and_auto_keeps_it_elsewhere():
    assert load_params(cpu_flags(SAPPHIRE_RAPIDS), "on").use_extra_bufts is True
    assert load_params(cpu_flags(EPYC), "auto").use_extra_bufts is True
    env = {llama_runtime.REPACK_ENV: "on"}
    assert current_params(env, SAPPHIRE_RAPIDS).use_extra_bufts is True
    assert current_params({}, SAPPHIRE_RAPIDS).use_extra_bufts is False


def test_a_bad_setting_names_the_variable():
    with pytest.raises(InputError, match="GAUNTLET_LLAMA_REPACK.*on, off or auto"):
        load_params(cpu_flags(EPYC), "maybe")


def test_apply_changes_what_llama_cpp_loads_with():
    """The real llama_cpp default-parameter function (a C call), wrapped: what every `Llama(...)` reads."""
    import llama_cpp.llama_cpp as native

    before = llama_runtime.applied()
    try:
        llama_runtime.apply(load_params(cpu_flags(SAPPHIRE_RAPIDS), None))
        assert native.llama_model_default_params().use_extra_bufts is False
        assert llama_runtime.applied().amx_workaround
        llama_runtime.apply(load_params(cpu_flags(SAPPHIRE_RAPIDS), "on"))  # re-applying replaces, never stacks
        assert native.llama_model_default_params().use_extra_bufts is True
        assert native.llama_model_default_params.gauntlet_original().use_extra_bufts is True  # llama.cpp's own
    finally:
        if before is not None:
            llama_runtime.apply(before)
        else:
            native.llama_model_default_params = native.llama_model_default_params.gauntlet_original


def test_the_model_lock_excludes_another_process(tmp_path, monkeypatch):
    """While one process holds the model lock, another's non-blocking attempt on the same file fails."""
    import subprocess
    import sys

    lock = tmp_path / "model.lock"
    monkeypatch.setenv(llama_runtime.LOCK_ENV, str(lock))
    probe = ("import fcntl, sys\nfh = open(sys.argv[1], 'a+')\ntry:\n    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
             "    print('free')\nexcept BlockingIOError:\n    print('held')\n")
    with llama_runtime.model_call_lock():
        inside = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True, text=True).stdout
    after = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True, text=True).stdout
    assert (inside.strip(), after.strip()) == ("held", "free")


GB = 1 << 30
INTEL_AVX2 = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu sse sse2 avx avx2 fma
"""


def test_generation_gets_a_repacked_copy_only_where_it_was_measured_and_is_safe():
    off = load_params(cpu_flags(EPYC), None)
    choice = llama_runtime.decoder_choice(cpu_flags(EPYC), off, None, 16 * GB, GB)
    assert choice.enabled and "repacked" in choice.reason
    amx = llama_runtime.decoder_choice(cpu_flags(SAPPHIRE_RAPIDS), load_params(cpu_flags(SAPPHIRE_RAPIDS), None),
                                       "on", 16 * GB, GB)
    assert not amx.enabled and "AMX" in amx.reason  # never, even when asked: the repacked kernel crashes there
    repacked = llama_runtime.decoder_choice(cpu_flags(EPYC), load_params(cpu_flags(EPYC), "on"), None, 16 * GB, GB)
    assert not repacked.enabled and "already" in repacked.reason
    assert not llama_runtime.decoder_choice(cpu_flags(INTEL_AVX2), off, None, 16 * GB, GB).enabled
    assert llama_runtime.decoder_choice(cpu_flags(INTEL_AVX2), off, "on", 16 * GB, GB).enabled
    short = llama_runtime.decoder_choice(cpu_flags(EPYC), off, None, 2 * GB, GB)
    assert not short.enabled and "free" in short.reason
    assert not llama_runtime.decoder_choice(cpu_flags(EPYC), off, "off", 16 * GB, GB).enabled
    with pytest.raises(InputError, match="GAUNTLET_LLAMA_DECODER"):
        llama_runtime.decoder_choice(cpu_flags(EPYC), off, "sometimes", 16 * GB, GB)


def test_available_memory_is_read_from_meminfo():
    assert llama_runtime.available_memory("MemTotal: 100 kB\nMemAvailable:   2048 kB\n") == 2048 * 1024
    assert llama_runtime.available_memory("MemTotal: 100 kB\n") is None
