"""Execute every catalogued notebook with papermill, with its tiny ``ci_parameters``.

Each notebook asserts its own results in its last cells and writes a metrics JSON to
METRICS_PATH; this test checks it ran without error and reads the metrics back, with the
tolerances in EXPECTED for notebooks that declare them. New catalogue entries are picked up
automatically.
"""

from __future__ import annotations

import json
import math
import sys
import time

import pytest
from nbclient.exceptions import CellTimeoutError

from aifnb_hub.catalogue import load_catalogue

pytestmark = pytest.mark.notebooks

CATALOGUE = load_catalogue()
PER_NOTEBOOK_TIMEOUT_S = 120  # per cell; every notebook runs in under 20 s at CI size

# Per-notebook expectations on the metrics JSON: key -> (low, high) inclusive, or an exact value.
# Notebooks not listed here only need a non-empty JSON object of finite values.
EXPECTED: dict[str, dict[str, object]] = {
    "courses/01-working-on-the-ai-factory.ipynb": {
        "gpu_check_ran": True,
        "slurm_explained": True,
        "results_written": True,
    },
    "courses/02-deep-learning-with-pytorch.ipynb": {
        "loss_ratio": (0.0, 0.7),
        "accuracy": (0.75, 1.0),
    },
    "courses/03-transformers-and-llms.ipynb": {
        "finetune_loss_ratio": (0.0, 0.6),
        "attention_rows_sum_to_one": True,
        "greedy_is_deterministic": True,
    },
    "courses/04-responsible-ai-social-bias.ipynb": {
        "n_categories": 7,
        "wilson_coverage": (0.85, 1.0),
        "wald_small_n_coverage": (0.0, 0.9),
    },
    "courses/05-eu-ai-act-for-practitioners.ipynb": {
        "quiz_consistent": True,
        "timeline_events": (5, 20),
    },
    "courses/06-data-for-ai-under-eu-rules.ipynb": {
        "pseudonyms_stable": True,
        "pseudonyms_unlinkable_without_key": True,
        "data_card_written": True,
    },
    "sandboxes/finance_credit_scoring_fairness.ipynb": {"roc_auc": (0.6, 1.0)},
    "sandboxes/cybersecurity_network_anomaly_detection.ipynb": {"f1": (0.4, 1.0)},
    "sandboxes/green_energy_load_forecasting.ipynb": {"mae_skill": (0.2, 1.0)},
    "sandboxes/space_satellite_land_cover.ipynb": {"accuracy": (0.7, 1.0)},
    "sandboxes/robustness_security_testing.ipynb": {"reference_echo_pass_rate": 0.0},
    "sandboxes/ai_act_risk_triage.ipynb": {"tier": "high_risk"},
}


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _check_expected(rel: str, metrics: dict) -> None:
    for key, want in EXPECTED.get(rel, {}).items():
        assert key in metrics, f"{rel}: metrics JSON lacks {key!r} (has {sorted(metrics)})"
        got = metrics[key]
        if isinstance(want, tuple):
            low, high = want
            assert isinstance(got, (int, float)) and low <= got <= high, f"{rel}: {key}={got!r} not in [{low}, {high}]"
        else:
            assert got == want, f"{rel}: {key}={got!r}, expected {want!r}"


@pytest.mark.timeout(2 * PER_NOTEBOOK_TIMEOUT_S + 60)
@pytest.mark.parametrize("entry", CATALOGUE.notebooks, ids=lambda e: e.path)
def test_notebook_executes(entry, tmp_path, monkeypatch):
    import papermill

    src = CATALOGUE.file(entry)
    metrics_path = tmp_path / "metrics.json"
    params = {**entry.ci_parameters, "METRICS_PATH": str(metrics_path)}
    # Keep the kernel polite on a shared CI machine.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MKL_NUM_THREADS", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    start = time.monotonic()

    def execute() -> None:
        papermill.execute_notebook(
            str(src),
            str(tmp_path / "executed.ipynb"),
            parameters=params,
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
            log_output=False,
            execution_timeout=PER_NOTEBOOK_TIMEOUT_S,
        )

    try:
        execute()
    except CellTimeoutError:
        # Rarely (seen under load) a cell's reply never reaches the client while the kernel sits
        # idle: a kernel-channel race not yet traced. One retry in a new kernel; a second hang fails.
        print(f"{entry.path}: a cell timed out with the kernel idle; retrying once in a new kernel", file=sys.stderr)
        start = time.monotonic()
        execute()
    elapsed = time.monotonic() - start
    assert metrics_path.is_file(), f"{entry.path} did not write METRICS_PATH"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    assert isinstance(metrics, dict) and metrics, "metrics JSON must be a non-empty object"
    assert _finite(metrics), f"non-finite values in metrics: {metrics}"
    _check_expected(entry.path, metrics)
    print(f"{entry.path}: {elapsed:.1f}s")
