"""The job layer's shared pieces: one Jinja environment for every batch script, one job-name scheme."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from aifnb_slurm import templates
from aifnb_slurm.jobs import KINDS, job_kind, job_name, label_slug
from aifnb_slurm.validate import InvalidValue

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("spawners", "widgets", "hub")


def test_every_batch_script_template_lives_in_the_job_layer():
    """Session, notebook run/sweep and bias array templates are in aifnb_slurm/templates, and nowhere else."""
    assert {"session.sh.j2", "notebook_job.sh.j2", "bias_array.sh.j2"} <= {p.name for p in templates.TEMPLATES.glob("*.j2")}
    elsewhere = [p for package in PACKAGES for p in (ROOT / package).rglob("*.sh.j2") if p.parent != templates.TEMPLATES]
    assert elsewhere == [] and not list((ROOT / "widgets").rglob("*.sbatch.j2"))


def test_only_the_job_layer_builds_a_jinja_environment_for_batch_scripts():
    """No module but aifnb_slurm.templates builds a Jinja environment for batch scripts (no drifted second copy)."""
    builders = []
    for package in ("spawners", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"\bEnvironment\(|PackageLoader|shlex\.quote\b.*filters|filters\[\"quote\"\]", text):
                builders.append(path.relative_to(ROOT).as_posix())
    # The AI-Act conformity documents are Markdown, not batch scripts: their own (HTML-free) environment stays.
    assert sorted(builders) == [
        "spawners/aifnb_slurm/templates/__init__.py",
        "widgets/aifnb_widgets/sandboxes/ai_act/conformity.py",
    ]


def test_one_environment_is_shared_and_strict():
    """batch_env() is made once per search path; undefined names fail and `quote` shell-quotes."""
    assert templates.batch_env() is templates.batch_env()
    environment = templates.batch_env()
    assert environment.filters["quote"]("a b'c") == "'a b'\"'\"'c'"
    assert environment.autoescape is False
    with pytest.raises(UndefinedError):
        environment.from_string("{{ missing }}").render()


def test_a_sites_template_folder_is_searched_first(tmp_path):
    """A site's template folder overrides a platform template of the same name and falls back to the platform's."""
    (tmp_path / "session.sh.j2").write_text("#!/bin/bash\n# site {{ job_name }}\n")
    assert (
        templates.render("session.sh.j2", extra_dirs=(str(tmp_path),), job_name="aifnb-session-ana")
        == "#!/bin/bash\n# site aifnb-session-ana\n"
    )
    assert "{{" not in templates.render("notebook_job.sh.j2", extra_dirs=(str(tmp_path),), **_notebook_values())


def _notebook_values() -> dict:
    from aifnb_slurm.profiles import JobRequest

    request = JobRequest("cpu-course", "cpu", 2, "4G", 0, None, "01:00:00", None, None, None, 3600)
    return {
        "request": request,
        "job_name": "aifnb-batch-x",
        "homedir": "/home/a",
        "run_prefix": "/home/a/r-",
        "log_path": "/home/a/l",
        "python": "/usr/bin/python3",
        "tasks": None,
        "prologue": "",
    }


@pytest.mark.parametrize(
    ("kind", "label", "name"),
    [("session", "ana", "aifnb-session-ana"), ("batch", "train", "aifnb-batch-train"), ("bias", "llms", "aifnb-bias-llms")],
    ids=["session", "batch", "bias"],
)
def test_job_names_carry_their_kind(kind, label, name):
    """Every kind's name is aifnb-<kind>-<label>, and the kind is read back from the name."""
    assert job_name(kind, label) == name and job_kind(name) == kind


@pytest.mark.parametrize("name", ["my-job", "aifnb-batch-", "aifnb-sessions", "aifnb-bias", "xaifnb-bias-a", ""], ids=repr)
def test_other_names_are_not_platform_jobs(name):
    """A name outside the scheme (or with an empty label) has no kind."""
    assert job_kind(name) is None


def test_names_and_labels_are_checked():
    """An unknown kind, or a label that would break an #SBATCH line, is refused; labels are slugged."""
    with pytest.raises(ValueError, match="unknown job kind"):
        job_name("training", "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="job_name"):
        job_name("bias", "a\n#SBATCH --uid=0")
    assert label_slug("my bias run.v2") == "my_bias_run_v2" and label_slug("$$$") == "job" and len(label_slug("x" * 99)) == 40
    assert KINDS == ("session", "batch", "bias")


def test_the_job_layer_and_the_session_tools_import_no_jupyterhub():
    """aifnb_slurm and the session's job tools (Scale & Run, bias arrays, usage) load without the
    hub's web stack: they run on compute nodes and login nodes where only the job layer belongs."""
    modules = [
        "aifnb_slurm.accounts",
        "aifnb_slurm.hub_groups",
        "aifnb_slurm.jobs",
        "aifnb_slurm.profiles",
        "aifnb_slurm.slurm",
        "aifnb_slurm.templates",
        "aifnb_slurm.usage_log",
        "aifnb_slurm.validate",
        "aifnb_widgets.batch.api",
        "aifnb_widgets.batch.cli",
        "aifnb_widgets.batch.usage",
        "aifnb_widgets.bias.slurm",
    ]
    probe = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.split())
    assert loaded.isdisjoint({"jupyterhub", "batchspawner", "tornado", "aifnb_spawners"}), loaded
