"""Scale & Run without a working MLflow service runs exactly as before: the runner executes the notebook and
records it whether the run folder has no credential (MLflow off) or one for a service that is down. With the
service, tests/hub/mlflow/test_mlflow_wiring_integration.py runs jobs and sweeps from a real session."""

from __future__ import annotations

import json
import os
import signal
import socket
from datetime import UTC, datetime

import pytest

from aifnb_slurm.slurm import SlurmCommandError
from aifnb_widgets import mlops
from aifnb_widgets.batch import api
from aifnb_widgets.batch.layout import INPUT, PARAMETERS, JobRecord, read_record, write_record
from aifnb_widgets.batch.runner import run
from tests.widgets.batch.conftest import write_notebook


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A run folder as a submission leaves it (record, parameters, input notebook), and no MLflow variable set."""
    for name in (*mlops.JOB_VARIABLES, mlops.JOB_RUN_VARIABLE):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    notebook = write_notebook(tmp_path / "double.ipynb", "X = 1", "open('doubled.txt', 'w').write(str(X * 2))")
    run_folder = tmp_path / "run"
    record = JobRecord(
        job_id="7", user="someone", notebook=str(notebook), profile="cpu-course", partition="cpu", cpus=1, gpus=0,
        memory="1G", walltime="00:10:00", submitted_at=datetime.now(UTC),
    )  # fmt: skip
    write_record(run_folder, record)
    (run_folder / PARAMETERS).write_text(json.dumps({"X": 21}))
    (run_folder / INPUT).write_text(notebook.read_text())
    handler = signal.getsignal(signal.SIGTERM)  # the runner installs its own, as in a job
    yield run_folder
    signal.signal(signal.SIGTERM, handler)


def dead_service() -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}/services/mlflow",
        "MLFLOW_TRACKING_TOKEN": "job-token",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }


@pytest.mark.parametrize("credential", [None, "dead"], ids=["mlflow-off", "service-down"])
def test_runner_executes_and_records_the_notebook_without_a_working_service(folder, credential, capsys):
    """No credential or a service that is down: the notebook runs, its record says completed, no MLflow link."""
    if credential:
        fd = os.open(folder, os.O_RDONLY)
        try:
            mlops.write_credential_at(fd, dead_service())
        finally:
            os.close(fd)
    assert run(folder) == 0
    assert read_record(folder).status == "completed"
    assert (folder.parent / "doubled.txt").read_text() == "42"
    assert not (folder / mlops.RUN_LINK_FILE).exists() and mlops.job_run_link(folder) is None
    out = capsys.readouterr().out
    assert ("not logging this job to MLflow" in out) == bool(credential)


def test_a_sweep_whose_submission_fails_abandons_its_parent_run(double_notebook, settings, monkeypatch):
    """The parent run is started before sbatch; when the submission then fails, it is ended, and the error is the user's."""
    credential = {"MLFLOW_TRACKING_TOKEN": "job-token", mlops.PARENT_RUN_VARIABLE: "parent-run"}
    abandoned = []
    monkeypatch.setattr(mlops, "submission_credential", lambda *a, **k: credential)
    monkeypatch.setattr(mlops, "abandon_sweep", abandoned.append)

    def refused(*args, **kwargs):
        raise SlurmCommandError(["sbatch"], "Batch job submission failed", returncode=1, transient=False)

    monkeypatch.setattr(api, "submit_recorded", refused)
    with pytest.raises(SlurmCommandError):
        api.submit_notebook(
            double_notebook, profile="cpu-course", sweep=[{"X": 1}, {"X": 2}], groups=["learners"], settings=settings
        )
    assert abandoned == [credential]
