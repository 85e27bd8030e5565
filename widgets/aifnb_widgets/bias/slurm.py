"""One Slurm array task per model, merged afterwards into one leaderboard.

Nothing a user typed is pasted raw into the batch script: models go to ``models.json`` (after
the same allow-list check as everywhere else) and every value the template does render is
matched against a strict pattern first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aifnb_spawners.profiles import MEMORY, WALLTIME
from aifnb_spawners.validate import (
    DIGITS,
    JOB_NAME,
    SLURM_NAME,
    InvalidValue,
    check,
    matches,
)

from aifnb_widgets.backends.factory import validate_model_spec
from aifnb_widgets.batch.script import checked_count, checked_path, script_environment
from aifnb_widgets.bias.runner import SCENARIO_FILE
from aifnb_widgets.bias.scenario import Scenario

TEMPLATE = "bias_array.sbatch.j2"
SCRIPT_NAME = "bias_array.sbatch"
MODELS_FILE = "models.json"
TASKS_DIR = "tasks"
#: Most models (array tasks) one assessment may submit.
MAX_MODELS = 1000
#: Most CPUs one task may ask for.
MAX_CPUS = 256
#: Generic resources a task may ask for: GPUs, optionally of a type (``gpu:2``, ``gpu:a100:1``).
GRES = rf"gpu(?::{SLURM_NAME})?:[0-9]{{1,3}}"


def render_array_script(
    job_dir: str | Path,
    n_models: int,
    partition: str = "cpu",
    gres: str | None = None,
    time_limit: str = "01:00:00",
    cpus: int = 2,
    mem: str = "8G",
    job_name: str = "aifnb-bias",
    python: str = sys.executable,
) -> str:
    """The array script, one task per model. Every value rendered matches its allow-list
    (:mod:`aifnb_spawners.validate`, full match, ASCII) or raises
    :class:`~aifnb_spawners.validate.InvalidValue` naming the option: ``#SBATCH`` lines cannot
    quote, so a newline in a value would be a directive of its own."""
    if not isinstance(job_dir, (str, Path)):
        raise InvalidValue("job_dir", job_dir, "an absolute path")
    return script_environment("aifnb_widgets.bias").get_template(TEMPLATE).render(
        job_dir=checked_path("job_dir", str(Path(job_dir).absolute())),
        last_index=checked_count("n_models", n_models, 1, MAX_MODELS) - 1,
        partition=check("partition", partition, SLURM_NAME, "1-64 of A-Z, a-z, 0-9, '_', '.', '-'"),
        gres=check("gres", gres, GRES, "gpu:N or gpu:TYPE:N, e.g. gpu:1") if gres else None,
        time_limit=check("time_limit", time_limit, WALLTIME, "HH:MM:SS or D-HH:MM:SS, e.g. 01:00:00"),
        cpus=checked_count("cpus", cpus, 1, MAX_CPUS),
        mem=check("mem", mem, MEMORY, "a whole number with a unit K, M, G or T, e.g. 8G"),
        job_name=check("job_name", job_name, JOB_NAME, "1-64 of A-Z, a-z, 0-9, '_', '.', '-'"),
        python=checked_path("python", python),
    )


def prepare_array_job(job_dir: str | Path, scenario: Scenario, models: list[str], **options) -> Path:
    """Write scenario, models list and batch script into ``job_dir``; returns the script path."""
    models = [validate_model_spec(m) for m in models]
    job_dir = Path(job_dir).absolute()
    script = render_array_script(job_dir, len(models), **options)
    (job_dir / "logs").mkdir(parents=True, exist_ok=True)
    (job_dir / TASKS_DIR).mkdir(exist_ok=True)
    (job_dir / SCENARIO_FILE).write_text(scenario.to_json(), encoding="utf-8")
    (job_dir / MODELS_FILE).write_text(json.dumps(models, indent=1), encoding="utf-8")
    path = job_dir / SCRIPT_NAME
    path.write_text(script, encoding="utf-8")
    return path


def submit(script: Path, extra_args: list[str] | None = None) -> str:
    """``sbatch --parsable``; returns the array job id."""
    try:
        result = subprocess.run(
            ["sbatch", "--parsable", *(extra_args or []), str(script)],
            capture_output=True, text=True, check=False, timeout=60,
        )
    except FileNotFoundError:
        raise RuntimeError("sbatch not found: is this a Slurm login node?") from None
    if result.returncode != 0:
        raise RuntimeError(f"sbatch refused {script}: {result.stderr.strip()}")
    return result.stdout.strip().split(";")[0]


def read_models_file(path: str | Path, index: int) -> str:
    models = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(models, list) or not 0 <= index < len(models):
        raise ValueError(f"{path} has no model at index {index}")
    return validate_model_spec(str(models[index]))


def task_dirs(job_dir: str | Path) -> list[Path]:
    dirs = sorted((Path(job_dir) / TASKS_DIR).glob("*/plan.json"), key=lambda p: int(p.parent.name) if matches(DIGITS, p.parent.name) else -1)
    if not dirs:
        raise ValueError(f"{job_dir} has no finished or started task directories under {TASKS_DIR}/")
    return [p.parent for p in dirs]
