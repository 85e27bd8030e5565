import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_mode_runs(tmp_path):
    """The benchmark prints both figures and writes them as JSON."""
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bias_throughput.py"),
            "--quick",
            "--prompts",
            "4",
            "--batch-size",
            "4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "prompts/s" in result.stdout and "speed-up" in result.stdout and "engine overhead" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["prompts"] == 4 and figures["one_per_call_prompts_per_s"] > 0 and figures["batched_prompts_per_s"] > 0
    assert figures["engine_overhead_prompts"] >= 3000


def test_engine_overhead_is_below_half_a_second_per_3000_prompts():
    """The engine's own cost with an instant backend: ≤ 0.5 s per 3,000 prompts (was ~40 s)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bias_throughput", ROOT / "benchmarks" / "bias_throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seconds, prompts = module.engine_overhead()
    assert prompts >= 3000 and seconds <= module.TARGET_OVERHEAD_S
