"""Lenient answer matching and the environment helpers used by the courses."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aifnb_widgets.teaching import pick_device, run_tool, write_metrics
from aifnb_widgets.teaching.check import matches


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (3, 3),
        (0.1 + 0.2, 0.3),
        (" Scratch ", "scratch"),
        ([1, 2.0000000001], (1, 2)),
        ({"b", "A"}, {"a", "B"}),
        ({"x": 1.0}, {"x": 1}),
        (np.float32(0.5), 0.5),
        (torch.tensor([1.0, 2.0]), [1, 2]),
        (np.array([[1, 2]]), [[1, 2]]),
        (True, True),
    ],
)
def test_matches_accepts_equivalent_answers(answer, expected):
    assert matches(answer, expected)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (3, 4),
        ("3", 3),
        (1, True),
        (True, 1),
        ([1, 2], [1, 2, 3]),
        ({"a"}, {"a", "b"}),
        ({"x": 1}, {"y": 1}),
        (None, 0),
        ("home", "scratch"),
    ],
)
def test_matches_rejects_wrong_answers(answer, expected):
    assert not matches(answer, expected)


def test_pick_device():
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            pick_device("cuda")


def test_run_tool_explains_a_missing_tool():
    ran, text = run_tool(["definitely-not-a-tool-xyz"])
    assert not ran and "not installed" in text
    ran, text = run_tool(["python3", "-c", "print('hi')"])
    assert ran and text == "hi"


def test_write_metrics(tmp_path):
    assert write_metrics("", {"a": 1}) is None
    p = write_metrics(tmp_path / "sub" / "m.json", {"a": np.float64(0.5), "b": [torch.tensor(2)], "ok": True})
    assert json.loads(p.read_text()) == {"a": 0.5, "b": [2], "ok": True}
    with pytest.raises(ValueError, match="not finite"):
        write_metrics(tmp_path / "bad.json", {"a": float("nan")})
