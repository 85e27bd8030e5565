"""The MLflow wiring of sessions and jobs without the service: off or down, nothing fails and nothing is logged;
forged link files, credential files swapped for links and malformed model URIs are refused. The service itself is
exercised in tests/hub/mlflow/."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from aifnb_widgets import mlops

RUN = "0123456789abcdef0123456789abcdef"


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/services/mlflow"


@pytest.fixture
def no_mlflow(monkeypatch):
    """No MLflow variable in the environment, each restored after the test (a job's credential sets them)."""
    for name in (*mlops.JOB_VARIABLES, *mlops.STALE_VARIABLES, mlops.JOB_RUN_VARIABLE, "JUPYTERHUB_API_TOKEN"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def test_without_the_service_a_submission_gets_no_credential(no_mlflow):
    """No tracking URI (MLflow off, or a shell outside a session): no credential, nothing asked."""
    assert not mlops.configured()
    assert mlops.submission_credential(3600, sweep_name="sweep of x.ipynb", parameter_sets=[{}]) is None


@pytest.mark.parametrize("sweep", [None, "sweep of train.ipynb"], ids=["job", "sweep"])
def test_a_service_that_is_down_lets_the_job_go_without_logging(no_mlflow, capsys, sweep):
    """The service does not answer: no credential, and one line on stderr naming the service."""
    no_mlflow.setenv("MLFLOW_TRACKING_URI", dead_url())
    no_mlflow.setenv("MLFLOW_TRACKING_TOKEN", "a-session-token")
    no_mlflow.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert mlops.submission_credential(600, sweep_name=sweep, parameter_sets=[{"LR": 1}]) is None
    err = capsys.readouterr().err
    assert "will not log to MLflow" in err and mlops.SERVICE in err


def test_job_without_credential_runs_its_body_unlogged(no_mlflow, tmp_path):
    """A run folder without mlflow.env (MLflow off at submission): the body runs, no run id."""
    ran = []
    with mlops.job_run(tmp_path, {"LR": 1}, name="x") as run_id:
        ran.append(run_id)
    assert ran == [None] and not (tmp_path / mlops.RUN_LINK_FILE).exists()


def test_job_with_credential_for_a_dead_service_runs_its_body_and_says_why(no_mlflow, tmp_path, capsys):
    """The credential names a service that is down: the body runs, the job's log says it is not logged."""
    credential = {"MLFLOW_TRACKING_URI": dead_url(), "MLFLOW_TRACKING_TOKEN": "job-token", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        mlops.write_credential_at(fd, credential)
    finally:
        os.close(fd)
    assert oct((tmp_path / mlops.CREDENTIAL_FILE).stat().st_mode & 0o777) == "0o600"
    ran = []
    with mlops.job_run(tmp_path, {"LR": 1}, name="x") as run_id:
        ran.append(run_id)
    assert ran == [None] and "not logging this job to MLflow" in capsys.readouterr().out


def test_credential_is_never_written_through_a_link(tmp_path):
    """A link planted as mlflow.env is not followed (nor replaced): the token never lands in its target."""
    target = tmp_path / "elsewhere"
    (tmp_path / mlops.CREDENTIAL_FILE).symlink_to(target)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        with pytest.raises(FileExistsError):
            mlops.write_credential_at(fd, {"MLFLOW_TRACKING_TOKEN": "secret"})
    finally:
        os.close(fd)
    assert not target.exists()


@pytest.mark.parametrize(
    "link",
    [
        {"run_id": RUN, "experiment_id": "javascript:alert(1)"},
        {"run_id": "../../hub/admin", "experiment_id": "1"},
        {"run_id": RUN + "\n", "experiment_id": "1"},
        {"url": "https://evil.example/", "run_id": RUN},
        ["not", "a", "mapping"],
    ],
    ids=["experiment-script", "run-path", "run-newline", "url-only", "list"],
)
def test_forged_run_link_files_give_no_link(no_mlflow, tmp_path, link):
    """The jobs panel's link is built from checked ids and this session's tracking URI, never read from the file."""
    no_mlflow.setenv("MLFLOW_TRACKING_URI", "https://hub.example.eu/services/mlflow")
    (tmp_path / mlops.RUN_LINK_FILE).write_text(json.dumps(link))
    assert mlops.job_run_link(tmp_path) is None


def test_run_link_points_at_this_sessions_service(no_mlflow, tmp_path):
    """A job's link file gives the run's page on the service this session uses; none without the service."""
    (tmp_path / mlops.RUN_LINK_FILE).write_text(json.dumps({"run_id": RUN, "experiment_id": "7"}))
    assert mlops.job_run_link(tmp_path) is None
    no_mlflow.setenv("MLFLOW_TRACKING_URI", "https://hub.example.eu/services/mlflow/")
    assert mlops.job_run_link(tmp_path) == f"https://hub.example.eu/services/mlflow/#/experiments/7/runs/{RUN}"


@pytest.mark.parametrize(
    "uri",
    ["models:/tiny", "models:/tiny/0", "models:/tiny@champion", "models:/../tiny/1", "models:/tiny/1\n", "models:/ti ny/1"],
    ids=["no-version", "version-0", "alias", "dotdot", "newline", "space"],
)
def test_malformed_model_uris_are_refused_naming_the_form(uri, tmp_path):
    """Only models:/NAME/VERSION (a fixed version) is fetched; anything else names the rule."""
    with pytest.raises(ValueError, match="models:/NAME/VERSION"):
        mlops.download_transformers_model(uri, tmp_path)


def test_bias_backend_without_the_service_names_it(no_mlflow):
    """A models:/ URI in a process without the hub's MLflow service: a BackendError naming the service, no traceback."""
    from aifnb_widgets.backends.base import BackendError
    from aifnb_widgets.backends.hf import HFBackend

    with pytest.raises(BackendError, match="MLflow service is not configured"):
        HFBackend("models:/tiny-lm/1", device="cpu")


def test_runner_metrics_path_follows_the_notebooks_folder(tmp_path):
    """A relative METRICS_PATH is the notebook's folder's; an absolute one stays; none without the parameter."""
    from aifnb_widgets.batch.runner import metrics_path

    assert metrics_path({"METRICS_PATH": "m.json"}, tmp_path) == tmp_path / "m.json"
    assert metrics_path({"METRICS_PATH": "/abs/m.json"}, tmp_path) == Path("/abs/m.json")
    assert metrics_path({"METRICS_PATH": ""}, tmp_path) is None
    assert metrics_path({"LR": 1}, tmp_path) is None


def test_job_credential_replaces_the_submitters_experiment(no_mlflow, tmp_path):
    """A job that inherited its session's environment (a bias array) logs to the credential's experiment: the session's
    MLFLOW_EXPERIMENT_ID (left by mlflow.set_experiment), which MLflow refuses beside another name, is dropped."""
    no_mlflow.setenv("MLFLOW_EXPERIMENT_ID", "7")
    no_mlflow.setenv("MLFLOW_TRACKING_TOKEN", "the-sessions-token")
    (tmp_path / mlops.CREDENTIAL_FILE).write_text(
        json.dumps({"MLFLOW_TRACKING_TOKEN": "job-token", "MLFLOW_EXPERIMENT_NAME": "alice", "PATH": "/evil"})
    )
    assert mlops.load_job_credential(tmp_path)
    assert os.environ["MLFLOW_TRACKING_TOKEN"] == "job-token" and os.environ["MLFLOW_EXPERIMENT_NAME"] == "alice"
    assert "MLFLOW_EXPERIMENT_ID" not in os.environ and os.environ["PATH"] != "/evil"


# MLflow's own SQL store (a local one here, instead of the service) uses a loader SQLAlchemy 2.1 deprecates.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_abandoning_a_sweep_ends_its_parent_run_as_failed(no_mlflow, tmp_path):
    """sbatch failed after the sweep's parent run was started: the parent ends FAILED, not left RUNNING."""
    import mlflow

    no_mlflow.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("sweeps", artifact_location=str(tmp_path / "artifacts"))
    parent = client.create_run(experiment).info.run_id
    mlops.abandon_sweep(None)  # a job submitted without MLflow: nothing to end
    mlops.abandon_sweep({"MLFLOW_TRACKING_TOKEN": "t"})  # a single job: no parent
    assert client.get_run(parent).info.status == "RUNNING"
    mlops.abandon_sweep({mlops.PARENT_RUN_VARIABLE: parent})
    assert client.get_run(parent).info.status == "FAILED"
