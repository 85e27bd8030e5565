"""The access log: whole lines under concurrent appends, read back as a table and CSV."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest

from aifnb_data.access_log import AccessEvent, as_csv, as_table, read_access_log, record_access


def _event(i: int) -> AccessEvent:
    return AccessEvent(
        time=datetime(2026, 11, 26, 12, 0, i % 60, tzinfo=UTC),
        user=f"user{i}",
        entry="iris",
        kind="dataset",
        purpose="batch",
        job_id=str(1000 + i),
        location="/var/lib/aifnb/data/iris.csv",
    )


def test_concurrent_appends_stay_whole_lines(tmp_path):
    """400 appends from 8 threads: 400 valid events, none interleaved; the file is 0640."""
    log = tmp_path / "log" / "access.jsonl"
    threads = [threading.Thread(target=lambda k=k: [record_access(log, _event(k * 50 + i)) for i in range(50)]) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = read_access_log(log)
    assert len(events) == 400
    assert sorted(e.user for e in events) == sorted(f"user{i}" for i in range(400))
    assert oct(os.stat(log).st_mode & 0o777) == "0o640"


def test_table_and_csv(tmp_path):
    """The admin's views: a header and one row per use, with the job id."""
    log = tmp_path / "access.jsonl"
    record_access(log, _event(1))
    with log.open("a") as out:
        out.write("{half a line")
    events = read_access_log(log)
    assert as_csv(events).splitlines() == [
        "time,user,entry,kind,purpose,job_id,location",
        "2026-11-26T12:00:01+00:00,user1,iris,dataset,batch,1001,/var/lib/aifnb/data/iris.csv",
    ]
    table = as_table(events).splitlines()
    assert table[0].split() == ["time", "user", "entry", "kind", "purpose", "job_id", "location"]
    assert table[1].split()[1:6] == ["user1", "iris", "dataset", "batch", "1001"]


def test_log_path_that_is_a_symlink_is_refused(tmp_path):
    """Someone who planted a symlink at the log's path cannot make the hub write elsewhere."""
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "access.jsonl").symlink_to(target)
    with pytest.raises(OSError):
        record_access(tmp_path / "access.jsonl", _event(1))
    assert target.read_text() == ""


def test_job_id_shape_is_enforced():
    """Only Slurm job ids (123, 123_4) or nothing reach the log."""
    with pytest.raises(ValueError):
        AccessEvent(**(_event(1).model_dump() | {"job_id": "1; rm -rf"}))
