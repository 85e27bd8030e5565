"""The data access log: one JSON line per resolution of an entry, for the data-governance record.

Written by the hub only (:mod:`aifnb_hub.data_api`), after it checked the caller's token and
groups: the user is the token's owner, never a value from the request, and the file is the
hub's (root's, 0640) in a folder users cannot write, so a user can neither forge another
person's line nor erase their own. Sessions and jobs ask the hub to resolve a name; the hub
appends the line with the purpose and the Slurm job id they give. The admin reads the log as a
table or CSV with ``aifnb data log``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: What a resolution is for: sessions say ``session``, Scale & Run ``batch``, bias runs ``bias``.
PURPOSE = r"[a-z][a-z0-9-]{0,31}"
PURPOSE_RULE = "1-32 of a-z, 0-9, '-', starting with a letter (session, batch, bias, sandbox, ...)"
#: A Slurm job id, or one task of an array (``123_4``); empty when not in a job.
JOB_ID = r"([0-9]+(_[0-9]+)?)?"
COLUMNS = ("time", "user", "entry", "kind", "purpose", "job_id", "location")


class AccessEvent(BaseModel):
    """One line of the access log."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    time: datetime
    user: str
    entry: str
    kind: str
    purpose: str
    job_id: str = Field("", pattern=r"^([0-9]+(_[0-9]+)?)?$")
    location: str


def record_access(path: str | Path, event: AccessEvent) -> None:
    """Append ``event`` with one ``write`` under O_APPEND, so concurrent requests never interleave;
    the folder is made 0750 and the file 0640 (the hub's)."""
    path = Path(path)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o640)
    try:
        os.write(fd, (event.model_dump_json() + "\n").encode())
    finally:
        os.close(fd)


def now() -> datetime:
    return datetime.now(UTC)


def read_access_log(path: str | Path) -> list[AccessEvent]:
    """The events of the log, oldest first; a missing log is empty, a line that is not an event
    is skipped (a half-written last line after a crash)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            events.append(AccessEvent.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError):
            continue
    return events


def _row(event: AccessEvent) -> list[str]:
    return [
        event.time.isoformat(timespec="seconds"),
        event.user,
        event.entry,
        event.kind,
        event.purpose,
        event.job_id,
        event.location,
    ]


def as_csv(events: Iterable[AccessEvent]) -> str:
    """The events as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(e) for e in events)
    return out.getvalue()


def as_table(events: Iterable[AccessEvent]) -> str:
    """The events as an aligned text table with a header row."""
    rows = [list(COLUMNS), *(_row(e) for e in events)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows) + "\n"
