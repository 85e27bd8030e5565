"""The batch script of a notebook run, rendered like the session's and the bias array's: a
template of the job layer's one environment (:mod:`aifnb_slurm.templates`), and only
server-side values.

The renderer is the last gate before ``sbatch``: every value it puts into the script is checked
here against its allow-list (:mod:`aifnb_slurm.validate`, full match, ASCII), even those that
:func:`~aifnb_slurm.profiles.resolve_request` already checked, because ``#SBATCH`` lines
cannot quote anything and one newline there is a new directive.
"""

from __future__ import annotations

from aifnb_slurm.profiles import MEMORY, SLUG, WALLTIME, JobRequest
from aifnb_slurm.templates import render
from aifnb_slurm.validate import JOB_NAME, SAFE_PATH, SLURM_NAME, InvalidValue, check

TEMPLATE = "notebook_job.sh.j2"
#: Largest job array a script may ask for (the sweep limit is lower; this guards the renderer).
MAX_TASKS = 10_000
#: Largest CPU or GPU count a script may ask for.
MAX_COUNT = 4096

_PATH_RULE = "an absolute path of letters, digits and ._/+%- only, without '..'"
_NAME_RULE = "1-64 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit"


def checked_path(field: str, value: object) -> str:
    """``value`` when it can go into an ``#SBATCH`` line or a command: an absolute path of safe
    characters, no ``..`` component; :class:`~aifnb_slurm.validate.InvalidValue` otherwise."""
    path = check(field, value, SAFE_PATH, _PATH_RULE)
    if "/../" in f"{path}/" or "/./" in f"{path}/":
        raise InvalidValue(field, value, _PATH_RULE)
    return path


def checked_count(field: str, value: object, low: int, high: int) -> int:
    """``value`` when it is an int (not a bool) in ``low..high``; InvalidValue otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(field, value, f"a whole number from {low} to {high}")
    return value


def checked_request(request: JobRequest) -> JobRequest:
    """``request`` when each of its values matches its allow-list; InvalidValue naming the field."""
    check("profile", request.profile, SLUG, "profile slugs are 1-32 of a-z, 0-9, '-'")
    check("partition", request.partition, SLURM_NAME, _NAME_RULE)
    check("walltime", request.walltime, WALLTIME, "HH:MM:SS or D-HH:MM:SS")
    check("memory", request.memory, MEMORY, "a whole number with a unit K, M, G or T, e.g. 32G")
    checked_count("cpus", request.cpus, 1, MAX_COUNT)
    checked_count("gpus", request.gpus, 0, MAX_COUNT)
    for field in ("gpu_type", "account", "qos", "reservation"):
        value = getattr(request, field)
        if value is not None:
            check(field, value, SLURM_NAME, _NAME_RULE)
    return request


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
    """The batch script; ``tasks`` set renders a job array of that many tasks (a sweep), None a
    single job. A value outside its allow-list raises InvalidValue naming the field.

    ``prologue`` is the site's own shell (settings, written by admins) and is not checked.
    """
    check("job_name", job_name, JOB_NAME, "1-64 of A-Z, a-z, 0-9, '_', '.', '-'")
    if tasks is not None:
        checked_count("tasks", tasks, 1, MAX_TASKS)
    return render(
        TEMPLATE,
        request=checked_request(request),
        job_name=job_name,
        homedir=checked_path("homedir", homedir),
        run_prefix=checked_path("run_prefix", run_prefix),
        log_path=checked_path("log_path", log_path),
        python=checked_path("python", python),
        tasks=tasks,
        prologue=prologue,
    )
