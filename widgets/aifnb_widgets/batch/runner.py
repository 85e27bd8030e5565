"""What runs inside the job: papermill on the run folder's input.ipynb with its parameters.json.

Start and end times go into job.json from here, because a cluster without slurmdbd keeps no
other trace of them once the job leaves the queue. A failure keeps papermill's partial
executed.ipynb and writes the exception to error.txt and job.json; a SIGTERM (scancel,
walltime) is recorded as cancelled before Slurm's KillWait runs out.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from aifnb_widgets.batch.layout import ERROR, EXECUTED, INPUT, PARAMETERS, now, write_record
from aifnb_widgets.batch.track import mark_running


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so papermill unwinds and the record is written."""


def _on_term(signum, frame):
    raise _Terminated()


def run(folder: Path) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    record = mark_running(folder)
    parameters = json.loads((folder / PARAMETERS).read_text(encoding="utf-8"))
    notebook = folder / INPUT
    try:
        import papermill

        kernel = (
            json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
        )
        # In the notebook's own folder, so its relative paths mean what they meant in the session.
        papermill.execute_notebook(
            str(notebook),
            str(folder / EXECUTED),
            parameters=parameters,
            cwd=str(Path(record.notebook).parent),
            kernel_name=kernel,
            progress_bar=False,
        )
    except _Terminated:
        record = record.model_copy(update={"status": "cancelled", "error": "stopped by SIGTERM (scancel or walltime)"})
        code = 143
    except Exception as exc:  # the notebook's own error, whatever it is, belongs in the record
        message = str(exc).strip() or type(exc).__name__
        (folder / ERROR).write_text(f"{type(exc).__name__}: {message}\n", encoding="utf-8")
        record = record.model_copy(update={"status": "failed", "error": message[-2000:]})
        code = 1
    else:
        record = record.model_copy(update={"status": "completed"})
        code = 0
    write_record(folder, record.model_copy(update={"ended_at": now()}))
    print(f"aifnb: notebook {record.status}; outputs in {folder}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m aifnb_widgets.batch.runner RUN_FOLDER", file=sys.stderr)
        return 2
    return run(Path(args[0]))


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # job.json already holds the end time; the interpreter's teardown (zmq contexts, the kernel
    # manager's threads) takes seconds on a loaded node, which Slurm would bill after that time.
    os._exit(code)
