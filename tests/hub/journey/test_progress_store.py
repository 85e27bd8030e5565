"""The hub's progress store and the check of what a session reports."""

from __future__ import annotations

import json

import pytest

from aifnb_hub.journey.progress import ProgressFull, ProgressStore, parse_report
from aifnb_slurm.validate import InvalidValue


def test_results_are_kept_per_item_with_tries_and_ever_passed(tmp_path):
    """A wrong try then a right one: one record, passed, two tries; a later wrong try keeps it passed."""
    store = ProgressStore(tmp_path / "progress")
    store.add("alice", "01-course", "ex1", "check", False)
    store.add("alice", "01-course", "ex1", "check", True)
    store.add("alice", "01-course", "ex1", "check", False)
    store.add("alice", "01-course", "q1", "quiz", True)
    store.add("alice", "01-course", "ex2", "check", False)
    (record,) = [r for r in store.records("alice") if r["item"] == "ex1"]
    assert (record["passed"], record["last"], record["tries"]) == (True, False, 3)
    course = store.courses("alice")["01-course"]
    assert (course.checks_passed, course.checks_tried, course.quiz_right, course.quiz_answered) == (1, 2, 1, 1)
    assert store.passed("alice", "01-course") == {"ex1", "q1"} and store.records("bob") == []
    assert (tmp_path / "progress").stat().st_mode & 0o777 == 0o700


def test_distinct_records_per_user_are_bounded(tmp_path):
    """A user posting new names in a loop hits max_items instead of filling the hub's disk."""
    store = ProgressStore(tmp_path, max_items=3)
    for i in range(3):
        store.add("alice", "c", f"i{i}", "check", True)
    store.add("alice", "c", "i0", "check", True)  # an existing record still updates
    with pytest.raises(ProgressFull):
        store.add("alice", "c", "i3", "check", True)


def test_store_refuses_a_user_name_that_is_not_one(tmp_path):
    """The user becomes a file name only when it is a valid user name (no '../')."""
    with pytest.raises(InvalidValue, match="user"):
        ProgressStore(tmp_path).records("../etc/passwd")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"course": "Course 1", "item": "a", "kind": "check", "passed": True}, "course"),
        ({"course": "c", "item": "a/../b", "kind": "check", "passed": True}, "item"),
        ({"course": "c", "item": "a\n", "kind": "check", "passed": True}, "item"),
        ({"course": "c", "item": "a", "kind": "open", "passed": True}, "kind"),
        ({"course": "c", "item": "a", "kind": "check", "passed": "yes"}, "passed"),
        ({"course": "c", "item": "a", "kind": "check", "passed": True, "user": "bob"}, "user"),
        (["c", "a"], "body"),
    ],
    ids=["space", "path", "newline", "hub-only-kind", "not-bool", "someone-else", "not-object"],
)
def test_reports_are_checked_field_by_field(body, field):
    """A bad report is refused naming the field: a name outside the pattern, a kind the hub keeps for itself, a 'user'."""
    with pytest.raises(InvalidValue) as caught:
        parse_report(json.loads(json.dumps(body)))
    assert caught.value.field == field


def test_a_good_report_parses():
    """The four fields of the session's contract."""
    assert parse_report({"course": "01-x", "item": "ex.1", "kind": "quiz", "passed": False}) == ("01-x", "ex.1", "quiz", False)
