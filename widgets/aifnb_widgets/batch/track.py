"""Start and end times of a platform job in its run record, for jobs that are not notebooks.

``python -m aifnb_widgets.batch.track RUN_FOLDER -- COMMAND...`` is how a bias array task runs
its assessment: the record in RUN_FOLDER (written before the job was released) is marked
running with the job's start, COMMAND runs as a child, and the record gets its end and status
(completed, failed with the exit status, or cancelled on SIGTERM, which is passed on to the
child). A cluster without slurmdbd keeps no other trace of a job once it leaves the queue, so
this is what the usage report and the jobs panel read, as for notebook runs
(:mod:`aifnb_widgets.batch.runner`). When the job was submitted with the hub's MLflow service,
COMMAND gets the run folder's MLflow credential in its environment
(:func:`aifnb_widgets.mlops.load_job_credential`): an assessment logs its run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from aifnb_widgets import mlops
from aifnb_widgets.batch.layout import BatchError, JobRecord, Status, now, read_record, write_record


def mark_running(folder: Path) -> JobRecord:
    """The folder's record, marked running from the job's start (``AIFNB_STARTED_AT``, set by the
    batch script before Python's imports) and written back."""
    started = os.environ.get("AIFNB_STARTED_AT")
    started_at = datetime.fromtimestamp(float(started), UTC) if started else now()
    record = read_record(folder).model_copy(update={"started_at": started_at, "status": "running"})
    write_record(folder, record)
    return record


def mark_ended(folder: Path, record: JobRecord, status: Status, error: str | None = None) -> JobRecord:
    """``record`` with its final status, error and end time, written back."""
    record = record.model_copy(update={"status": status, "error": error, "ended_at": now()})
    write_record(folder, record)
    return record


def track(folder: Path, argv: list[str]) -> int:
    """Run ``argv`` between :func:`mark_running` and :func:`mark_ended`; its exit status."""
    terminated: list[int] = []
    child: subprocess.Popen | None = None

    def on_term(signum, frame):  # signal handler signature: (signum, frame)
        terminated.append(signum)
        if child is not None:
            child.send_signal(signal.SIGTERM)

    # Installed first: a scancel at any moment from here on ends in the record.
    signal.signal(signal.SIGTERM, on_term)
    try:
        record = mark_running(folder)
    except (BatchError, FileNotFoundError) as exc:
        print(f"aifnb: {folder} holds no run record ({exc}); submit with 'aifnb bias submit'", file=sys.stderr)
        return 2
    code = 143
    mlops.load_job_credential(folder)
    os.environ[mlops.RUN_DIR_VARIABLE] = str(folder)  # where the command notes its MLflow run
    if not terminated:
        child = subprocess.Popen(argv)
        if terminated:  # arrived while the child was starting
            child.send_signal(signal.SIGTERM)
        code = child.wait()
    if terminated:
        mark_ended(folder, record, "cancelled", "stopped by SIGTERM (scancel or walltime)")
        code = 143
    elif code == 0:
        mark_ended(folder, record, "completed")
    else:
        mark_ended(folder, record, "failed", f"{Path(argv[0]).name} exited with status {code}; see the job's log")
    print(f"aifnb: job {record.slurm_id} {'cancelled' if terminated else 'completed' if code == 0 else 'failed'}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m aifnb_widgets.batch.track RUN_FOLDER -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return track(Path(args[0]), args[2:])


if __name__ == "__main__":
    sys.exit(main())
