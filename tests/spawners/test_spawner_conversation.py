"""The spawner's conversation with Slurm, against scripted sbatch/squeue/scancel answers."""

from __future__ import annotations

import asyncio

import pytest
from batchspawner.batchspawner import JobStatus
from jupyterhub.spawner import SpawnException

from aifnb_slurm.slurm import SlurmClient
from aifnb_spawners.spawner import replaced_settings
from tests.spawners.conftest import make_spawner

TIMED_OUT = {"rc": 1, "err": "slurm_load_jobs error: Socket timed out on send/recv operation"}
INVALID = {"rc": 1, "err": "slurm_load_jobs error: Invalid job id specified"}


def spawner_for(slurm, tmp_path, **traits):
    spawner = make_spawner(
        "alice", ("learners",), home=str(tmp_path), environment={"PATH": slurm.path}, startup_poll_interval=0.05, **traits
    )
    spawner.user_options = {"profile": "cpu-course"}
    return spawner


async def test_pending_then_running_reports_reason_and_returns_host_and_port(scripted_slurm, tmp_path):
    """Start walks PENDING (with reason and expected start) to RUNNING and returns the reported port."""
    scripted_slurm.answers(
        sbatch=[{"out": "4242\n"}],
        squeue=[
            {"out": "4242 PENDING Resources 2026-11-23T20:15:00 n/a"},
            {"out": "4242 PENDING Resources 2026-11-23T20:15:00 n/a"},
            {"out": "4242 RUNNING None 2026-11-23T20:15:00 node042"},
        ],
    )
    spawner = spawner_for(scripted_slurm, tmp_path)
    start = asyncio.ensure_future(spawner.start())
    messages = []
    while not spawner.job_status.startswith("PENDING"):
        await asyncio.sleep(0.01)
    async for event in spawner.progress():
        messages.append(event["message"])
        break
    while not spawner.job_status.startswith("RUNNING"):
        await asyncio.sleep(0.01)
    spawner.port = 51234  # what the job's callback sets
    assert await asyncio.wait_for(start, 5) == ("node042", 51234)
    assert messages == ["Slurm job 4242 is pending (Resources), expected to start at 2026-11-23 20:15:00"]
    assert scripted_slurm.calls()[0].endswith("sbatch --parsable")


async def test_transient_squeue_error_keeps_the_server(scripted_slurm, tmp_path):
    """A controller time-out reads as UNKNOWN, so poll() keeps the running server (batchspawner #315)."""
    scripted_slurm.answers(squeue=[TIMED_OUT])
    spawner = spawner_for(scripted_slurm, tmp_path)
    spawner.job_id = "77"
    assert await spawner.query_job_status() == JobStatus.UNKNOWN
    assert await spawner.poll() is None
    assert spawner.job_id == "77"


async def test_squeue_that_hangs_is_bounded_and_unknown(scripted_slurm, tmp_path):
    """A squeue that does not answer within SlurmClient.timeout is killed and read as UNKNOWN."""
    scripted_slurm.answers(squeue=[{"sleep": 5, "out": "78 RUNNING None N/A n1"}])
    SlurmClient.instance(timeout=0.5)
    spawner = spawner_for(scripted_slurm, tmp_path)
    spawner.job_id = "78"
    assert await asyncio.wait_for(spawner.query_job_status(), 3) == JobStatus.UNKNOWN


async def test_vanished_job_is_reported_gone(scripted_slurm, tmp_path):
    """'Invalid job id' and an empty answer both mean the job is gone; poll() clears the state."""
    scripted_slurm.answers(squeue=[INVALID])
    spawner = spawner_for(scripted_slurm, tmp_path)
    spawner.job_id = "79"
    assert await spawner.poll() == 1
    assert spawner.job_id == ""


async def test_job_that_dies_before_reporting_a_port_fails_fast_with_log_tail(scripted_slurm, tmp_path):
    """A job that ends before its server reports a port fails the spawn at once, showing its log."""
    scripted_slurm.answers(sbatch=[{"out": "80"}], squeue=[{"out": "80 RUNNING None N/A node1"}, {"out": ""}])
    log_dir = tmp_path / ".aifnb" / "logs"
    log_dir.mkdir(parents=True)
    (log_dir / "session-80.log").write_text("starting\nImportError: no module named jupyterhub\n")
    spawner = spawner_for(scripted_slurm, tmp_path)
    with pytest.raises(SpawnException) as info:
        await asyncio.wait_for(spawner.start(), 5)
    message = str(info.value.log_message or info.value)
    assert "Session job 80 ended before its notebook server reported a port" in message
    assert "ImportError: no module named jupyterhub" in message
    assert spawner.job_id == ""


async def test_sbatch_refusal_is_a_clear_spawn_error(scripted_slurm, tmp_path):
    """When Slurm refuses the job, the user sees Slurm's reason."""
    scripted_slurm.answers(sbatch=[{"rc": 1, "err": "sbatch: error: Batch job submission failed: Invalid account"}])
    spawner = spawner_for(scripted_slurm, tmp_path)
    with pytest.raises(SpawnException, match="Invalid account"):
        await spawner.start()


async def test_stop_cancels_the_job(scripted_slurm, tmp_path):
    """Stopping runs scancel for the job and waits until squeue no longer lists it."""
    scripted_slurm.answers(squeue=[INVALID])
    spawner = spawner_for(scripted_slurm, tmp_path)
    spawner.job_id = "81"
    await spawner.stop()
    assert any(call.endswith("scancel 81") for call in scripted_slurm.calls())


async def test_spawners_polling_together_share_one_squeue_call(scripted_slurm, tmp_path):
    """Many spawners asking at once cost one squeue call, and each gets its own job's line."""
    scripted_slurm.answers(squeue=[{"out": "90 RUNNING None N/A n1\n91 PENDING Priority N/A n/a\n"}])
    spawners = []
    for job_id in ("90", "91", "92"):
        spawner = spawner_for(scripted_slurm, tmp_path)
        spawner.job_id = job_id
        spawners.append(spawner)
    states = await asyncio.gather(*(s.query_job_status() for s in spawners))
    assert states == [JobStatus.RUNNING, JobStatus.PENDING, JobStatus.NOTFOUND]
    squeue_calls = [c for c in scripted_slurm.calls() if "squeue" in c]
    assert len(squeue_calls) == 1 and "90,91,92" in squeue_calls[0]


async def test_usage_log_records_start_and_stop_once(scripted_slurm, tmp_path):
    """A session that runs and is stopped leaves one start and one stop line with its resources."""
    import json

    scripted_slurm.answers(sbatch=[{"out": "95"}], squeue=[{"out": "95 RUNNING None N/A node1"}])
    log = tmp_path / "usage" / "sessions.jsonl"
    spawner = spawner_for(scripted_slurm, tmp_path, usage_log=str(log))
    start = asyncio.ensure_future(spawner.start())
    while not spawner.usage_recorded:
        await asyncio.sleep(0.01)
    assert spawner.get_state()["usage_recorded"] is True
    spawner.port = 4000
    await asyncio.wait_for(start, 5)
    scripted_slurm.answers(squeue=[INVALID])
    await spawner.stop()
    spawner.clear_state()
    spawner.clear_state()
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["event"], e["job_id"], e["cpus"], e["gpus"], e["profile"]) for e in events] == [
        ("start", "95", 2, 0, "cpu-course"),
        ("stop", "95", 2, 0, "cpu-course"),
    ]


async def test_status_asked_while_squeue_runs_gets_the_next_call(scripted_slurm, tmp_path):
    """A spawner that asks while another's squeue call is in flight is answered by the next call, not left waiting."""
    scripted_slurm.answers(squeue=[{"sleep": 0.5, "out": "96 RUNNING None N/A n1\n"}, {"out": "97 PENDING Priority N/A n/a\n"}])
    first, second = spawner_for(scripted_slurm, tmp_path), spawner_for(scripted_slurm, tmp_path)
    first.job_id, second.job_id = "96", "97"
    early = asyncio.ensure_future(first.query_job_status())
    await asyncio.sleep(0.25)  # the first squeue call is running now
    late = await asyncio.wait_for(second.query_job_status(), 5)
    assert (await asyncio.wait_for(early, 5), late) == (JobStatus.RUNNING, JobStatus.PENDING)


async def test_stop_retries_scancel_until_slurm_confirms(scripted_slurm, tmp_path):
    """A lost scancel is sent again; the stop ends only when squeue no longer lists the job."""
    scripted_slurm.answers(scancel=[{"rc": 1, "err": "scancel: error: Socket timed out"}, {"out": ""}])
    # squeue lists the job as running until a scancel has gone through (the second one).
    squeue = scripted_slurm.folder / "squeue"
    squeue.write_text(
        "#!/bin/sh\n"
        f'echo "$0 $*" >> {scripted_slurm.folder}/calls.log\n'
        f"[ \"$(grep -c '/scancel 82$' {scripted_slurm.folder}/calls.log)\" -ge 2 ] || echo '82 RUNNING None N/A n1'\n"
    )
    SlurmClient.instance(squeue_tick=0.05)
    spawner = spawner_for(scripted_slurm, tmp_path, cancel_confirm_timeout=1.0)
    spawner.job_id = "82"
    await asyncio.wait_for(spawner.stop(), 10)
    assert len([c for c in scripted_slurm.calls() if c.endswith("/scancel 82")]) == 2


async def test_one_squeue_per_tick_whatever_the_number_of_pollers(scripted_slurm, tmp_path):
    """Fifty spawners polling for a second cost about one squeue call per tick, not one each."""
    ids = [str(300 + i) for i in range(50)]
    scripted_slurm.answers(squeue=[{"out": "\n".join(f"{i} RUNNING None N/A n1" for i in ids)}])
    client = SlurmClient.instance(squeue_tick=0.25)
    spawners = []
    for job_id in ids:
        spawner = spawner_for(scripted_slurm, tmp_path)
        spawner.job_id = job_id
        spawners.append(spawner)

    async def poll_for_a_second(spawner):
        for _ in range(10):
            assert await spawner.query_job_status() == JobStatus.RUNNING
            await asyncio.sleep(0.1)

    await asyncio.gather(*(poll_for_a_second(s) for s in spawners))
    assert 1 <= client.squeue.calls <= 7, client.squeue.calls  # ~1 s / 0.25 s tick, + the first


def test_replaced_batchspawner_settings_are_named():
    """req_partition and batch_script set in the config stop the spawner, naming the profile field."""
    from traitlets.config import Config

    config = Config()
    config.FactorySlurmSpawner.req_partition = "x"
    config.SlurmSpawner.batch_script = "#!/bin/sh"
    problems = replaced_settings(config)
    assert any("req_partition" in p and "profiles[].partition" in p for p in problems), problems
    assert any("batch_script" in p and "batch_script_template" in p for p in problems), problems
    with pytest.raises(ValueError, match=r"profiles\[\]\.partition"):
        make_spawner(config=config)
    assert replaced_settings(Config()) == []
