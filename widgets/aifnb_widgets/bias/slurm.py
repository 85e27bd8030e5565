"""One Slurm array task per model, merged afterwards into one leaderboard: a platform job like
any other.

A bias array is submitted like a session or a notebook run: the user names a profile and may
adjust CPUs, GPUs and walltime within its limits; :func:`~aifnb_slurm.profiles.resolve_request`
checks them against the profiles of the user's groups as the hub knows them
(:func:`aifnb_widgets.batch.api.user_groups`), and partition, account, QoS, reservation, GRES and
memory come from the profile. The job is named ``aifnb-bias-<label>``
(:mod:`aifnb_slurm.jobs`), submitted held, and released once each task's run record
(``~/ai-factory-runs/bias-<label>/<time>-<jobid>_<task>/job.json``, kind ``bias``) exists: the
jobs panel lists and cancels the tasks, and the usage report counts them, as notebook runs.

Nothing a user typed is pasted raw into the batch script: models go to ``models.json`` (after
the same allow-list check as everywhere else) and every value the template does render is
matched against a strict pattern first; the template is the job layer's
(:mod:`aifnb_slurm.templates`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aifnb_data import client as data_catalogue
from aifnb_data.client import CATALOGUE_SPEC
from aifnb_slurm.jobs import job_name, label_slug
from aifnb_slurm.profiles import JobRequest, resolve_request
from aifnb_slurm.templates import render
from aifnb_slurm.validate import DIGITS, JOB_NAME, InvalidValue, check, matches
from aifnb_widgets import mlops
from aifnb_widgets.backends.factory import validate_model_spec
from aifnb_widgets.batch.script import checked_count, checked_path, checked_request
from aifnb_widgets.bias.runner import SCENARIO_FILE
from aifnb_widgets.bias.scenario import Scenario

TEMPLATE = "bias_array.sh.j2"
SCRIPT_NAME = "bias_array.sbatch"
MODELS_FILE = "models.json"
TASKS_DIR = "tasks"
#: Most models (array tasks) one assessment may submit.
MAX_MODELS = 1000
#: What a user may adjust within the profile (as in the spawn form; the partition is the profile's).
RESOURCE_KEYS = ("cpus", "gpus", "walltime")


def render_array_script(
    job_dir: str | Path,
    n_models: int,
    request: JobRequest,
    *,
    run_prefix: str | Path,
    job_name: str | None = None,
    python: str = sys.executable,
    prologue: str = "",
) -> str:
    """The array script, one task per model, with ``request``'s resources; task N records its
    run in ``<run_prefix><array job id>_N``. Every value rendered matches its allow-list
    (:mod:`aifnb_slurm.validate`, full match, ASCII) or raises
    :class:`~aifnb_slurm.validate.InvalidValue` naming it: ``#SBATCH`` lines cannot quote,
    so a newline in a value would be a directive of its own. ``prologue`` is the site's own
    shell (settings, written by admins) and is not checked."""
    if not isinstance(job_dir, (str, Path)):
        raise InvalidValue("job_dir", job_dir, "an absolute path")
    if not isinstance(run_prefix, (str, Path)):
        raise InvalidValue("run_prefix", run_prefix, "an absolute path")
    job_dir = Path(job_dir).absolute()
    name = job_name if job_name is not None else default_job_name(job_dir)
    return render(
        TEMPLATE,
        request=checked_request(request),
        job_dir=checked_path("job_dir", str(job_dir)),
        last_index=checked_count("n_models", n_models, 1, MAX_MODELS) - 1,
        job_name=check("job_name", name, JOB_NAME, "1-64 of A-Z, a-z, 0-9, '_', '.', '-'"),
        run_prefix=checked_path("run_prefix", str(run_prefix)),
        python=checked_path("python", python),
        prologue=prologue,
    )


def default_job_name(job_dir: str | Path) -> str:
    """``aifnb-bias-<job folder's name>``."""
    return job_name("bias", label_slug(Path(job_dir).name))


def prepare_array_job(job_dir: str | Path, scenario: Scenario, models: list[str], request: JobRequest, **options: Any) -> Path:
    """Write scenario, models list and batch script into ``job_dir``; returns the script path.
    ``options`` go to :func:`render_array_script` (``run_prefix`` is required)."""
    models = [validate_model_spec(m) for m in models]
    job_dir = Path(job_dir).absolute()
    script = render_array_script(job_dir, len(models), request, **options)
    (job_dir / "logs").mkdir(parents=True, exist_ok=True)
    (job_dir / TASKS_DIR).mkdir(exist_ok=True)
    (job_dir / SCENARIO_FILE).write_text(scenario.to_json(), encoding="utf-8")
    (job_dir / MODELS_FILE).write_text(json.dumps(models, indent=1), encoding="utf-8")
    path = job_dir / SCRIPT_NAME
    path.write_text(script, encoding="utf-8")
    return path


@dataclass(frozen=True)
class ArraySubmission:
    """What was (or, with ``dry_run``, would be) submitted: the script, the checked request, one
    run folder per task."""

    job_id: str | None
    script: Path
    request: JobRequest
    models: list[str]
    folders: list[Path]


def submit_array(
    job_dir: str | Path,
    scenario: Scenario,
    models: list[str],
    *,
    profile: str | None,
    cpus: Any = None,
    gpus: Any = None,
    walltime: Any = None,
    user: str | None = None,
    groups: Iterable[str] | None = None,
    settings: Any = None,
    dry_run: bool = False,
) -> ArraySubmission:
    """Check the request against ``profile`` and the user's groups (default: the hub's answer,
    :func:`aifnb_widgets.batch.api.user_groups`), write the job folder, and submit the array
    held, releasing it once every task's run record exists.

    Raises :class:`~aifnb_slurm.profiles.OptionError` naming the field and what is allowed
    (a profile the groups do not allow, GPUs above the profile's limit) before anything is
    written or submitted.
    """
    from aifnb_widgets.batch import api
    from aifnb_widgets.batch.layout import now, run_dir
    from aifnb_widgets.batch.queue import current_user, elapsed_seconds

    settings = settings or api.platform_settings()
    user = user or current_user()
    groups = api.user_groups(user, settings) if groups is None else groups
    chosen = {key: value for key, value in zip(RESOURCE_KEYS, (cpus, gpus, walltime), strict=True) if value not in (None, "")}
    request = resolve_request(settings.profiles, groups, {"profile": profile, **chosen})
    # catalogue:NAME models: the hub refuses one not shared with the user here, before submission;
    # the task gets the entry's path (or URL#MODEL) and its use is logged with the task's job id.
    from_catalogue = {i: m.removeprefix(CATALOGUE_SPEC) for i, m in enumerate(models) if m.startswith(CATALOGUE_SPEC)}
    models = [data_catalogue.for_job(from_catalogue[i]) if i in from_catalogue else m for i, m in enumerate(models)]
    models = [validate_model_spec(m) for m in models]
    job_dir = Path(job_dir).absolute()
    label = f"bias-{label_slug(job_dir.name)}"
    home = api.home_of(user)
    submitted_at = now().replace(microsecond=0)
    script = prepare_array_job(
        job_dir,
        scenario,
        models,
        request,
        run_prefix=run_dir(home, label, submitted_at, "", None),
        job_name=default_job_name(job_dir),
        prologue=settings.hub.prologue,
    )
    if dry_run:
        return ArraySubmission(None, script, request, models, [])

    def runs(job_id: str) -> list[api.RunToWrite]:
        for task, name in from_catalogue.items():
            data_catalogue.resolve_for(name, "bias", f"{job_id}_{task}")
        return [
            (
                run_dir(home, label, submitted_at, job_id, task),
                api.new_record(
                    request, kind="bias", job_id=job_id, task_id=task, user=user, submitted_at=submitted_at, job_dir=str(job_dir)
                ),
                {},
            )
            for task in range(len(models))
        ]

    # With the hub's MLflow service, each task's assessment logs its run (the caller's own jobs only).
    credential = mlops.submission_credential(elapsed_seconds(request.walltime)) if user == current_user() else None
    job_id, folders = api.submit_recorded(user, script.read_text(encoding="utf-8"), runs, credential=credential)
    return ArraySubmission(job_id, script, request, models, folders)


def read_models_file(path: str | Path, index: int) -> str:
    models = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(models, list) or not 0 <= index < len(models):
        raise ValueError(f"{path} has no model at index {index}")
    return validate_model_spec(str(models[index]))


def task_dirs(job_dir: str | Path) -> list[Path]:
    dirs = sorted(
        (Path(job_dir) / TASKS_DIR).glob("*/plan.json"),
        key=lambda p: int(p.parent.name) if matches(DIGITS, p.parent.name) else -1,
    )
    if not dirs:
        raise ValueError(f"{job_dir} has no finished or started task directories under {TASKS_DIR}/")
    return [p.parent for p in dirs]
