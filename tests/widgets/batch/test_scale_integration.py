"""Scale & Run on the real single-node Slurm, as the tests' Unix users.

Jobs are waited for with bounded polling; every job a test starts is cancelled at the end of the
module, and the module fails if one of our batch jobs is still queued. Slurm's own start and end
times (``scontrol``, while the job is within MinJobAge) are kept for the usage test at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from aifnb_hub.settings import load_settings
from aifnb_widgets.batch.api import (
    BatchError,
    cancel_job,
    home_of,
    list_jobs,
    submit_notebook,
)
from aifnb_widgets.batch.layout import JOB_NAME_PREFIX, RUNS_DIR, read_record, stem_slug
from tests.conftest import squeue_jobs
from tests.support.fake_hub import FakeHub, Token
from tests.widgets.batch.conftest import DOUBLE_PARAMETERS, write_notebook

pytestmark = pytest.mark.integration

WAIT_S = 180
#: Slurm jobs this module ran to the end: slurm id -> (user, cpus, gpus, Slurm's elapsed seconds or
#: None when the job never ran).
FINISHED: dict[str, tuple[str, int, int, int]] = {}
MODULE_START = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)


def wait_for(predicate, what: str, timeout: float = WAIT_S, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def our_queue(user: str) -> list[str]:
    """Our batch jobs of ``user`` still queued: other test modules share these Unix users."""
    out = subprocess.run(["squeue", "-h", "-r", "-u", user, "-o", "%i %j"], check=True, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()[1].startswith(JOB_NAME_PREFIX)]


def slurm_elapsed(slurm_id: str) -> int | None:
    """Slurm's EndTime - StartTime of a finished job in seconds, None if it never ran on a node
    (readable for MinJobAge=30 s after the end)."""
    out = subprocess.run(["scontrol", "show", "job", "-o", slurm_id], check=True, capture_output=True, text=True).stdout
    pattern = rf"ArrayTaskId={slurm_id.split('_')[1]} " if "_" in slurm_id else rf"^JobId={slurm_id} "
    line = next(line for line in out.splitlines() if re.search(pattern, line))
    if " NodeList=(null) " in line:
        return None
    start, end = (datetime.fromisoformat(re.search(rf" {key}=(\S+)", line).group(1)) for key in ("StartTime", "EndTime"))
    return int((end - start).total_seconds())


def finish(user: str, job_id: str, tasks: int | None = None) -> list[Path]:
    """Wait until every run of ``job_id`` has a final record, note Slurm's times, return the folders."""

    def done():
        runs = [v for v in list_jobs(user) if v.record.job_id == job_id]
        return (
            runs
            if runs
            and all(v.state in ("COMPLETED", "FAILED", "CANCELLED") for v in runs)
            and not [j for j in our_queue(user) if j.split("_")[0] == job_id]
            else None
        )

    runs = wait_for(done, f"job {job_id} of {user} to finish")
    assert len(runs) == (tasks or 1)
    for view in runs:
        FINISHED[view.slurm_id] = (user, view.record.cpus, view.record.gpus, slurm_elapsed(view.slurm_id))
    return sorted((v.folder for v in runs), key=str)


@pytest.fixture(scope="module")
def hub(unix_users):
    """The hub API the users' sessions ask for their groups (each test user's token is their name)."""
    fake = FakeHub(
        groups={user: [group] for group, user in unix_users.items()}, tokens={user: Token(user) for user in unix_users.values()}
    )
    yield fake.start()
    fake.stop()


@pytest.fixture(scope="module")
def workdir(slurm, unix_users, hub):
    """Notebooks other users can read (and write their outputs beside), a site file putting the
    test users in their groups, the hub's API URL for their sessions, and no run folders or
    queued jobs of ours before or after."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-batch-", dir="/var/tmp"))
    path.chmod(0o1777)
    (path / "hub-api-url").write_text(hub.api_url)
    for user in unix_users.values():
        shutil.rmtree(Path(home_of(user)) / RUNS_DIR, ignore_errors=True)
    write_notebook(path / "double.ipynb", DOUBLE_PARAMETERS, "open(OUT, 'w').write(str(X * 2))")
    write_notebook(
        path / "fails.ipynb", "X = 1", "print('partial result', X)", "raise ValueError(f'boom at X={X}')", "print('never')"
    )
    write_notebook(path / "sleeps.ipynb", "SECONDS = 300", "import time\ntime.sleep(SECONDS)")
    site = path / "site.yaml"
    site.write_text("groups:\n" + "".join(f"  {group}: {{users: [{user}]}}\n" for group, user in unix_users.items()))
    site.chmod(0o644)
    yield path
    names = ",".join(JOB_NAME_PREFIX + stem_slug(notebook) for notebook in path.glob("*.ipynb"))
    leftovers = [job for user in unix_users.values() for job in squeue_jobs(user, name=names)]
    if leftovers:
        subprocess.run(["scancel", *leftovers], check=False)
    shutil.rmtree(path, ignore_errors=True)
    for user in unix_users.values():
        shutil.rmtree(Path(home_of(user)) / RUNS_DIR, ignore_errors=True)
    assert leftovers == [], f"batch jobs left behind: {leftovers}"


@pytest.fixture(scope="module")
def site_settings(workdir):
    return load_settings(workdir / "site.yaml")


def as_user(user: str, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``aifnb batch ...`` in a shell of ``user``, as a session's terminal runs it (with the hub's URL and the user's token)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": home_of(user),
        "AIFNB_SETTINGS": str(workdir / "site.yaml"),
        "LANG": "C.UTF-8",
        "JUPYTERHUB_API_URL": (workdir / "hub-api-url").read_text(),
        "JUPYTERHUB_API_TOKEN": user,
    }
    return subprocess.run(
        [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            sys.executable,
            "-m",
            "aifnb_widgets.cli",
            "batch",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def injected_parameters(executed: Path) -> str:
    nb = nbformat.read(executed, as_version=4)
    return next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))


def test_submitted_notebook_runs_as_the_user_with_its_parameters(workdir, site_settings, unix_users):
    user = unix_users["learners"]
    out = workdir / "double-42.txt"
    submission = submit_notebook(
        workdir / "double.ipynb",
        profile="cpu-course",
        parameters={"X": 21, "OUT": str(out)},
        user=user,
        groups=["learners"],
        settings=site_settings,
    )
    [folder] = finish(user, submission.job_id)
    assert folder == submission.folders[0]
    assert folder.name.endswith(f"-{submission.job_id}") and folder.parent.name == "double"
    assert out.read_text() == "42" and out.owner() == user
    assert "X = 21" in injected_parameters(folder / "executed.ipynb")
    assert json.loads((folder / "parameters.json").read_text()) == {"X": 21, "OUT": str(out)}
    assert (folder / "input.ipynb").read_text() == (workdir / "double.ipynb").read_text()
    record = read_record(folder)
    assert (record.status, record.user, record.profile, record.cpus, record.error) == ("completed", user, "cpu-course", 2, None)
    assert record.started_at <= record.ended_at
    assert f"batch job {submission.job_id}" in (folder / "job.log").read_text()
    assert (folder / "executed.ipynb").owner() == user


def test_sweep_of_three_runs_as_a_job_array_from_the_command_line(workdir, unix_users):
    user = unix_users["learners"]
    sweep = workdir / "sweep.yaml"
    sweep.write_text("X: [1, 2, 3]\n")
    sweep.chmod(0o644)
    result = as_user(
        user,
        workdir,
        "submit",
        str(workdir / "double.ipynb"),
        "--profile",
        "cpu-course",
        "-p",
        "NAME",
        "swept",
        "--sweep",
        str(sweep),
    )
    assert result.returncode == 0, result.stderr
    job_id = re.search(r"submitted job (\d+) \(3 runs", result.stdout).group(1)
    folders = finish(user, job_id, tasks=3)
    assert [f.name.split("-")[-1] for f in folders] == [f"{job_id}_{i}" for i in range(3)]
    for index, folder in enumerate(folders):
        injected = injected_parameters(folder / "executed.ipynb")
        assert f"X = {index + 1}" in injected and 'NAME = "swept"' in injected
        assert read_record(folder).task_id == index and read_record(folder).status == "completed"
    listing = as_user(user, workdir, "list")
    assert all(f"{job_id}_{i}" in listing.stdout for i in range(3)), listing.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-p", "EPOCHS", "3"], "EPOCHS"),
        (["-p", "X", "two"], "X: expected int"),
        (["-p", "SIZES", "3"], "SIZES: expected list"),
        (["--cpus", "64"], "cpus: 64 is outside"),
        (["--walltime", "48:00:00"], "walltime"),
        (["--profile", "gpu-training"], "profile"),
    ],
)
def test_bad_parameters_are_refused_before_anything_reaches_squeue(workdir, unix_users, args, named):
    user = unix_users["learners"]
    runs = sorted((Path(home_of(user)) / RUNS_DIR).glob("*/*"))
    result = as_user(user, workdir, "submit", str(workdir / "double.ipynb"), *args)
    assert result.returncode == 2
    assert named in result.stderr and "Traceback" not in result.stderr
    assert squeue_jobs(user, name="aifnb-batch-double") == []
    assert sorted((Path(home_of(user)) / RUNS_DIR).glob("*/*")) == runs


def test_a_user_can_neither_see_nor_cancel_another_users_job(workdir, site_settings, unix_users):
    owner, other = unix_users["learners"], unix_users["companies"]
    submission = submit_notebook(
        workdir / "sleeps.ipynb", profile="cpu-course", user=owner, groups=["learners"], settings=site_settings
    )
    job_id = submission.job_id
    try:
        # Running, so that Slurm and job.json agree on its elapsed time for the usage test.
        wait_for(lambda: read_record(submission.folders[0]).status == "running", f"job {job_id} running")
        assert all(v.record.job_id != job_id for v in list_jobs(other))
        with pytest.raises(BatchError, match="not one of your batch jobs"):
            cancel_job(job_id, user=other)
        # A record forged in the other user's own home does not make the job theirs: a record
        # someone else (here root) wrote is not theirs at all, and one they own still needs the
        # job in their own queue.
        forged = Path(home_of(other)) / RUNS_DIR / "sleeps" / submission.folders[0].name
        forged.mkdir(parents=True)
        shutil.copy(submission.folders[0] / "job.json", forged / "job.json")
        (forged / "job.json").write_text((forged / "job.json").read_text().replace(owner, other))
        with pytest.raises(BatchError, match="not one of your batch jobs"):
            cancel_job(job_id, user=other)
        subprocess.run(["chown", "-R", f"{other}:", str(Path(home_of(other)) / RUNS_DIR)], check=True)
        with pytest.raises(BatchError, match="no longer in the queue"):
            cancel_job(job_id, user=other)
        refused = as_user(other, workdir, "cancel", job_id)
        assert refused.returncode == 2 and job_id in our_queue(owner)
        assert cancel_job(job_id, user=owner) == [job_id]
        [folder] = finish(owner, job_id)
        assert read_record(folder).status == "cancelled"
    finally:
        subprocess.run(["scancel", job_id], check=False)
        shutil.rmtree(Path(home_of(other)) / RUNS_DIR, ignore_errors=True)


def test_a_failing_notebook_keeps_its_partial_output_and_error_and_the_panel_shows_them(workdir, site_settings, unix_users):
    from aifnb_widgets.ui.jobs_panel import JobsPanel

    user = unix_users["learners"]
    submission = submit_notebook(
        workdir / "fails.ipynb", profile="cpu-course", parameters={"X": 5}, user=user, groups=["learners"], settings=site_settings
    )
    [folder] = finish(user, submission.job_id)
    panel = JobsPanel(user=user)
    panel.refresh()
    row = panel.row(submission.job_id)
    assert row["state"] == "FAILED" and row["folder"] == folder
    assert "ValueError" in row["error"] and "boom at X=5" in row["error"]
    assert "boom at X=5" in (folder / "error.txt").read_text() and read_record(folder).status == "failed"
    executed = nbformat.read(row["executed"], as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "partial result 5" in outputs and "never" not in outputs
    assert "boom at X=5" in panel.detail.value or panel.selected.value != submission.job_id
    panel.selected.value = submission.job_id
    assert "boom at X=5" in panel.detail.value and panel.cancel_button.disabled and not panel.resubmit_button.disabled
    assert "FAILED" in panel.table.value and "executed" in panel.table.value


def test_cancelling_from_the_panel_stops_a_running_job_and_records_it(workdir, site_settings, unix_users):
    from aifnb_widgets.ui.jobs_panel import JobsPanel

    user = unix_users["learners"]
    submission = submit_notebook(
        workdir / "sleeps.ipynb", profile="cpu-course", user=user, groups=["learners"], settings=site_settings
    )
    job_id = submission.job_id
    panel = JobsPanel(user=user, every=1)
    try:
        panel.start()  # the background refresh the dashboard uses; the test only reads its state
        wait_for(
            lambda: (
                any(r["job"] == job_id and r["state"] == "RUNNING" for r in panel.rows)
                and read_record(submission.folders[0]).status == "running"
            ),
            f"job {job_id} running in the panel",
        )
        assert panel.refreshed_at is not None
        panel.stop()
        panel.selected.value = job_id
        assert not panel.cancel_button.disabled
        panel.cancel_button.click()
        assert "cancelled" in panel.message.value
        wait_for(lambda: job_id not in our_queue(user), f"job {job_id} to leave the queue", timeout=60)
        [folder] = finish(user, job_id)
        record = read_record(folder)
        assert record.status == "cancelled" and record.ended_at is not None and "SIGTERM" in record.error
        panel.refresh()
        assert panel.row(job_id)["state"] == "CANCELLED"
    finally:
        panel.stop()
        subprocess.run(["scancel", job_id], check=False)


def test_a_gpu_profile_run_gets_the_gpu_and_a_clean_environment(workdir, site_settings, unix_users):
    user = unix_users["companies"]
    out = workdir / "gpu-env.json"
    notebook = write_notebook(
        workdir / "gpu_env.ipynb", "OUT = ''", "import json, os\njson.dump(dict(os.environ), open(OUT, 'w'))"
    )
    submission = submit_notebook(
        notebook, profile="gpu-sandbox", parameters={"OUT": str(out)}, user=user, groups=["companies"], settings=site_settings
    )
    assert "#SBATCH --gres=gpu:1" in submission.script.splitlines()
    [folder] = finish(user, submission.job_id)
    record = read_record(folder)
    assert (record.status, record.profile, record.gpus, record.cpus) == ("completed", "gpu-sandbox", 1, 8)
    env = json.loads(out.read_text())
    assert env["HOME"] == home_of(user) and env["USER"] == user
    assert "AIFNB_SETTINGS" not in env and "PYTEST_CURRENT_TEST" not in env  # --export=NONE


def test_resubmit_runs_as_the_folders_owner_never_as_the_user_job_json_names(workdir, site_settings, unix_users, monkeypatch):
    """A job.json edited to name another user: its owner's resubmit runs as the owner; another user and root without --as-admin are refused; root with --as-admin runs it as the owner."""
    from aifnb_widgets.cli import main

    owner, named = unix_users["learners"], unix_users["companies"]
    out = workdir / "resubmitted.txt"
    first = submit_notebook(
        workdir / "double.ipynb",
        profile="cpu-course",
        parameters={"X": 4, "OUT": str(out)},
        user=owner,
        groups=["learners"],
        settings=site_settings,
    )
    [folder] = finish(owner, first.job_id)
    out.unlink()
    record = folder / "job.json"
    original = record.read_text()
    edit = ["runuser", "-u", owner, "--", "tee", str(record)]
    subprocess.run(
        edit, input=original.replace(f'"user": "{owner}"', f'"user": "{named}"'), text=True, check=True, capture_output=True
    )
    try:
        assert json.loads(record.read_text())["user"] == named and record.owner() == owner
        named_jobs = squeue_jobs(named)

        by_owner = as_user(owner, workdir, "resubmit", str(folder))
        assert by_owner.returncode == 0, by_owner.stderr
        assert f"as {owner}:" in by_owner.stdout
        job_id = re.search(r"submitted job ([0-9]+)", by_owner.stdout).group(1)
        [again] = finish(owner, job_id)
        assert read_record(again).user == owner and again.owner() == owner and out.read_text() == "8"

        by_other = as_user(named, workdir, "resubmit", str(folder))
        assert by_other.returncode == 2 and "Traceback" not in by_other.stderr, by_other.stderr
        monkeypatch.setenv("AIFNB_SETTINGS", str(workdir / "site.yaml"))
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        before = {view.folder for view in list_jobs(owner)}
        assert main(["batch", "resubmit", str(folder)]) == 2  # root, without --as-admin
        assert {view.folder for view in list_jobs(owner)} == before and squeue_jobs(named) == named_jobs

        assert main(["batch", "resubmit", "--as-admin", str(folder)]) == 0
        [third] = [view for view in list_jobs(owner) if view.folder not in before]
        finish(owner, third.record.job_id)
        assert read_record(third.folder).user == owner and third.folder.owner() == owner
        assert squeue_jobs(named) == named_jobs
    finally:  # the usage test at the end compares every finished job's record with Slurm
        subprocess.run(edit, input=original, text=True, check=True, capture_output=True)


def test_usage_report_without_slurmdbd_matches_the_jobs_this_module_ran(workdir, unix_users):
    from aifnb_widgets.batch.usage import sacct_usage, usage_report

    until = datetime.now(UTC) + timedelta(seconds=1)
    assert sacct_usage(MODULE_START, until) is None  # the CI Slurm has no accounting storage
    users = {unix_users["learners"]: ["learners"], unix_users["companies"]: ["companies"]}
    report = usage_report(MODULE_START, until, users=users)
    assert report.source == "platform records"
    recorded = {u.job_id: (u.end - u.start).total_seconds() for u in report.usages}
    off = {
        sid: (recorded.get(sid), v[3])
        for sid, v in FINISHED.items()
        if v[3] is not None and abs(recorded.get(sid, -99) - v[3]) > 2
    }
    assert off == {}, "job.json elapsed (left) differs from Slurm's (right) by more than 2 s"
    for user, groups in users.items():
        ran = {sid: v for sid, v in FINISHED.items() if v[0] == user and v[3] is not None}
        table = report.table
        batch = table[(table.scope == "user") & (table.name == user) & (table.kind == "batch")]
        if not ran:
            assert batch.empty
            continue
        assert int(batch.jobs.iloc[0]) == len(ran), (ran, report.usages)
        slurm_hours = sum(v[3] for v in ran.values()) / 3600
        assert abs(batch.hours.iloc[0] - slurm_hours) <= 2 * len(ran) / 3600, (batch, ran)
        slurm_cpu_hours = sum(v[1] * v[3] for v in ran.values()) / 3600
        assert abs(batch.cpu_hours.iloc[0] - slurm_cpu_hours) <= 2 * 8 * len(ran) / 3600
        slurm_gpu_hours = sum(v[2] * v[3] for v in ran.values()) / 3600
        assert abs(batch.gpu_hours.iloc[0] - slurm_gpu_hours) <= 2 * len(ran) / 3600
        group = table[(table.scope == "group") & (table.name == groups[0]) & (table.kind == "batch")]
        assert int(group.jobs.iloc[0]) == len(ran)
    assert FINISHED and any(v[2] for v in FINISHED.values()), "the module ran no GPU job to account"
    figure = report.figure()
    assert sum(len(t.x) for t in figure.data) >= 2
