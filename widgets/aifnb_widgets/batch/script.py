"""The batch script of a notebook run, rendered like the session's: a template beside
``session.sh.j2``, StrictUndefined, a ``quote`` filter, and only server-side values."""

from __future__ import annotations

import re
import shlex

from aifnb_spawners.profiles import JobRequest
from jinja2 import Environment, PackageLoader, StrictUndefined

TEMPLATE = "notebook_job.sh.j2"
# Paths end up in #SBATCH lines, where sbatch splits on spaces and nothing can be quoted.
_PATH = re.compile(r"^/[A-Za-z0-9._/+%-]+$")
_JOB_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _checked_path(what: str, value: str) -> str:
    if not _PATH.match(value) or "/../" in f"{value}/":
        raise ValueError(f"{what} {value!r} cannot go into a batch script (letters, digits and ._/+%- only)")
    return value


def render_job_script(
    request: JobRequest,
    *,
    job_name: str,
    homedir: str,
    run_prefix: str,
    log_path: str,
    python: str,
    tasks: int | None = None,
    prologue: str = "",
) -> str:
    """``tasks`` set renders a job array of that many tasks (a sweep); None a single job."""
    if not _JOB_NAME.match(job_name):
        raise ValueError(f"job name {job_name!r} is not allowed")
    if tasks is not None and tasks < 1:
        raise ValueError("a sweep needs at least one parameter set")
    environment = Environment(loader=PackageLoader("aifnb_spawners", "templates"), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    environment.filters["quote"] = shlex.quote
    return environment.get_template(TEMPLATE).render(
        request=request,
        job_name=job_name,
        homedir=_checked_path("home folder", homedir),
        run_prefix=_checked_path("run folder", run_prefix),
        log_path=_checked_path("log path", log_path),
        python=_checked_path("python", python),
        tasks=tasks,
        prologue=prologue,
    )
