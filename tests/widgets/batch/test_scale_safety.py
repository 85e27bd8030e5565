"""What a user can put in their own files cannot hang, blow up or redirect the batch tools.

Run folders, records and sweep files are the user's to write; root reads them for the usage report
and for an admin's ``resubmit --as-admin``. These tests plant FIFOs, links, huge files, alias
bombs and records that name someone else, and check the tools refuse them quickly and by name.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from aifnb_slurm.accounts import AccountError
from aifnb_widgets.batch import api, usage
from aifnb_widgets.batch.layout import (
    RECORD_LIMIT,
    BatchError,
    JobRecord,
    read_runs,
    run_dir,
    write_record,
)
from aifnb_widgets.batch.params import (
    MAX_SWEEP,
    MAX_SWEEP_BYTES,
    ParameterError,
    load_sweep,
    parse_sweep,
    parse_value,
    sweep_sets,
)
from aifnb_widgets.batch.queue import current_user
from aifnb_widgets.cli import main
from tests.widgets.batch.conftest import DOUBLE_PARAMETERS, write_notebook
from tests.widgets.batch.test_scale_jobs import scripted_slurm  # noqa: F401  (fixture)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ME = current_user()


def record(user: str = ME, job: str = "1", **fields) -> JobRecord:
    values = {
        "job_id": job,
        "user": user,
        "notebook": "/n/double.ipynb",
        "profile": "cpu-course",
        "partition": "cpu",
        "cpus": 2,
        "gpus": 0,
        "memory": "4G",
        "walltime": "01:00:00",
        "submitted_at": T0,
        "started_at": T0,
        "ended_at": T0,
        "status": "completed",
    }
    return JobRecord(**{**values, **fields})


def finishes_within(seconds: float, call):
    """Run ``call`` in a daemon thread; fail (without hanging the session) if it has not returned in time."""
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still blocked after {seconds} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


# --- The usage report reads regular files only ----------------------------------------------


@pytest.fixture
def planted(tmp_path):
    """A home with one good record, a FIFO named job.json, an oversized record and a record that is a link."""
    home = tmp_path / "home"
    write_record(run_dir(home, "/n/double.ipynb", T0, "1", None), record(job="1"))
    fifo = run_dir(home, "/n/double.ipynb", T0, "2", None)
    fifo.mkdir(parents=True)
    os.mkfifo(fifo / "job.json")
    big = run_dir(home, "/n/double.ipynb", T0, "3", None)
    big.mkdir()
    (big / "job.json").write_text(" " * (RECORD_LIMIT + 1))
    linked = run_dir(home, "/n/double.ipynb", T0, "4", None)
    linked.mkdir()
    (linked / "job.json").symlink_to(run_dir(home, "/n/double.ipynb", T0, "1", None) / "job.json")
    return home


def test_a_fifo_named_job_json_does_not_hang_the_usage_report(planted, monkeypatch, settings):
    """The whole report returns at once; the FIFO, the oversized record and the link are listed as left out, the good record counted."""
    monkeypatch.setattr(usage, "sacct_usage", lambda since, until: None)
    monkeypatch.setattr(usage.pwd, "getpwnam", lambda name: SimpleNamespace(pw_dir=str(planted), pw_uid=os.getuid()))
    report = finishes_within(
        10, lambda: usage.usage_report(T0.replace(hour=0), T0.replace(hour=23), users={ME: []}, settings=settings)
    )
    assert [(u.job_id, u.source) for u in report.usages] == [("1", "user-record")]
    reasons = {Path(folder).name.split("-")[-1]: reason for folder, reason in report.skipped}
    assert (
        "not a regular file" in reasons["2"] and "more than the 65536 allowed" in reasons["3"] and "symbolic link" in reasons["4"]
    )
    assert set(report.table.source) == {"user-record"}


def test_a_fifo_as_the_sessions_log_is_refused_not_waited_on(tmp_path):
    """A FIFO given as the sessions log raises BatchError at once."""
    os.mkfifo(tmp_path / "sessions.jsonl")
    with pytest.raises(BatchError, match="not a regular file"):
        finishes_within(10, lambda: usage.session_usage(tmp_path / "sessions.jsonl"))


def test_a_linked_runs_folder_is_not_followed(tmp_path):
    """A user's ai-factory-runs that links to another folder is not read (root would read where the link points)."""
    elsewhere = tmp_path / "elsewhere"
    write_record(run_dir(elsewhere, "/n/x.ipynb", T0, "1", None), record())
    home = tmp_path / "home"
    home.mkdir()
    (home / "ai-factory-runs").symlink_to(elsewhere / "ai-factory-runs")
    skipped: list[tuple[Path, str]] = []
    assert read_runs(home, skipped) == [] and "symbolic link" in skipped[0][1]


# --- Sweeps are sized before they are built; YAML without aliases, size-capped ---------------


def test_a_sweep_of_10_to_the_8_combinations_is_refused_without_building_it(tmp_path):
    """Eight lists of ten values: refused naming the product, in well under a second and a megabyte."""
    sweep = tmp_path / "grid.yaml"
    sweep.write_text("".join(f"P{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(8)))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(
            ParameterError,
            match=rf"^sweep: 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 = 100000000 parameter sets; at most {MAX_SWEEP}",
        ):
            load_sweep(sweep)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0 and peak < 1024 * 1024


def test_a_sweep_at_the_limit_is_built():
    """Exactly MAX_SWEEP combinations are accepted, in file order."""
    sets = sweep_sets({"A": list(range(10)), "B": list(range(MAX_SWEEP // 10))})
    assert len(sets) == MAX_SWEEP and sets[1] == {"A": 0, "B": 1}


BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BOMB, "anchors and aliases"),
        ("X: &x [1, 2]\nY: [3]\n", "anchors and aliases"),
        ("X: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 16"),
        ("X: [1, 2\n", "not valid YAML"),
    ],
    ids=["alias-bomb", "anchor", "deep-nesting", "broken"],
)
def test_yaml_that_could_expand_or_recurse_is_refused_naming_the_sweep(text, message):
    """A billion-laughs sweep, any anchor, deep nesting and broken YAML are ParameterErrors on field 'sweep'."""
    with pytest.raises(ParameterError, match=f"^sweep: .*{message}") as info:
        finishes_within(10, lambda: parse_sweep(text))
    assert info.value.field == "sweep"


def test_sweep_files_are_size_capped_and_regular(tmp_path):
    """A sweep file over the cap, a FIFO and a missing file are refused naming the sweep."""
    big = tmp_path / "big.yaml"
    big.write_text("X: [" + "1, " * MAX_SWEEP_BYTES + "1]\n")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path, message in (
        (big, "more than the 262144 allowed"),
        (fifo, "not a regular file"),
        (tmp_path / "none.yaml", "does not exist"),
    ):
        with pytest.raises(ParameterError, match=f"^sweep: .*{message}"):
            finishes_within(10, lambda path=path: load_sweep(path))


def test_a_command_line_value_with_an_alias_is_refused_naming_the_parameter():
    """``-p SIZES '&a [1, *a]'`` is refused as SIZES, not expanded."""
    with pytest.raises(ParameterError, match="^SIZES: YAML anchors and aliases"):
        parse_value({"SIZES": [1]}, "SIZES", "[&a [1, 2], *a]")


def test_the_cli_refuses_an_alias_bomb_sweep_in_one_line(tmp_path, double_notebook, monkeypatch, capsys):
    """``aifnb batch submit --sweep bomb.yaml`` exits 2 with one line naming the sweep."""
    site = tmp_path / "site.yaml"
    site.write_text(f"groups:\n  learners: {{users: [{ME}]}}\n")
    monkeypatch.setenv("AIFNB_SETTINGS", str(site))
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    assert main(["batch", "submit", str(double_notebook), "--sweep", str(bomb), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "sweep: YAML anchors and aliases" in err and err.count("\n") == 1


# --- New run files get the user's umask --------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"),
    [(0o077, 0o600, 0o700), (0o022, 0o644, 0o755), (0o027, 0o640, 0o750)],
    ids=["077", "022", "027"],
)
def test_run_files_and_folders_follow_the_umask(scripted_slurm, double_notebook, settings, mask, file_mode, dir_mode):  # noqa: F811
    """No forced 0644: with umask 077 a run's files are 0600 and its folders 0700."""
    home, _ = scripted_slurm
    old = os.umask(mask)
    try:
        submission = api.submit_notebook(
            double_notebook, profile="cpu-course", sweep=[{"X": 1}], groups=["learners"], settings=settings
        )
    finally:
        os.umask(old)
    folder = submission.folders[0]
    for name in ("input.ipynb", "parameters.json", "job.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == file_mode, name
    for path in (folder, folder.parent, home / "ai-factory-runs"):
        assert stat.S_IMODE(path.stat().st_mode) == dir_mode, path


# --- resubmit acts as the folder's owner -----------------------------------------------------


@pytest.fixture
def learner_run(tmp_path, unix_users, monkeypatch, scripted_slurm):  # noqa: F811
    """A run folder in a stand-in home of the learner (owned by the learner) whose job.json names the company user and a
    root-only notebook elsewhere; homes are stand-ins under tmp_path, Slurm is scripted."""
    learner, company = unix_users["learners"], unix_users["companies"]
    homes = {learner: tmp_path / "learner-home", company: tmp_path / "company-home", ME: tmp_path / "home"}
    monkeypatch.setattr(api, "home_of", lambda user: str(homes[user]))
    secret = write_notebook(tmp_path / "root-only" / "secret.ipynb", "X = 1", "print('ROOT-ONLY SECRET')")
    secret.chmod(0o600)
    folder = run_dir(homes[learner], secret, T0, "77", None)
    write_notebook(folder / "input.ipynb", DOUBLE_PARAMETERS, "print('the learner notebook')")
    (folder / "parameters.json").write_text(json.dumps({"X": 3}))
    write_record(folder, record(user=company, job="77", notebook=str(secret)))
    for path in (homes[company], tmp_path / "home"):
        path.mkdir(exist_ok=True)
    shutil.chown(homes[learner], learner, learner)
    for path in [homes[learner], *homes[learner].rglob("*")]:
        shutil.chown(path, learner, learner)
    return folder, learner, company, homes


@pytest.fixture
def calls_as(monkeypatch):
    """The Unix user each scripted Slurm call ran as."""
    users: list[str] = []
    monkeypatch.setattr(api.slurm, "submit_held", lambda account, script: users.append(account.name) or "900")
    monkeypatch.setattr(api.slurm, "release", lambda account, job: users.append(account.name))
    return users


@pytest.mark.integration  # needs real Unix users, not Slurm
def test_resubmit_as_root_of_someone_elses_folder_needs_as_admin(learner_run, settings, calls_as, capsys, monkeypatch):
    """Without --as-admin root is refused, naming the owner and the flag; nothing reaches Slurm."""
    folder, learner, *_ = learner_run
    with pytest.raises(BatchError, match=f"belongs to {learner}, not to you .*--as-admin"):
        api.resubmit(folder, groups=["learners"], settings=settings)
    monkeypatch.setenv("AIFNB_SETTINGS", "")
    assert main(["batch", "resubmit", str(folder)]) == 2
    assert f"belongs to {learner}" in capsys.readouterr().err and calls_as == []


@pytest.mark.integration  # needs real Unix users, not Slurm
def test_resubmit_as_admin_runs_as_the_owner_with_the_folders_own_notebook(learner_run, settings, calls_as):
    """job.json names the company user and a root-only notebook: the job runs as the folder's owner, from the folder's input.ipynb."""
    folder, learner, company, homes = learner_run
    submission = api.resubmit(folder, as_admin=True, groups=["learners"], settings=settings)
    assert calls_as == [learner, learner] and submission.user == learner and submission.parameter_sets == [{"X": 3}]
    [new] = submission.folders
    assert new.is_relative_to(homes[learner]) and not list(homes[company].iterdir())
    assert "the learner notebook" in (new / "input.ipynb").read_text() and "ROOT-ONLY" not in (new / "input.ipynb").read_text()
    assert json.loads((new / "job.json").read_text())["user"] == learner
    assert all(path.owner() == learner for path in (new, new / "input.ipynb", new / "job.json", new / "parameters.json"))


@pytest.mark.integration  # needs real Unix users, not Slurm
@pytest.mark.parametrize("plant", ["input-link", "parameters-fifo", "foreign-file", "folder-link"])
def test_resubmit_as_admin_refuses_links_fifos_and_foreign_files(learner_run, settings, calls_as, tmp_path, plant):
    """A link or FIFO in the run folder, a file someone else owns, or a linked folder: refused by name, nothing submitted."""
    folder, learner, _, homes = learner_run
    target = folder
    if plant == "input-link":
        (folder / "input.ipynb").unlink()
        (folder / "input.ipynb").symlink_to(tmp_path / "root-only" / "secret.ipynb")
        message = "input.ipynb is a symbolic link"
    elif plant == "parameters-fifo":
        (folder / "parameters.json").unlink()
        os.mkfifo(folder / "parameters.json")
        shutil.chown(folder / "parameters.json", learner)
        message = "parameters.json is not a regular file"
    elif plant == "foreign-file":
        shutil.chown(folder / "parameters.json", "root", "root")
        message = f"parameters.json is not owned by {learner}"
    else:
        target = homes[learner] / "ai-factory-runs" / "linked"
        target.symlink_to(folder)
        message = "symbolic link"
    with pytest.raises(BatchError, match=message):
        finishes_within(10, lambda: api.resubmit(target, as_admin=True, groups=["learners"], settings=settings))
    assert calls_as == []


@pytest.mark.integration  # needs real Unix users, not Slurm
def test_resubmit_by_another_user_is_refused_in_one_line(learner_run, unix_users):
    """The company user resubmitting the learner's folder gets exit 2 and one line naming why (it cannot read it), no traceback."""
    import subprocess
    import sys

    folder, _, company, _ = learner_run
    result = subprocess.run(
        ["runuser", "-u", company, "--", sys.executable, "-m", "aifnb_widgets.cli", "batch", "resubmit", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AIFNB_SETTINGS": ""},
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"is not readable by you ({company})" in result.stderr


@pytest.mark.integration  # needs a real Unix user, not Slurm
def test_resubmit_as_admin_of_a_system_accounts_folder_is_refused(learner_run, settings, calls_as):
    """A run folder owned by a system account (daemon) is refused by the account policy before anything runs."""
    folder, *_ = learner_run
    for path in [folder, *folder.iterdir()]:
        shutil.chown(path, "daemon")
    with pytest.raises((AccountError, BatchError), match="daemon"):
        api.resubmit(folder, as_admin=True, groups=["learners"], settings=settings)
    assert calls_as == []


def test_sbatch_never_gets_the_sessions_credentials(tmp_path, monkeypatch):
    """sbatch hands its environment to the job and Slurm keeps it: the session's hub and MLflow tokens are
    not in it (a job that logs gets its own credential), while a variable a job may need (an endpoint's key) is."""
    from aifnb_widgets.batch import queue

    dump, bindir = tmp_path / "env", tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sbatch").write_text(f"#!/bin/sh\nenv > {dump}\ncat > /dev/null\necho 321\n")
    (bindir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    for name in queue.SESSION_SECRETS:
        monkeypatch.setenv(name, f"secret-of-{name}")
    monkeypatch.setenv("OPENAI_API_KEY", "kept-for-the-endpoint")
    assert queue.submit_held(queue.SlurmUser(queue.current_user()), "#!/bin/bash\ntrue\n") == "321"
    env = dump.read_text()
    assert "secret-of-" not in env and "OPENAI_API_KEY=kept-for-the-endpoint" in env
