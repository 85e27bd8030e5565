"""Artefact writing, splitting, scaling, device choice and the shared training loop."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from aifnb_widgets.sandboxes.artefacts import markdown_table, prepare_output_dir, write_markdown_report, write_metrics
from aifnb_widgets.sandboxes.preprocessing import Standardizer, split_indices
from aifnb_widgets.sandboxes.runtime import resolve_device
from aifnb_widgets.sandboxes.training import fit, predict


def test_write_metrics_skips_empty_path_and_converts_numpy(tmp_path):
    assert write_metrics("", {"a": 1}) is None
    path = write_metrics(tmp_path / "sub" / "m.json", {"auc": np.float32(0.5), "n": np.int64(3), "per": {"x": [np.float64(1.0)]}})
    assert json.loads(path.read_text()) == {"auc": 0.5, "n": 3, "per": {"x": [1.0]}}


def test_write_metrics_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_metrics(tmp_path / "m.json", {"auc": float("nan")})


def test_markdown_report(tmp_path):
    table = pd.DataFrame({"rate": [0.5, 0.25]}, index=pd.Index(["A", "B"], name="group"))
    assert markdown_table(table).splitlines() == ["| group | rate |", "| --- | --- |", "| A | 0.5 |", "| B | 0.25 |"]
    path = write_markdown_report(prepare_output_dir(tmp_path / "out") / "r.md", "T", {"Metrics": {"auc": 0.9}, "Text": "hello"})
    assert path.read_text().startswith("# T\n\n## Metrics\n\n| metric | value |")


def test_split_indices_partition_all_rows():
    parts = split_indices(10, (0.6, 0.2, 0.2), seed=1)
    assert [len(p) for p in parts] == [6, 2, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    with pytest.raises(ValueError):
        split_indices(10, (0.5, 0.2), seed=0)


def test_standardizer_uses_training_statistics_and_handles_constant_columns():
    s = Standardizer.fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    assert s.transform(np.array([[1.0, 5.0]])).tolist() == [[0.0, 0.0]]


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_fit_learns_a_linear_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = torch.nn.Linear(2, 1)
    history = fit(model, x, y, torch.nn.BCEWithLogitsLoss(), epochs=20, lr=0.1)
    assert history[-1] < history[0] * 0.5
    assert ((predict(model, x) > 0) == (y > 0.5)).mean() > 0.95


def test_fit_sample_weights_shift_the_decision():
    """Weighting one class ten times more moves the fitted bias towards predicting it."""
    x = np.zeros((200, 1), dtype=np.float32)
    y = np.r_[np.ones(100), np.zeros(100)].astype(np.float32)[:, None]
    loss = torch.nn.BCEWithLogitsLoss(reduction="none")
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    fit(model, x, y, loss, epochs=60, lr=0.1, sample_weight=np.r_[np.full(100, 10.0), np.ones(100)])
    assert torch.sigmoid(model.bias).item() > 0.85
    with pytest.raises(ValueError, match="one weight per row"):
        fit(model, x, y, loss, epochs=1, sample_weight=np.ones(3))


def test_metrics_written_at_a_notebooks_end_in_a_session_report_it_ran(tmp_path, monkeypatch):
    """In a hub session (a token, JupyterLab naming the notebook) write_metrics records a progress 'run' of that
    notebook, which marks its SME-pathway step done; papermill (no notebook name) and a shell outside a hub record
    nothing."""
    from aifnb_widgets.teaching import progress

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)  # the home copy only: no hub to tell in a unit test
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "session-token")
    write_metrics("", {"accuracy": 0.9})  # papermill: no notebook name
    assert progress.read() == []
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/carol/sandboxes/ai_act_risk_triage.ipynb")
    write_metrics("", {"accuracy": 0.9})
    [entry] = progress.read()
    assert (entry["course"], entry["item"], entry["kind"], entry["passed"]) == ("ai_act_risk_triage", "notebook", "run", True)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN")
    write_metrics("", {"accuracy": 0.9})  # outside a hub session
    assert len(progress.read()) == 1
