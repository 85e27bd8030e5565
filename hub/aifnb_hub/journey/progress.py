"""The hub's copy of each user's progress: one small JSON file per user under the hub's data_dir.

Sessions report each exercise check and quiz answer with their own token (``aifnb_widgets.teaching.
progress``); the hub keeps, per (course, item, kind), whether it was ever passed, the last result
and the number of tries. Keyed records, not an append log: a user posting in a loop rewrites the
same entries instead of growing a file, and ``max_items`` bounds the distinct ones. Files are
replaced atomically, so a crash mid-write leaves the previous state.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from aifnb_slurm.validate import PROGRESS_NAME, USERNAME, InvalidValue, check

Kind = Literal["check", "quiz", "run", "open"]
#: Kinds a session may report (``run``: the notebook ran to its end in a session); ``open`` is
#: written by the hub when a notebook is opened from the home.
REPORTED_KINDS = ("check", "quiz", "run")
NAMES_ALLOWED = "1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit"


class ProgressFull(ValueError):
    """The user already has ``max_items`` distinct records."""


@dataclass(frozen=True)
class CourseProgress:
    """What the home and the trainers' table show for one user and one course."""

    course: str
    checks_passed: int = 0
    checks_tried: int = 0
    quiz_right: int = 0
    quiz_answered: int = 0
    opened: bool = False
    finished: bool = False

    @property
    def started(self) -> bool:
        return bool(self.checks_tried or self.quiz_answered or self.opened or self.finished)


def parse_report(body: Any) -> tuple[str, str, str, bool]:
    """``(course, item, kind, passed)`` from a session's JSON report, or InvalidValue naming the field."""
    if not isinstance(body, dict):
        raise InvalidValue("body", type(body).__name__, "a JSON object with course, item, kind, passed")
    unknown = sorted(set(body) - {"course", "item", "kind", "passed"})
    if unknown:
        raise InvalidValue(unknown[0], "(present)", "the fields are course, item, kind, passed")
    course = check("course", body.get("course"), PROGRESS_NAME, NAMES_ALLOWED)
    item = check("item", body.get("item"), PROGRESS_NAME, NAMES_ALLOWED)
    kind = body.get("kind")
    if kind not in REPORTED_KINDS:
        raise InvalidValue("kind", kind, f"one of {', '.join(REPORTED_KINDS)}")
    passed = body.get("passed")
    if not isinstance(passed, bool):
        raise InvalidValue("passed", passed, "true or false")
    return course, item, kind, passed


class ProgressStore:
    """Per-user progress files in ``root`` (0700, the hub's)."""

    def __init__(self, root: Path, max_items: int = 2000):
        self.root = Path(root)
        self.max_items = max_items

    def _file(self, user: str) -> Path:
        return self.root / f"{check('user', user, USERNAME, 'a hub user name')}.json"

    def records(self, user: str) -> list[dict[str, Any]]:
        """The user's records (course, item, kind, passed, last, tries, at), oldest first."""
        try:
            data = json.loads(self._file(user).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return list(data.get("records", []))

    def add(self, user: str, course: str, item: str, kind: Kind, passed: bool) -> dict[str, Any]:
        """Record one result; returns the updated record. Names must already be checked."""
        records = self.records(user)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entry = next((r for r in records if (r["course"], r["item"], r["kind"]) == (course, item, kind)), None)
        if entry is None:
            if len(records) >= self.max_items:
                raise ProgressFull(f"{user} already has {self.max_items} progress records")
            entry = {"course": course, "item": item, "kind": kind, "passed": False, "tries": 0}
            records.append(entry)
        entry.update(passed=entry["passed"] or passed, last=passed, tries=entry["tries"] + 1, at=now)
        self._write(user, records)
        return entry

    def _write(self, user: str, records: list[dict[str, Any]]) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._file(user)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"records": records}, out, sort_keys=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def courses(self, user: str) -> dict[str, CourseProgress]:
        """Per-course counts of the user's records."""
        counts: dict[str, dict[str, Any]] = {}
        for r in self.records(user):
            c = counts.setdefault(r["course"], {"course": r["course"]})
            if r["kind"] == "check":
                c["checks_tried"] = c.get("checks_tried", 0) + 1
                c["checks_passed"] = c.get("checks_passed", 0) + bool(r["passed"])
            elif r["kind"] == "quiz":
                c["quiz_answered"] = c.get("quiz_answered", 0) + 1
                c["quiz_right"] = c.get("quiz_right", 0) + bool(r["last"])
            elif r["kind"] == "run":
                c["finished"] = c.get("finished", False) or bool(r["passed"])
            else:
                c["opened"] = True
        return {name: CourseProgress(**c) for name, c in sorted(counts.items())}

    def passed(self, user: str, course: str) -> set[str]:
        """Items of ``course`` the user has passed (any kind but ``open``)."""
        return {r["item"] for r in self.records(user) if r["course"] == course and r["kind"] != "open" and r["passed"]}

    def opened(self, user: str, course: str) -> set[str]:
        return {r["item"] for r in self.records(user) if r["course"] == course and r["kind"] == "open"}
