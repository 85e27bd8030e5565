import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_mode_runs(tmp_path):
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bias_throughput.py"), "--quick", "--prompts", "4", "--batch-size", "4", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "prompts/s" in result.stdout and "speed-up" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["prompts"] == 4 and figures["one_per_call_prompts_per_s"] > 0 and figures["batched_prompts_per_s"] > 0
