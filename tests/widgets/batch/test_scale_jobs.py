"""Listing and cancelling against a scripted queue: who owns a job is decided by records AND squeue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifnb_data.access import AccessRefused
from aifnb_widgets.batch import api
from aifnb_widgets.batch.layout import JobRecord, read_record, run_dir, write_record
from aifnb_widgets.batch.queue import (
    QueuedJob,
    current_user,
    elapsed_seconds,
    parse_squeue,
)

USER = current_user()
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_squeue_lines_keep_only_the_platforms_batch_jobs_and_bias_arrays():
    """Notebook runs and bias array tasks are kept with their kind; sessions and other jobs are not the panel's."""
    out = "\n".join(
        [
            "12_0|12|0|aifnb-batch-train|RUNNING|None|1:02",
            "12_1|12|1|aifnb-batch-train|PENDING|Resources|0:00",
            "13|13|N/A|aifnb-session-ana|RUNNING|None|5:00",
            "14|14|N/A|my-own-sbatch|RUNNING|None|5:00",
            "15_0|15|0|aifnb-bias-llms|RUNNING|None|0:09",
            "16|16|N/A|aifnb-bias|RUNNING|None|0:09",
            "garbage",
        ]
    )
    jobs = parse_squeue(out)
    assert jobs == [
        QueuedJob("12_0", "12", 0, "aifnb-batch-train", "RUNNING", "", "1:02"),
        QueuedJob("12_1", "12", 1, "aifnb-batch-train", "PENDING", "Resources", "0:00"),
        QueuedJob("15_0", "15", 0, "aifnb-bias-llms", "RUNNING", "", "0:09"),
    ]
    assert [job.kind for job in jobs] == ["batch", "batch", "bias"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("0:00", 0), ("1:02", 62), ("2:03:04", 7384), ("1-00:00:01", 86401), ("INVALID", 0), ("", 0)]
)
def test_squeue_elapsed_times(text, seconds):
    assert elapsed_seconds(text) == seconds


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user (the one running the tests) with a sweep 20 (tasks 0 running, 1 pending), a finished job 21 and a job 22
    that left the queue without a final record; the queue also holds 99, which is not hers."""

    def record(job, task, status, started=None, ended=None):
        folder = run_dir(tmp_path, "/n/train.ipynb", T0, job, task)
        write_record(
            folder,
            JobRecord(
                job_id=job,
                task_id=task,
                user=USER,
                notebook="/n/train.ipynb",
                profile="cpu-course",
                partition="cpu",
                cpus=2,
                gpus=0,
                memory="4G",
                walltime="01:00:00",
                submitted_at=T0,
                started_at=started,
                ended_at=ended,
                status=status,
            ),
        )

    record("20", 0, "running", T0)
    record("20", 1, "submitted")
    record("20", 2, "submitted")  # started a moment ago; its runner has not written yet
    record("21", None, "failed", T0, T0 + timedelta(seconds=75))
    record("22", None, "running", T0)
    queued = [
        QueuedJob("20_0", "20", 0, "aifnb-batch-train", "RUNNING", "", "3:00"),
        QueuedJob("20_1", "20", 1, "aifnb-batch-train", "PENDING", "Priority", "0:00"),
        QueuedJob("20_2", "20", 2, "aifnb-batch-train", "RUNNING", "", "0:02"),
        QueuedJob("99", "99", None, "aifnb-batch-x", "RUNNING", "", "1:00"),
    ]
    cancelled: list[str] = []
    monkeypatch.setattr(api, "home_of", lambda user: str(tmp_path))
    monkeypatch.setattr(api.slurm, "queue", lambda account: list(queued))
    monkeypatch.setattr(api.slurm, "scancel", lambda account, job: cancelled.append(job))
    return tmp_path, cancelled


def test_list_merges_records_with_the_queue(home):
    views = {v.slurm_id: v for v in api.list_jobs(USER)}
    assert sorted(views) == ["20_0", "20_1", "20_2", "21", "22"]
    assert (views["20_0"].state, views["20_0"].elapsed, views["20_0"].active) == ("RUNNING", "3:00", True)
    assert (views["20_1"].state, views["20_1"].reason) == ("PENDING", "Priority")
    assert (views["21"].state, views["21"].elapsed, views["21"].active) == ("FAILED", "0:01:15", False)
    assert views["22"].state == "LOST"


@pytest.mark.parametrize(
    ("job", "message"), [("99", "not one of your batch jobs"), ("21", "no longer in the queue"), ("5", "not one of")]
)
def test_cancel_is_refused_unless_the_job_is_in_the_records_and_the_queue(home, job, message):
    _, cancelled = home
    with pytest.raises(api.BatchError, match=message):
        api.cancel_job(job, USER)
    assert cancelled == []


def test_cancelling_a_sweep_cancels_its_tasks_and_records_those_whose_runner_never_wrote(home):
    tmp_path, cancelled = home
    assert api.cancel_job("20", USER) == ["20_0", "20_1", "20_2"]
    assert cancelled == ["20"]
    running, pending, starting = (read_record(run_dir(tmp_path, "/n/train.ipynb", T0, "20", task)) for task in range(3))
    assert running.status == "running"  # its runner records its own end
    assert (pending.status, pending.started_at) == ("cancelled", None)
    assert starting.status == "cancelled" and (starting.ended_at - starting.started_at).total_seconds() == 2


@pytest.mark.integration  # needs a real Unix user, not Slurm
def test_root_acting_for_a_user_never_writes_through_their_symlinks(tmp_path, unix_users):
    """A link anywhere below the home stops root; otherwise new folders and files are handed to the user by descriptor."""
    import pwd

    from aifnb_widgets.batch.layout import BatchError, open_below, opened, write_at

    owner = pwd.getpwnam(unix_users["learners"])
    target = tmp_path / "elsewhere"
    target.mkdir()
    home = tmp_path / "home"
    (home / "ai-factory-runs").mkdir(parents=True)
    (home / "ai-factory-runs" / "nb").symlink_to(target)
    with pytest.raises(BatchError, match="ai-factory-runs/nb is a symbolic link"):
        open_below(home, home / "ai-factory-runs" / "nb" / "run-1", create=True, owner=owner)
    assert list(target.iterdir()) == []
    home2 = tmp_path / "home2"
    home2.mkdir()
    with opened(open_below(home2, home2 / "ai-factory-runs" / "nb" / "run-1", create=True, owner=owner)) as fd:
        write_at(fd, "job.json", "{}", owner)
        (home2 / "ai-factory-runs" / "nb" / "run-1" / "job.json").unlink()
        (home2 / "ai-factory-runs" / "nb" / "run-1" / "job.json").symlink_to(target / "stolen")
        write_at(fd, "job.json", "{}", owner)  # replaces the link, never writes through it
    assert not (target / "stolen").exists() and not (home2 / "ai-factory-runs" / "nb" / "run-1" / "job.json").is_symlink()
    assert (home2 / "ai-factory-runs" / "nb" / "run-1" / "job.json").owner() == owner.pw_name
    assert (home2 / "ai-factory-runs").owner() == owner.pw_name


@pytest.fixture
def scripted_slurm(tmp_path, monkeypatch):
    """sbatch answers job ids 500, 501...; release and scancel are noted."""
    calls: list[tuple[str, str]] = []
    ids = iter(range(500, 600))
    (tmp_path / "home").mkdir()
    monkeypatch.setattr(api, "home_of", lambda user: str(tmp_path / "home"))
    monkeypatch.setattr(api.slurm, "submit_held", lambda account, script: calls.append(("sbatch", script)) or str(next(ids)))
    monkeypatch.setattr(api.slurm, "release", lambda account, job: calls.append(("release", job)))
    monkeypatch.setattr(api.slurm, "scancel", lambda account, job: calls.append(("scancel", job)))
    return tmp_path / "home", calls


def test_submission_writes_every_run_folder_before_releasing_the_job(scripted_slurm, double_notebook, settings):
    home, calls = scripted_slurm
    submission = api.submit_notebook(
        double_notebook,
        profile="cpu-course",
        parameters={"NAME": "a"},
        sweep=[{"X": 1}, {"X": 2}],
        groups=["learners"],
        settings=settings,
    )
    assert [c[0] for c in calls] == ["sbatch", "release"] and calls[1][1] == "500"
    assert [f.name.split("-")[-1] for f in submission.folders] == ["500_0", "500_1"]
    for index, folder in enumerate(submission.folders):
        assert folder.parent == home / "ai-factory-runs" / "double"
        assert read_record(folder).task_id == index and read_record(folder).status == "submitted"
        assert (folder / "input.ipynb").read_text() == double_notebook.read_text()
    again = api.resubmit(submission.folders[1], groups=["learners"], settings=settings)
    assert again.job_id == "501" and again.parameter_sets == [{"NAME": "a", "X": 2}] and again.request == submission.request


def test_a_submission_that_cannot_write_its_records_is_cancelled(scripted_slurm, double_notebook, settings, monkeypatch):
    _, calls = scripted_slurm

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(api, "write_at", full_disk)
    with pytest.raises(OSError, match="No space"):
        api.submit_notebook(double_notebook, profile="cpu-course", groups=["learners"], settings=settings)
    assert [c[0] for c in calls] == ["sbatch", "scancel"]


@pytest.fixture
def bias_home(tmp_path, monkeypatch):
    """A bias array 30 of the user's (task 0 running, task 1 pending) beside a notebook run 31, all in the queue."""

    def record(job, task, kind, status, started=None):
        folder = run_dir(tmp_path, "bias-llms" if kind == "bias" else "/n/train.ipynb", T0, job, task)
        extra = {"job_dir": "/scratch/llms"} if kind == "bias" else {"notebook": "/n/train.ipynb"}
        write_record(
            folder,
            JobRecord(
                kind=kind,
                job_id=job,
                task_id=task,
                user=USER,
                profile="cpu-course",
                partition="cpu",
                cpus=2,
                gpus=0,
                memory="4G",
                walltime="01:00:00",
                submitted_at=T0,
                started_at=started,
                status=status,
                **extra,
            ),
        )
        return folder

    folders = [
        record("30", 0, "bias", "running", T0),
        record("30", 1, "bias", "submitted"),
        record("31", None, "batch", "running", T0),
    ]
    queued = [
        QueuedJob("30_0", "30", 0, "aifnb-bias-llms", "RUNNING", "", "2:00"),
        QueuedJob("30_1", "30", 1, "aifnb-bias-llms", "PENDING", "Resources", "0:00"),
        QueuedJob("31", "31", None, "aifnb-batch-train", "RUNNING", "", "1:00"),
    ]
    cancelled: list[str] = []
    monkeypatch.setattr(api, "home_of", lambda user: str(tmp_path))
    monkeypatch.setattr(api.slurm, "queue", lambda account: [j for j in queued if not {j.slurm_id, j.job_id} & set(cancelled)])
    monkeypatch.setattr(api.slurm, "scancel", lambda account, job: cancelled.append(job))
    return folders, cancelled


def test_bias_array_tasks_are_listed_with_their_kind(bias_home):
    """The list holds each bias task (kind bias, its array folder as label) beside notebook runs."""
    views = {v.slurm_id: v for v in api.list_jobs(USER)}
    assert {sid: (v.kind, v.state, v.record.label) for sid, v in views.items()} == {
        "30_0": ("bias", "RUNNING", "llms"),
        "30_1": ("bias", "PENDING", "llms"),
        "31": ("batch", "RUNNING", "train.ipynb"),
    }


def test_cancelling_a_bias_array_follows_the_same_rules(bias_home):
    """A whole bias array is cancelled from its records and the queue; its never-started task is recorded as cancelled."""
    folders, cancelled = bias_home
    assert sorted(api.cancel_job("30", USER)) == ["30_0", "30_1"] and cancelled == ["30"]
    assert read_record(folders[1]).status == "cancelled"
    assert read_record(folders[0]).status == "running"  # its tracker records the end
    with pytest.raises(api.BatchError, match="not one of your batch jobs"):
        api.cancel_job("32", USER)


def test_a_bias_run_folder_is_not_resubmitted_as_a_notebook(bias_home):
    """Resubmit refuses a bias task's folder, saying how to run it again."""
    folders, _ = bias_home
    with pytest.raises(api.BatchError, match="is a bias run, not a notebook run; submit it again with 'aifnb bias submit'"):
        api.resubmit(folders[0])


def test_resubmit_resolves_catalogue_parameters_again(scripted_slurm, double_notebook, settings, monkeypatch):
    """A run whose OUT came from the data catalogue records the entry's name; its resubmit asks the catalogue again
    (access checked now, not at the first submission) and logs the use with the new job id."""
    asked, logged = [], []
    monkeypatch.setattr(api.data_catalogue, "for_job", lambda name: asked.append(name) or f"/srv/data/{name}.csv")
    monkeypatch.setattr(api.data_catalogue, "resolve_for", lambda name, purpose, job: logged.append((name, purpose, job)))
    first = api.submit_notebook(
        double_notebook, profile="cpu-course", groups=["learners"], settings=settings, data={"OUT": "iris"}
    )
    assert read_record(first.folders[0]).data == {"OUT": "iris"}
    again = api.resubmit(first.folders[0], groups=["learners"], settings=settings)
    assert asked == ["iris", "iris"] and logged == [("iris", "batch", "500"), ("iris", "batch", "501")]
    assert again.parameter_sets[0]["OUT"] == "/srv/data/iris.csv"

    def revoked(name):
        raise AccessRefused(f"dataset {name!r} is no longer shared with you")

    monkeypatch.setattr(api.data_catalogue, "for_job", revoked)
    with pytest.raises(AccessRefused, match="no longer shared"):
        api.resubmit(first.folders[0], groups=["learners"], settings=settings)
    assert logged[-1] == ("iris", "batch", "501")  # nothing submitted, nothing logged


def test_a_record_naming_a_forged_catalogue_entry_is_refused(tmp_path):
    """job.json is the user's file: a data mapping that is not parameter -> entry name is refused when read."""
    fields = dict(job_id="1", user="someone", notebook="/x.ipynb", profile="p", partition="cpu", cpus=1, gpus=0,
                  memory="1G", walltime="00:10:00", submitted_at="2026-11-26T00:00:00Z")  # fmt: skip
    assert JobRecord(**fields, data={"DATA": "iris"}).data == {"DATA": "iris"}
    for bad in ({"DATA": "../etc/passwd"}, {"X; rm": "iris"}, {"DATA": "Iris"}):
        with pytest.raises(ValueError, match="data"):
            JobRecord(**fields, data=bad)
