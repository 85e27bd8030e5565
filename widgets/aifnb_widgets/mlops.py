"""MLflow from sessions and jobs of the platform: the hub's tracking service, checked, shared and logged to.

Sessions get ``MLFLOW_TRACKING_URI`` (the hub's ``/services/mlflow``) and ``MLFLOW_TRACKING_TOKEN``
(their hub API token) from the hub, so plain ``import mlflow`` works. This module adds what
plain MLflow does not say or do:

* :func:`check_service` raises :class:`MlflowServiceError` naming the hub's MLflow service and
  what it answered, instead of MLflow's retry trace, when the service is down or refuses the token;
* :func:`share_experiment` shares an experiment or registered model with one of your hub groups;
* :func:`log_metrics_json`, :func:`log_sweep` and :func:`log_bias_run` log the platform's own
  results (a sandbox's metrics JSON, a Scale & Run sweep as a parent run with one child per
  parameter set, a bias assessment) in one call each.

No ipywidgets here; MLflow is imported only when a function needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

SERVICE = "the hub's MLflow service"
#: The file in a batch run's folder holding the job's MLflow variables (0600, the user's).
CREDENTIAL_FILE = "mlflow.env"
#: What a batch job's token may do: use the MLflow service, nothing else.
JOB_TOKEN_SCOPES = ["access:services!service=mlflow"]
JOB_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_EXPERIMENT_NAME")
#: Seconds a health or share request may take.
TIMEOUT = 10.0


class MlflowServiceError(RuntimeError):
    """The hub's MLflow service is not configured, not answering, or refused the request; the message says which."""


def tracking_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        raise MlflowServiceError(
            f"{SERVICE} is not configured for this session (MLFLOW_TRACKING_URI is {uri or 'not set'}); "
            "ask an admin to enable mlflow: in the hub's settings, or set MLFLOW_TRACKING_URI yourself"
        )
    return uri.rstrip("/")


def _headers() -> dict[str, str]:
    token = os.environ.get("MLFLOW_TRACKING_TOKEN") or os.environ.get("JUPYTERHUB_API_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def check_service(timeout: float = TIMEOUT) -> str:
    """The tracking URI once the service answers as this session's user; else :class:`MlflowServiceError`."""
    uri = tracking_uri()
    try:
        response = httpx.get(
            f"{uri}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, headers=_headers(), timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise MlflowServiceError(f"{SERVICE} at {uri} cannot be reached ({type(exc).__name__}: {exc}); try again later") from None
    if response.status_code in (401, 403):
        raise MlflowServiceError(
            f"{SERVICE} at {uri} refused this session's token (HTTP {response.status_code}): {_first_line(response.text)}"
        )
    if response.status_code != 200:
        detail = _first_line(response.text) if "text/plain" in response.headers.get("content-type", "") else ""
        raise MlflowServiceError(
            f"{SERVICE} at {uri} is not answering (HTTP {response.status_code}){': ' + detail if detail else ''}"
        )
    return uri


def share_experiment(experiment: str, group: str, permission: str = "READ", *, resource: str = "experiment") -> dict:
    """Share an experiment (by name or id) or a registered model (``resource="registered_model"``, by name)
    with one of your hub groups: READ, EDIT, or NO_PERMISSIONS to take the share back."""
    uri = check_service()
    resource_id = experiment
    if resource == "experiment" and not experiment.isdigit():
        import mlflow

        found = mlflow.MlflowClient(uri).get_experiment_by_name(experiment)
        if found is None:
            raise MlflowServiceError(f"no experiment named {experiment!r} that you can see")
        resource_id = found.experiment_id
    body = {"resource": resource, "id": resource_id, "group": group, "permission": permission}
    response = httpx.post(f"{uri}/aifnb/api/share", json=body, headers=_headers(), timeout=TIMEOUT)
    if response.status_code != 200:
        try:
            reason = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            reason = _first_line(response.text)
        raise MlflowServiceError(f"{SERVICE} did not share {resource} {experiment!r} with {group}: {reason}")
    return response.json()


def job_credential(walltime_seconds: int, margin_seconds: int = 3600) -> dict[str, str] | None:
    """In a session with MLflow: the variables a batch job needs to log, with a new hub token that
    may only use the MLflow service and expires ``margin_seconds`` after the job's walltime.
    None outside such a session (nothing to hand on). Batch jobs start from a clean environment
    (``--export=NONE``) and may outlive the session, whose own token dies with it."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    api, token, user = (os.environ.get(k, "") for k in ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER"))
    if not (uri.startswith(("http://", "https://")) and api and token and user):
        return None
    body = {
        "scopes": JOB_TOKEN_SCOPES,
        "expires_in": int(walltime_seconds) + margin_seconds,
        "note": "MLflow logging of a batch job",
    }
    try:
        response = httpx.post(
            f"{api}/users/{user}/tokens", json=body, headers={"Authorization": f"token {token}"}, timeout=TIMEOUT
        )
    except httpx.HTTPError as exc:
        raise MlflowServiceError(f"the hub did not issue a token for the batch job's MLflow logging: {exc}") from None
    if response.status_code != 201:
        raise MlflowServiceError(
            f"the hub did not issue a token for the batch job's MLflow logging (HTTP {response.status_code}): {_first_line(response.text)}"
        )
    variables = {k: os.environ[k] for k in JOB_VARIABLES if os.environ.get(k)}
    return {**variables, "MLFLOW_TRACKING_TOKEN": response.json()["token"]}


def write_credential_at(dir_fd: int, credential: Mapping[str, str], owner_uid: int | None = None) -> None:
    """Write ``credential`` (from :func:`job_credential`) as CREDENTIAL_FILE in the run folder
    ``dir_fd``: a new file, 0600, never through a link, handed to ``owner_uid`` when given."""
    fd = os.open(CREDENTIAL_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        if owner_uid is not None and owner_uid != os.geteuid():
            os.fchown(f.fileno(), owner_uid, -1)
        json.dump({k: v for k, v in credential.items() if k in JOB_VARIABLES}, f)


def load_job_credential(folder: str | Path) -> bool:
    """In a batch job: put the run folder's MLflow variables in the environment (the notebook's
    kernel inherits them). False when the folder has none (MLflow was off at submission)."""
    path = Path(folder) / CREDENTIAL_FILE
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    os.environ.update({k: str(v) for k, v in values.items() if k in JOB_VARIABLES})
    return True


def run_url(run) -> str:
    """The run's page in the MLflow UI, for links from the jobs panel or a dashboard."""
    return f"{tracking_uri()}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _numbers(values: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in _flat(values).items() if isinstance(v, int | float) and not isinstance(v, bool)}


def log_metrics_json(path: str | Path, *, run_name: str | None = None, experiment: str | None = None):
    """Log a notebook's metrics JSON (the file the sandboxes and courses write): numbers as metrics,
    the rest as params, the file itself as an artifact. Returns the finished run."""
    import mlflow

    check_service()
    path = Path(path)
    values = json.loads(path.read_text())
    if experiment:
        mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name or path.stem) as run:
        mlflow.log_metrics(_numbers(values))
        params = {k: v for k, v in _flat(values).items() if k not in _numbers(values)}
        if params:
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_artifact(str(path))
    return run


def log_sweep(
    name: str,
    parameter_sets: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any] | None],
    *,
    experiment: str | None = None,
    tags: Mapping[str, str] | None = None,
):
    """A Scale & Run sweep: one parent run named ``name``, one child run per parameter set with its
    parameters and the numbers of its result (None: the task produced none, tagged failed)."""
    import mlflow

    if len(parameter_sets) != len(results):
        raise ValueError(f"{len(parameter_sets)} parameter sets but {len(results)} results")
    check_service()
    if experiment:
        mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=name, tags={"aifnb.kind": "sweep", **(tags or {})}) as parent:
        mlflow.log_param("tasks", len(parameter_sets))
        for index, (values, result) in enumerate(zip(parameter_sets, results, strict=True)):
            with mlflow.start_run(run_name=f"{name}[{index}]", nested=True, tags={"aifnb.task": str(index)}):
                mlflow.log_params({k: str(v)[:500] for k, v in _flat(values).items()})
                if result is None:
                    mlflow.set_tag("aifnb.status", "failed")
                else:
                    mlflow.log_metrics(_numbers(result))
                    mlflow.set_tag("aifnb.status", "done")
    return parent


def log_bias_run(
    *,
    model: str,
    spec: Mapping[str, Any],
    scores: Mapping[str, Mapping[str, float]],
    coverage: float,
    library_digest: str,
    records: str | Path | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
):
    """A bias assessment: its spec (params), library digest (tag), per-category score with its
    interval (``{category: {"score": s, "low": l, "high": h}}`` as metrics ``<category>.score`` ...),
    coverage, and the records file as an artifact. Returns the finished run."""
    import mlflow

    check_service()
    if experiment:
        mlflow.set_experiment(experiment)
    with mlflow.start_run(
        run_name=run_name or f"bias {model}", tags={"aifnb.kind": "bias", "aifnb.library_digest": library_digest}
    ) as run:
        mlflow.log_params({"model": model, **{k: str(v)[:500] for k, v in _flat(spec).items()}})
        mlflow.log_metric("coverage", float(coverage))
        mlflow.log_metrics(
            {f"{category}.{key}": float(value) for category, parts in scores.items() for key, value in parts.items()}
        )
        if records is not None:
            mlflow.log_artifact(str(records))
    return run
