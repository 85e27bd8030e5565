"""Slurm command helpers: bounded calls, transient errors told apart, sinfo read per partition."""

from __future__ import annotations

import pytest

from aifnb_slurm.slurm import AvailabilityCache, SlurmCommandError, parse_sinfo, run_slurm

SINFO = """\
cpu*|idle|0/32/0/32|gpu:1|gpu:0|
gpu|mix|8/24/0/32|gpu:a100:4(S:0-1)|gpu:a100:1(IDX:0)|
gpu|drain|0/0/32/32|gpu:a100:4|gpu:a100:0|
"""


def test_parse_sinfo_sums_per_partition_and_ignores_unusable_nodes():
    """Idle nodes, idle CPUs and free GPUs per partition; drained nodes offer nothing."""
    result = parse_sinfo(SINFO)
    assert result["cpu"].nodes_idle == 1 and result["cpu"].cpus_idle == 32 and result["cpu"].gpus_idle == 1
    gpu = result["gpu"]
    assert (gpu.nodes_idle, gpu.nodes_total, gpu.cpus_idle, gpu.gpus_idle, gpu.gpus_total) == (0, 2, 24, 3, 8)


async def test_run_slurm_returns_output_and_raises_with_stderr():
    """Output comes back stripped; a failure carries stderr and whether it looks transient."""
    assert await run_slurm(["sh", "-c", "echo ' 42 '"]) == "42"
    with pytest.raises(SlurmCommandError) as info:
        await run_slurm(["sh", "-c", "echo 'Unable to contact slurm controller' >&2; exit 1"])
    assert info.value.transient and info.value.returncode == 1
    with pytest.raises(SlurmCommandError) as info:
        await run_slurm(["sh", "-c", "echo 'Invalid job id specified' >&2; exit 1"])
    assert not info.value.transient


async def test_run_slurm_kills_a_command_that_hangs():
    """A command past its time limit is killed and reported as transient."""
    with pytest.raises(SlurmCommandError, match="no answer within 0.2 s") as info:
        await run_slurm(["sleep", "5"], timeout=0.2)
    assert info.value.transient


async def test_missing_command_is_not_transient():
    """A Slurm client that is not installed is a configuration error, said plainly."""
    with pytest.raises(SlurmCommandError, match="not installed"):
        await run_slurm(["no-such-slurm-command"])


async def test_availability_is_cached(tmp_path, monkeypatch):
    """sinfo runs once per ttl, however often the form is opened."""
    script = tmp_path / "sinfo"
    script.write_text(f"#!/bin/sh\necho x >> {tmp_path}/calls\nprintf '%s' '{SINFO}'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    cache = AvailabilityCache(ttl=60)
    first = await cache.get()
    second = await cache.get()
    assert first == second and first["gpu"].gpus_total == 8
    assert (tmp_path / "calls").read_text().count("x") == 1
