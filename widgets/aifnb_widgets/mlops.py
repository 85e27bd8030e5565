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

The platform's own work calls these by itself when the process has the service
(:func:`configured`), and works as before without it: Scale & Run's submission hands each job a
credential of its own (:func:`submission_credential`, a sweep's parent run started first), the
job's runner wraps the notebook in :func:`job_run`, the jobs panel links the run
(:func:`job_run_link`), and a bias assessment (CLI or dashboard) logs one run per model
(:func:`log_assessment_runs`). :func:`download_transformers_model` fetches a registered model
version for :func:`aifnb_widgets.torch_runtime.load_pretrained`, so the bias engine takes
``models:/NAME/VERSION`` as a model.

No ipywidgets here; MLflow is imported only when a function needs it.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

SERVICE = "the hub's MLflow service"
#: The file in a batch run's folder holding the job's MLflow variables (0600, the user's).
CREDENTIAL_FILE = "mlflow.env"
#: The sweep's parent run, when the job is one task of a Scale & Run sweep (see :func:`start_sweep`).
PARENT_RUN_VARIABLE = "AIFNB_MLFLOW_PARENT_RUN_ID"
#: The batch job's own run, for the notebook's kernel (see :func:`job_run`).
JOB_RUN_VARIABLE = "AIFNB_MLFLOW_JOB_RUN_ID"
#: The job's run id and MLflow page, in the run folder, for the jobs panel (:func:`job_run_link`).
RUN_LINK_FILE = "mlflow-run.json"
#: The run folder of a job under the batch tools' tracker (set by :mod:`aifnb_widgets.batch.track`).
RUN_DIR_VARIABLE = "AIFNB_RUN_DIR"
#: Scale & Run's executed notebook in a run folder (aifnb_widgets.batch.layout.EXECUTED).
EXECUTED_NOTEBOOK = "executed.ipynb"
JOB_VARIABLES = (
    "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_EXPERIMENT_NAME", PARENT_RUN_VARIABLE,
)  # fmt: skip
#: What a job's credential replaces when the job inherited its submitter's environment.
STALE_VARIABLES = ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID")
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


def job_credential(walltime_seconds: int, margin_seconds: int = 3600, parent_run_id: str | None = None) -> dict[str, str] | None:
    """In a session with MLflow: the variables a batch job needs to log, with a token from the MLflow
    service that is valid there alone and expires ``margin_seconds`` after the job's walltime. None
    outside such a session (nothing to hand on). Batch jobs start from a clean environment
    (``--export=NONE``) and may outlive the session, whose own token dies with it."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")) or not _headers():
        return None
    body = {"expires_in": int(walltime_seconds) + margin_seconds}
    try:
        response = httpx.post(f"{uri.rstrip('/')}/aifnb/api/job-token", json=body, headers=_headers(), timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise MlflowServiceError(
            f"{SERVICE} at {uri} did not issue a token for the batch job ({type(exc).__name__}: {exc})"
        ) from None
    if response.status_code != 200:
        raise MlflowServiceError(
            f"{SERVICE} at {uri} did not issue a token for the batch job (HTTP {response.status_code}): {_first_line(response.text)}"
        )
    variables = {k: os.environ[k] for k in JOB_VARIABLES if os.environ.get(k)}
    if parent_run_id:
        variables[PARENT_RUN_VARIABLE] = parent_run_id
    return {**variables, "MLFLOW_TRACKING_TOKEN": response.json()["token"]}


def configured() -> bool:
    """Whether this process was given the hub's MLflow service (a tracking URL and a token): the
    platform's own work logs to it only then, and works as before otherwise."""
    return os.environ.get("MLFLOW_TRACKING_URI", "").startswith(("http://", "https://")) and bool(_headers())


def submission_credential(
    walltime_seconds: int, *, sweep_name: str | None = None, parameter_sets: Sequence[Mapping[str, Any]] = ()
) -> dict[str, str] | None:
    """In a session submitting a batch job or sweep: the job's credential (:func:`job_credential`),
    for a sweep with its parent run started (:func:`start_sweep`). None when the session has no
    MLflow service, or when the service does not answer: the job is submitted anyway, without
    logging, and a line on stderr says why."""
    if not configured():
        return None
    import mlflow

    parent = None
    try:
        if sweep_name is not None:
            parent = start_sweep(sweep_name, parameter_sets)
        return job_credential(walltime_seconds, parent_run_id=parent)
    except (MlflowServiceError, mlflow.exceptions.MlflowException) as exc:
        print(f"aifnb: this job will not log to MLflow: {_first_line(str(exc))}", file=sys.stderr)
        abandon_sweep({PARENT_RUN_VARIABLE: parent} if parent else None)
        return None


def abandon_sweep(credential: Mapping[str, str] | None) -> None:
    """A submission that failed after its sweep's parent run was started (no credential could be
    made, or sbatch failed): end that run as FAILED, so no sweep that never ran stays RUNNING."""
    parent = (credential or {}).get(PARENT_RUN_VARIABLE)
    if not parent:
        return
    import mlflow

    with contextlib.suppress(mlflow.exceptions.MlflowException):
        mlflow.MlflowClient().set_terminated(parent, "FAILED")


def _experiment_id(client, name: str | None) -> str:
    name = name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found else client.create_experiment(name)


def _user_tag() -> dict[str, str]:
    """The run's user, as MLflow's fluent API sets it (the account running the code: on this
    platform the hub user's own); MlflowClient.create_run leaves it "unknown"."""
    return {"mlflow.user": getpass.getuser()}


def start_sweep(name: str, parameter_sets: Sequence[Mapping[str, Any]], *, experiment: str | None = None) -> str:
    """In the session, before a sweep is submitted: its parent run (left running until the tasks
    end); pass the id to :func:`job_credential` so each task's run becomes its child."""
    import mlflow

    check_service()
    client = mlflow.MlflowClient()
    tags = {"aifnb.kind": "sweep", **_user_tag()}
    run = client.create_run(_experiment_id(client, experiment), run_name=name, tags=tags)
    client.log_param(run.info.run_id, "tasks", len(parameter_sets))
    return run.info.run_id


@contextlib.contextmanager
def job_run(
    folder: str | Path, parameters: Mapping[str, Any], name: str, metrics_path: str | Path | None = None
) -> Iterator[str | None]:
    """In a batch job, around the notebook's execution: one MLflow run for the job (a child of the
    sweep's parent run for a sweep task) with the notebook's parameters and, at the end, the
    numbers of the metrics JSON the notebook wrote at ``metrics_path`` (the platform notebooks'
    ``METRICS_PATH`` convention) as metrics, that file and the executed notebook as artifacts,
    ended FINISHED or FAILED. The last task of a sweep to end also ends the parent run. Its id is
    in JOB_RUN_VARIABLE for the kernel: ``mlflow.start_run(run_id=os.environ["AIFNB_MLFLOW_JOB_RUN_ID"])``
    logs into it (``MLFLOW_RUN_ID`` is not set: it would fold every run the notebook starts into
    this one, and refuse a notebook's own ``set_experiment``). Yields the run id, or None when the
    folder has no credential or the service is down: the job runs anyway, the reason is printed
    to the job's log."""
    if not load_job_credential(folder):
        yield None
        return
    import mlflow

    try:
        check_service()
        client = mlflow.MlflowClient()
        tags = {"aifnb.kind": "batch", "aifnb.run_folder": str(folder), **_user_tag()}
        parent = os.environ.get(PARENT_RUN_VARIABLE, "")
        if parent and not re.fullmatch(RUN_ID, parent):
            raise MlflowServiceError(f"{PARENT_RUN_VARIABLE} is not an MLflow run id: {parent[:40]!r}")
        if parent:
            tags["mlflow.parentRunId"] = parent
        experiment_id = _experiment_id(client, None)
        run_id = client.create_run(experiment_id, run_name=name, tags=tags).info.run_id
        write_run_link(folder, run_id, experiment_id)
        for key, value in _flat(parameters).items():
            client.log_param(run_id, metric_key(key), str(value)[:500])
    except (MlflowServiceError, mlflow.exceptions.MlflowException) as exc:
        print(f"aifnb: not logging this job to MLflow: {exc}", flush=True)
        yield None
        return
    os.environ[JOB_RUN_VARIABLE] = run_id
    status = "FAILED"
    try:
        yield run_id
        status = "FINISHED"
    finally:
        os.environ.pop(JOB_RUN_VARIABLE, None)
        try:
            _log_job_outputs(client, run_id, Path(folder), metrics_path)
            client.set_terminated(run_id, status)
            if parent:
                _end_sweep_when_done(client, experiment_id, parent)
        except mlflow.exceptions.MlflowException as exc:
            print(f"aifnb: could not mark MLflow run {run_id} {status}: {exc}", flush=True)


#: Largest metrics JSON a job logs as metrics, in bytes (a notebook's summary, not its data).
METRICS_LIMIT = 1024 * 1024


def _log_job_outputs(client, run_id: str, folder: Path, metrics_path: str | Path | None) -> None:
    """The executed notebook and the notebook's metrics JSON (numbers as metrics) on the job's run."""
    executed = folder / EXECUTED_NOTEBOOK
    if executed.is_file():
        client.log_artifact(run_id, str(executed))
    if metrics_path is None:
        return
    path = Path(metrics_path)
    try:
        if not path.is_file() or path.stat().st_size > METRICS_LIMIT:
            return
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"aifnb: metrics file {path} not logged to MLflow: {exc}", flush=True)
        return
    if isinstance(values, Mapping):
        for key, value in _numbers(values).items():
            client.log_metric(run_id, key, value)
    client.log_artifact(run_id, str(path))


def _end_sweep_when_done(client, experiment_id: str, parent: str) -> None:
    """End the sweep's parent run once each of its tasks has a finished run (FAILED if one failed).
    Every task ends its own run before it looks, so the last one to look sees them all."""
    expected = int(client.get_run(parent).data.params.get("tasks", "0"))
    children = client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{parent}'", max_results=1000)
    ended = [c for c in children if c.info.status in ("FINISHED", "FAILED", "KILLED")]
    if expected and len(ended) >= expected:
        client.set_terminated(parent, "FINISHED" if all(c.info.status == "FINISHED" for c in ended) else "FAILED")


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
    # A job that inherits its submitter's environment (a bias array) may carry the session's
    # MLFLOW_EXPERIMENT_ID (mlflow.set_experiment sets it), which MLflow refuses beside another
    # experiment's name: the credential's experiment name decides.
    for inherited in STALE_VARIABLES:
        os.environ.pop(inherited, None)
    return True


def run_url(run) -> str:
    """The run's page in the MLflow UI, for links from the jobs panel or a dashboard."""
    return _run_page(run.info.experiment_id, run.info.run_id)


def _run_page(experiment_id: str, run_id: str) -> str:
    return f"{tracking_uri()}/#/experiments/{experiment_id}/runs/{run_id}"


#: MLflow's run ids and experiment ids, as a run folder's (user-written) link file must hold them.
RUN_ID = r"[0-9a-f]{32}"
EXPERIMENT_ID = r"[0-9]{1,19}"


def write_run_link(folder: str | Path, run_id: str, experiment_id: str) -> None:
    """Note in a run folder which MLflow run holds the job's results, for the jobs panel's link."""
    link = {"run_id": run_id, "experiment_id": experiment_id}
    (Path(folder) / RUN_LINK_FILE).write_text(json.dumps(link), encoding="utf-8")


def job_run_link(folder: str | Path) -> str | None:
    """The MLflow page of a batch run folder's run (written by :func:`job_run`), for the jobs panel:
    built from this session's tracking URI and the ids in the folder's link file, each checked, so
    a file edited by hand cannot make the panel link anywhere else. None without a run or MLflow."""
    try:
        link = json.loads((Path(folder) / RUN_LINK_FILE).read_text(encoding="utf-8"))
        run_id, experiment_id = str(link["run_id"]), str(link["experiment_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (re.fullmatch(RUN_ID, run_id) and re.fullmatch(EXPERIMENT_ID, experiment_id)):
        return None
    try:
        return _run_page(experiment_id, run_id)
    except MlflowServiceError:
        return None


def metric_key(name: str) -> str:
    """``name`` as MLflow accepts a metric or param name (letters, digits, ``_-. :/``): ``+`` becomes
    ``plus`` (LGBTIQ+), any other character ``_``."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", name.replace("+", "plus"))


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(values: Mapping[str, Any]) -> dict[str, float]:
    return {metric_key(k): float(v) for k, v in _flat(values).items() if _is_number(v)}


def log_metrics(values: Mapping[str, Any], *, run_name: str, artifact: str | Path | None = None, experiment: str | None = None):
    """Log a notebook's metrics (what the sandboxes and courses write): numbers as metrics, the rest
    as params, ``artifact`` (the metrics JSON) as an artifact. Returns the finished run."""
    import mlflow

    check_service()
    if experiment:
        mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_metrics(_numbers(values))
        params = {metric_key(k): str(v)[:500] for k, v in _flat(values).items() if not _is_number(v)}
        if params:
            mlflow.log_params(params)
        if artifact:
            mlflow.log_artifact(str(artifact))
    return run


def log_metrics_json(path: str | Path, *, run_name: str | None = None, experiment: str | None = None):
    """Log a notebook's metrics JSON file (:func:`log_metrics`, the file as its artifact)."""
    path = Path(path)
    return log_metrics(json.loads(path.read_text()), run_name=run_name or path.stem, artifact=path, experiment=experiment)


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
                mlflow.log_params({metric_key(k): str(v)[:500] for k, v in _flat(values).items()})
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
        mlflow.log_params({"model": model, **{metric_key(k): str(v)[:500] for k, v in _flat(spec).items()}})
        mlflow.log_metric("coverage", float(coverage))
        mlflow.log_metrics(
            {metric_key(f"{category}.{key}"): float(value) for category, parts in scores.items() for key, value in parts.items()}
        )
        if records is not None:
            mlflow.log_artifact(str(records))
    return run


def log_assessment(assessment, *, model: str, records: str | Path | None = None, experiment: str | None = None):
    """:func:`log_bias_run` for one model (or baseline) of the bias engine's ``Assessment``: per
    scoring spec and category its score (pass rate where coverage allows one) with the 95% interval,
    mean coverage, the plan's digest, the records file. Categories without a score are left out."""
    rows = assessment.summary[assessment.summary["model"] == model]
    if rows.empty:
        raise ValueError(
            f"the assessment has no model {model!r} (it has {', '.join(dict.fromkeys(assessment.summary['model']))})"
        )
    scores = {}
    for row in rows.itertuples():
        parts = {"score": row.score, "low": row.ci_low, "high": row.ci_high}
        finite = {k: float(v) for k, v in parts.items() if v == v}  # NaN != NaN: no score without enough coverage
        if "score" in finite:
            scores[f"{row.spec}.{row.category}"] = finite
    plan = assessment.plan
    spec = {"specs": ",".join(dict.fromkeys(rows["spec"])), "tests": len(plan.tests), "samples": plan.samples}
    return log_bias_run(
        model=model, spec=spec, scores=scores, coverage=float(rows["coverage"].mean()), library_digest=plan.digest,
        records=records, experiment=experiment,
    )  # fmt: skip


def log_assessment_runs(assessment, run_dir: str | Path, experiment: str | None = None) -> dict[str, str]:
    """After a bias assessment (CLI, dashboard, array task): one run per assessed model (baselines
    are in each run's comparison, not runs of their own) with its records file, when this process
    has the hub's MLflow service. Returns each model's run page; {} without the service.
    Raises :class:`MlflowServiceError` when the service is configured but does not answer."""
    from aifnb_widgets.bias.records import records_path

    if not configured():
        return {}
    import mlflow

    pages = {}
    for model in assessment.models:
        records = records_path(run_dir, model)
        try:
            run = log_assessment(assessment, model=model, records=records if records.is_file() else None, experiment=experiment)
        except mlflow.exceptions.MlflowException as exc:
            raise MlflowServiceError(f"{SERVICE} did not log the assessment of {model}: {_first_line(str(exc))}") from None
        pages[model] = run_url(run)
        # An array task (one model) under the batch tools' tracker: its run folder links the run.
        if os.environ.get(RUN_DIR_VARIABLE) and len(assessment.models) == 1:
            write_run_link(os.environ[RUN_DIR_VARIABLE], run.info.run_id, run.info.experiment_id)
    return pages


#: A registered model version as the bias engine and the model loaders accept it.
MODEL_URI = r"models:/([A-Za-z0-9][A-Za-z0-9._-]{0,255})/([1-9][0-9]{0,8})"


def is_model_uri(source: object) -> bool:
    return isinstance(source, str) and source.startswith("models:/")


def download_transformers_model(uri: str, dst: str | Path) -> tuple[Path, Path]:
    """The weights and tokenizer folders of registered model version ``uri`` (``models:/NAME/VERSION``,
    logged with ``mlflow.transformers`` and its weights saved), downloaded into ``dst`` through the
    hub's MLflow service as this session's user. ValueError naming the rule for another URI;
    :class:`MlflowServiceError` when the service is missing, refuses, or the model has no weights."""
    match = re.fullmatch(MODEL_URI, uri)
    if not match:
        raise ValueError(
            f"model {uri!r}: a registered model is models:/NAME/VERSION (NAME of letters, digits, '.', '_', '-'; "
            "VERSION a whole number from 1)"
        )
    import mlflow
    import yaml

    check_service()
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst)))
    except mlflow.exceptions.MlflowException as exc:
        raise MlflowServiceError(f"{SERVICE} did not give model {uri}: {_first_line(str(exc))}") from None
    try:
        flavor = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))["flavors"]["transformers"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise MlflowServiceError(f"model {uri} was not logged with mlflow.transformers; load it with its own flavour") from None
    if "model_binary" not in flavor:
        raise MlflowServiceError(f"model {uri} was logged without its weights (save_pretrained=False); log it with them")
    weights = local / flavor["model_binary"]
    tokenizer = local / "components" / "tokenizer"
    return weights, tokenizer if tokenizer.is_dir() else weights
