"""Usage aggregation on hand-made records: sacct lines, session events and job.json records."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifnb_slurm.usage_log import record_session_event
from aifnb_widgets.batch.layout import JobRecord, write_record
from aifnb_widgets.batch.usage import (
    Home,
    Usage,
    batch_usage,
    parse_sacct,
    session_usage,
    usage_chart,
    usage_table,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
GROUPS = {"ana": ["learners"], "bo": ["companies", "trainers"]}


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def row(table, scope, name, kind):
    match = table[(table.scope == scope) & (table.name == name) & (table.kind == kind)]
    assert len(match) == 1, table
    return match.iloc[0]


def test_table_sums_per_user_and_per_group_with_cpu_and_gpu_hours():
    usages = [
        Usage("ana", "batch", "1", T0, T0 + hours(2), cpus=4, gpus=0),
        Usage("ana", "session", "2", T0, T0 + hours(1), cpus=2, gpus=0),
        Usage("bo", "batch", "3_0", T0, T0 + hours(0.5), cpus=8, gpus=2),
        Usage("bo", "batch", "3_1", T0, T0 + hours(1.5), cpus=8, gpus=2),
    ]
    table = usage_table(usages, GROUPS, T0 - hours(1), T0 + hours(24))
    ana = row(table, "user", "ana", "batch")
    assert (ana.jobs, ana.hours, ana.cpu_hours, ana.gpu_hours) == (1, 2.0, 8.0, 0.0)
    bo = row(table, "user", "bo", "batch")
    assert (bo.jobs, bo.hours, bo.cpu_hours, bo.gpu_hours) == (2, 2.0, 16.0, 4.0)
    assert row(table, "group", "trainers", "batch").gpu_hours == row(table, "group", "companies", "batch").gpu_hours == 4.0
    assert row(table, "group", "learners", "session").cpu_hours == 2.0
    assert list(table.scope) == ["user"] * 3 + ["group"] * 4


def test_intervals_are_clipped_to_the_period_and_users_without_group_are_shown():
    usages = [
        Usage("cy", "batch", "1", T0 - hours(1), T0 + hours(1), cpus=1, gpus=0),  # half inside
        Usage("cy", "batch", "2", T0 + hours(5), T0 + hours(6), cpus=1, gpus=0),  # after the period
        Usage("cy", "batch", "3", T0 - hours(3), T0 - hours(2), cpus=1, gpus=0),  # before it
    ]
    table = usage_table(usages, {}, T0, T0 + hours(2))
    assert row(table, "user", "cy", "batch").jobs == 1 and row(table, "user", "cy", "batch").hours == 1.0
    assert row(table, "group", "(no group)", "batch").hours == 1.0
    assert usage_table([], {}, T0, T0).empty


def test_sacct_lines_of_platform_jobs_are_parsed_with_their_tres():
    out = "\n".join(
        [
            "101|aifnb-session-ana|ana|2026-11-02T08:00:00|2026-11-02T09:30:00|billing=2,cpu=2,mem=4G,node=1",
            "102_3|aifnb-batch-train|bo|2026-11-02T08:00:00|2026-11-02T08:30:00|billing=8,cpu=8,gres/gpu=2,mem=32G,node=1",
            "103|someone-elses-job|bo|2026-11-02T08:00:00|2026-11-02T09:00:00|cpu=64",
            "104|aifnb-batch-pending|ana|Unknown|Unknown|",
            "105|aifnb-batch-running|ana|2026-11-02T08:00:00|Unknown|cpu=1",
            "106_1|aifnb-bias-llms|bo|2026-11-02T08:00:00|2026-11-02T10:00:00|billing=8,cpu=8,gres/gpu=1,mem=32G,node=1",
            "107|aifnb-bias|bo|2026-11-02T08:00:00|2026-11-02T10:00:00|cpu=2",  # the old unnamed bias jobs are not the scheme's
        ]
    )
    usages = parse_sacct(out, at=T0 + hours(3))
    assert [(u.job_id, u.kind, u.cpus, u.gpus, (u.end - u.start) / hours(1)) for u in usages] == [
        ("101", "session", 2, 0, 1.5),
        ("102_3", "batch", 8, 2, 0.5),
        ("105", "batch", 1, 0, 3.0),
        ("106_1", "bias", 8, 1, 2.0),
    ]


def test_session_events_pair_into_sessions(tmp_path):
    log = tmp_path / "sessions.jsonl"
    record_session_event(log, "start", user="ana", job_id="7", profile="cpu-course", cpus=2, gpus=0, at=T0)
    record_session_event(log, "start", user="bo", job_id="8", profile="gpu-sandbox", cpus=8, gpus=1, at=T0)
    record_session_event(log, "stop", user="ana", job_id="7", profile="cpu-course", cpus=2, gpus=0, at=T0 + hours(1))
    with log.open("a") as f:
        f.write("not json\n")
    sessions = {u.job_id: u for u in session_usage(log, at=T0 + hours(4))}
    assert (sessions["7"].end - sessions["7"].start) == hours(1)
    assert sessions["8"].end == T0 + hours(4) and sessions["8"].gpus == 1  # still running
    table = usage_table(sessions.values(), GROUPS, T0, T0 + hours(4))
    assert row(table, "user", "bo", "session").gpu_hours == 4.0


def write_run(home, user, job, started, ended, status, **fields):
    folder = home / "ai-factory-runs" / "nb" / f"x-{job}"
    values = {
        "job_id": job,
        "user": user,
        "notebook": "/n.ipynb",
        "profile": "cpu-course",
        "partition": "cpu",
        "cpus": 2,
        "gpus": 0,
        "memory": "4G",
        "walltime": "01:00:00",
        "submitted_at": T0,
        "started_at": started,
        "ended_at": ended,
        "status": status,
    }
    write_record(folder, JobRecord(**{**values, **fields}))
    return folder


def test_batch_records_count_for_the_uid_that_owns_them_and_are_labelled_user_records(tmp_path):
    """A record counts for the user whose uid owns it and whose name it holds; a record moved in, or owned by another uid, does not."""
    me = os.getuid()
    write_run(tmp_path / "ana", "ana", "1", T0, T0 + hours(1), "completed")
    write_run(tmp_path / "ana", "ana", "2", None, None, "cancelled")  # never ran
    write_run(tmp_path / "ana", "ana", "3", T0, None, "running")
    write_run(tmp_path / "ana", "bo", "4", T0, T0 + hours(1), "completed")  # names another user
    other = write_run(tmp_path / "ana", "ana", "5", T0, T0 + hours(1), "completed")
    os.chown(other / "job.json", me + 4242, -1)  # written by someone else
    skipped: list[tuple[str, str]] = []
    usages = batch_usage({"ana": Home(tmp_path / "ana", me)}, at=T0 + hours(2), skipped=skipped)
    assert sorted((u.job_id, (u.end - u.start) / hours(1), u.source) for u in usages) == [
        ("1", 1.0, "user-record"),
        ("3", 2.0, "user-record"),
    ]
    reasons = {Path(folder).name: reason for folder, reason in skipped}
    assert "names user 'bo'" in reasons["x-4"] and "is not owned by ana" in reasons["x-5"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"cpus": 512}, "claims cpus=512; profile cpu-course allows 1-4"),
        ({"gpus": 8}, "claims gpus=8"),
        ({"ended_at": T0 + hours(30)}, "longer than profile cpu-course allows"),
        ({"ended_at": T0 - hours(1)}, "before it starts"),
        ({"profile": "made-up"}, "does not offer"),
        ({"started_at": T0 + hours(99), "ended_at": T0 + hours(99.5)}, "in the future"),
    ],
    ids=["cpus", "gpus", "too-long", "reversed", "unknown-profile", "future"],
)
def test_user_written_resources_and_times_outside_the_profile_are_left_out_and_listed(tmp_path, settings, fields, reason):
    """A job.json that claims what its profile could not have given is not counted, and the report says why."""
    write_run(tmp_path, "ana", "7", T0, T0 + hours(1), "completed", **fields)
    skipped: list[tuple[str, str]] = []
    usages = batch_usage({"ana": Home(tmp_path, os.getuid())}, at=T0 + hours(48), profiles=settings.profiles, skipped=skipped)
    assert usages == [] and len(skipped) == 1 and reason in skipped[0][1]


def test_chart_has_cpu_and_gpu_bars_per_kind():
    """One CPU-hours and one GPU-hours bar per kind: sessions, notebook runs and bias arrays."""
    usages = [Usage("ana", "batch", "1", T0, T0 + hours(1), 2, 1), Usage("ana", "bias", "2_0", T0, T0 + hours(1), 4, 0)]
    table = usage_table(usages, GROUPS, T0, T0 + hours(1))
    figure = usage_chart(table)
    assert [trace.name for trace in figure.data] == [
        "CPU-hours, session",
        "CPU-hours, batch",
        "CPU-hours, bias",
        "GPU-hours, session",
        "GPU-hours, batch",
        "GPU-hours, bias",
    ]
    assert list(figure.data[1].y) == [2.0] and list(figure.data[2].y) == [4.0] and list(figure.data[4].y) == [1.0]


def test_bias_task_records_count_as_bias(tmp_path, settings):
    """A bias array task's job.json (kind bias) counts under kind bias, checked against its profile like a notebook run's."""
    write_run(tmp_path, "ana", "8", T0, T0 + hours(1), "completed", kind="bias", task_id=0, notebook="", job_dir="/scratch/llms")
    write_run(
        tmp_path,
        "ana",
        "9",
        T0,
        T0 + hours(1),
        "completed",
        kind="bias",
        task_id=1,
        notebook="",
        job_dir="/scratch/llms",
        cpus=64,
    )
    skipped: list[tuple[str, str]] = []
    usages = batch_usage({"ana": Home(tmp_path, os.getuid())}, at=T0 + hours(2), profiles=settings.profiles, skipped=skipped)
    assert [(u.kind, u.job_id, u.source) for u in usages] == [("bias", "8_0", "user-record")]
    assert len(skipped) == 1 and "claims cpus=64" in skipped[0][1]
    table = usage_table(usages, GROUPS, T0, T0 + hours(2))
    assert row(table, "user", "ana", "bias").cpu_hours == 2.0


def test_the_report_reads_the_hubs_configured_session_log_by_default(tmp_path, monkeypatch):
    """Without --sessions-log or $AIFNB_USAGE_LOG the report reads hub.usage_log; a named, missing log is an error."""
    from aifnb_hub.settings import load_settings
    from aifnb_widgets.batch import usage
    from aifnb_widgets.batch.layout import BatchError

    log = tmp_path / "hub" / "sessions.jsonl"
    record_session_event(log, "start", user="ana", job_id="7", profile="cpu-course", cpus=2, gpus=0, at=T0)
    record_session_event(log, "stop", user="ana", job_id="7", profile="cpu-course", cpus=2, gpus=0, at=T0 + hours(1))
    site = tmp_path / "site.yaml"
    site.write_text(f"hub: {{usage_log: {log}}}\n")
    settings = load_settings(site)
    monkeypatch.delenv("AIFNB_USAGE_LOG", raising=False)
    monkeypatch.setattr(usage, "sacct_usage", lambda since, until: None)  # a cluster without slurmdbd
    report = usage.usage_report(T0, T0 + hours(2), users={"ana": ["learners"]}, settings=settings)
    assert report.sessions == f"hub log {log}"
    assert row(report.table, "user", "ana", "session").cpu_hours == 2.0
    with pytest.raises(BatchError, match=r"sessions log .*/none\.jsonl does not exist"):
        usage.usage_report(
            T0, T0 + hours(2), users={"ana": ["learners"]}, settings=settings, sessions_log=tmp_path / "none.jsonl"
        )
    log.unlink()
    report = usage.usage_report(T0, T0 + hours(2), users={"ana": ["learners"]}, settings=settings)
    assert report.table.empty and report.sessions.startswith(f"none counted: the hub's log {log} does not exist")


@pytest.mark.parametrize(
    "bad",
    [
        '{"event": "start"}',
        '{"event": "pause", "time": "2026-01-01T00:00:00Z", "user": "a", "job_id": "1", "profile": "p", "cpus": 1, "gpus": 0}',
    ],
)
def test_malformed_session_lines_are_skipped(tmp_path, bad):
    log = tmp_path / "s.jsonl"
    log.write_text(bad + "\n")
    assert session_usage(log) == []
