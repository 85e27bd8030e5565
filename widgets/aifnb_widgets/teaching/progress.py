"""A learner's progress: each exercise check and quiz answer, kept in the home and told to the hub.

The home copy (``~/.aifnb/progress.jsonl``, one JSON object per line) is what the learner can
read; the hub's copy (``POST {JUPYTERHUB_API_URL}/aifnb/progress`` with the session's own token)
survives a home on scratch that was purged, and is what the hub home and the trainers' view
show. The hub records the user from the token, never from the body, so a learner can only ever
write their own progress. Outside a hub session (papermill in CI, a laptop) only the home copy
is written.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx

from aifnb_slurm.validate import PROGRESS_NAME

__all__ = ["ITEM", "Record", "progress_file", "read", "record"]

#: Course and item names: what the hub's endpoint accepts too.
ITEM = re.compile(PROGRESS_NAME, re.ASCII)
#: ``run``: the notebook ran to its end in a session (its metrics written).
Kind = Literal["check", "quiz", "run"]
TIMEOUT = 5.0

Record = dict[str, object]


def progress_file() -> Path:
    """Where this user's progress is kept in their home."""
    return Path.home() / ".aifnb" / "progress.jsonl"


def _post(record: Record) -> bool:
    """Tell the hub; False (and the home copy only) when not in a hub session or it cannot be reached."""
    url, token = os.environ.get("JUPYTERHUB_API_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return False
    try:
        response = httpx.post(
            url.rstrip("/") + "/aifnb/progress",
            json=record,
            headers={"Authorization": f"token {token}"},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError:
        return False
    return response.status_code in (200, 201)


def record(course: str, item: str, kind: Kind, passed: bool) -> Record:
    """Record one result of ``item`` (an exercise or quiz question) in ``course``.

    Raises ValueError naming the field when a name is not an allowed one, so a typo in a
    notebook shows at once instead of as a progress bar that never fills."""
    for field, value in (("course", course), ("item", item)):
        if not isinstance(value, str) or not ITEM.fullmatch(value):
            raise ValueError(f"progress {field} {value!r}: 1-64 of a-z, 0-9, '_', '.', '-', starting alphanumeric")
    if kind not in ("check", "quiz", "run"):
        raise ValueError(f"progress kind {kind!r}: one of 'check', 'quiz', 'run'")
    entry: Record = {
        "course": course,
        "item": item,
        "kind": kind,
        "passed": bool(passed),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = progress_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")
    entry["reported"] = _post({k: entry[k] for k in ("course", "item", "kind", "passed")})
    return entry


def read(path: Path | None = None) -> list[Record]:
    """The records in the home copy, oldest first; lines that are not records are skipped."""
    path = path or progress_file()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and {"course", "item", "kind", "passed"} <= entry.keys():
            records.append(entry)
    return records
