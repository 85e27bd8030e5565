"""The tracker a bias array task runs under: its run record gets the job's start, end and status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from aifnb_widgets.batch.layout import JobRecord, read_record, write_record

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path):
    """A bias task's run folder as submit_array writes it before releasing the job."""
    path = tmp_path / "ai-factory-runs" / "bias-llms" / "20261102T080000Z-40_0"
    write_record(
        path,
        JobRecord(
            kind="bias",
            job_id="40",
            task_id=0,
            user="ana",
            job_dir="/scratch/llms",
            profile="cpu-course",
            partition="cpu",
            cpus=2,
            gpus=0,
            memory="4G",
            walltime="01:00:00",
            submitted_at=T0,
        ),
    )
    return path


def track(folder, *command: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "AIFNB_STARTED_AT": str(time.time() - 1)}
    return subprocess.Popen(
        [sys.executable, "-m", "aifnb_widgets.batch.track", str(folder), "--", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.parametrize(("code", "status"), [(0, "completed"), (3, "failed")], ids=["completed", "failed"])
def test_the_record_gets_start_end_and_status_from_the_command(folder, code, status):
    """A command's exit status becomes the record's status (a failure names the status), with the start the batch script took."""
    process = track(folder, sys.executable, "-c", f"import sys; sys.exit({code})")
    process.communicate(timeout=60)
    assert process.returncode == code
    record = read_record(folder)
    assert record.status == status and record.started_at < record.ended_at
    assert (record.ended_at - record.started_at).total_seconds() >= 1  # from AIFNB_STARTED_AT, before Python's imports
    assert record.error == (None if code == 0 else f"{os.path.basename(sys.executable)} exited with status 3; see the job's log")


def test_sigterm_is_passed_on_and_recorded_as_cancelled(folder):
    """scancel's SIGTERM reaches the command, and the record says cancelled with its end."""
    process = track(folder, sys.executable, "-c", "import time; time.sleep(120)")
    deadline = time.monotonic() + 30
    while read_record(folder).status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 143
    record = read_record(folder)
    assert record.status == "cancelled" and record.ended_at is not None and "SIGTERM" in record.error


def test_a_folder_without_record_is_refused(tmp_path):
    """A script sbatch'ed by hand (no run record) stops with a message, running nothing."""
    process = track(tmp_path / "nothing", sys.executable, "-c", "open('ran', 'w')", cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "holds no run record" in err and not (tmp_path / "ran").exists()
