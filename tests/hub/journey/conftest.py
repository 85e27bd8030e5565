"""A real hub (proxy, Slurm) with the journey's settings: a trainer of the learners, and workshops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import session_jobs
from tests.support.hub import Hub

#: The Slurm reservation the acceptance test creates for the open workshop.
RESERVATION = "aifnb-test-workshop"


def workshops(now: datetime) -> list[dict]:
    """Open now for the learners (on the test reservation), closed for them, and open for the companies."""
    span = {"profile": "cpu-course"}
    return [
        {"slug": "open-now", "title": "Open now", "group": "learners", "reservation": RESERVATION, **span,
         "start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=3)).isoformat()},
        {"slug": "closed", "title": "Last week", "group": "learners", **span,
         "start": (now - timedelta(days=7)).isoformat(), "end": (now - timedelta(days=6)).isoformat()},
        {"slug": "companies-only", "title": "For companies", "group": "companies", **span,
         "start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=3)).isoformat()},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def journey_hub(slurm, unix_users, hub_workdir):
    """The tests' four users, one per group; the trainer teaches the learners only."""
    groups = {group: {"users": [name]} for group, name in unix_users.items()}
    groups["learners"]["trainers"] = [unix_users["trainers"]]
    hub = Hub(hub_workdir, unix_users, extra={"groups": groups, "workshops": workshops(datetime.now(UTC))}).start()
    yield hub
    leftovers = [job for user in unix_users.values() for job in session_jobs(user)]
    hub.stop()
    assert leftovers == [], f"jobs left behind: {leftovers}"
