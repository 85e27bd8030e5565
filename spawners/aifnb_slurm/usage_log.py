"""The sessions' usage log: one JSON line when a session job starts running and one when it ends.

Clusters without Slurm accounting (slurmdbd) still need CPU- and GPU-hours per user and group;
the spawner writes these lines and ``aifnb_widgets.batch.usage`` reads them back.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Environment variable naming the log when none is given explicitly.
USAGE_LOG_ENV = "AIFNB_USAGE_LOG"


class SessionEvent(BaseModel):
    """One line of the sessions' usage log."""

    model_config = ConfigDict(extra="forbid")
    event: Literal["start", "stop"]
    time: datetime
    user: str
    job_id: str = Field(pattern=r"^[0-9]+$")
    profile: str
    cpus: int = Field(ge=0)
    gpus: int = Field(ge=0)


def record_session_event(
    path: str | Path,
    event: Literal["start", "stop"],
    *,
    user: str,
    job_id: str,
    profile: str,
    cpus: int,
    gpus: int,
    at: datetime | None = None,
) -> None:
    """Append one event with a single ``write`` under O_APPEND, so concurrent spawns never interleave."""
    line = SessionEvent(
        event=event, time=at or datetime.now(UTC), user=user, job_id=str(job_id), profile=profile, cpus=cpus, gpus=gpus
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line.model_dump_json() + "\n").encode())
    finally:
        os.close(fd)
