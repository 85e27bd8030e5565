"""One Slurm array task per model, merged afterwards into one leaderboard.

Nothing a user typed is pasted raw into the batch script: models go to ``models.json`` (after
the same allow-list check as everywhere else) and every value the template does render is
matched against a strict pattern first.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jinja2

from aifnb_widgets.backends.factory import validate_model_spec
from aifnb_widgets.bias.runner import SCENARIO_FILE
from aifnb_widgets.bias.scenario import Scenario

TEMPLATE = "bias_array.sbatch.j2"
SCRIPT_NAME = "bias_array.sbatch"
MODELS_FILE = "models.json"
TASKS_DIR = "tasks"

_PATTERNS = {
    "job_name": re.compile(r"^[A-Za-z0-9_.-]{1,64}$"),
    "partition": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    "gres": re.compile(r"^[A-Za-z0-9_]+(:[A-Za-z0-9_]+)*:\d+$"),
    "time_limit": re.compile(r"^(\d+-)?\d{1,2}(:\d{2}){0,2}$"),
    "mem": re.compile(r"^\d+[KMGT]?$"),
    "path": re.compile(r"^/[A-Za-z0-9._/+-]+$"),
}


def _check(kind: str, value: str) -> str:
    if not _PATTERNS[kind].match(value) or (kind == "path" and "/../" in f"{value}/"):
        raise ValueError(f"{kind.replace('_', ' ')} {value!r} is not allowed (must match {_PATTERNS[kind].pattern})")
    return value


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
    if n_models < 1:
        raise ValueError("a job array needs at least one model")
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("aifnb_widgets.bias", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["shell_quote"] = shlex.quote
    return environment.get_template(TEMPLATE).render(
        job_dir=_check("path", str(Path(job_dir).absolute())),
        last_index=n_models - 1,
        partition=_check("partition", partition),
        gres=_check("gres", gres) if gres else None,
        time_limit=_check("time_limit", time_limit),
        cpus=int(cpus),
        mem=_check("mem", mem),
        job_name=_check("job_name", job_name),
        python=_check("path", python),
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
    dirs = sorted((Path(job_dir) / TASKS_DIR).glob("*/plan.json"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)
    if not dirs:
        raise ValueError(f"{job_dir} has no finished or started task directories under {TASKS_DIR}/")
    return [p.parent for p in dirs]
