"""Where am I running? Device choice, cluster tool probes and the metrics JSON."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from aifnb_widgets.metrics import write_metrics

__all__ = ["gpu_summary", "pick_device", "run_tool", "write_metrics"]


def pick_device(device: str = "auto") -> str:
    """ "auto" -> "cuda" when a GPU is visible, else "cpu"; any other value is returned as given
    (after checking that "cuda" is actually available)."""
    from aifnb_widgets.torch_runtime import resolve_device

    return str(resolve_device(device))


def run_tool(argv: list[str], timeout: float = 20.0) -> tuple[bool, str]:
    """Run a command-line tool if it is installed. Returns (ran_ok, text); when the tool is
    absent, text explains that instead of raising."""
    exe = shutil.which(argv[0])
    if exe is None:
        return False, f"`{argv[0]}` is not installed here (normal on a laptop or a CPU-only CI runner)."
    try:
        proc = subprocess.run([exe, *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`{' '.join(argv)}` could not run: {exc}"
    text = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, text


def gpu_summary() -> dict[str, Any]:
    """What torch sees: CUDA availability, device count and names, memory, and the Slurm
    variables a GPU job sets."""
    import torch

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device_count": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "devices": [],
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "SLURM_JOB_ID": os.environ.get("SLURM_JOB_ID"),
        "SLURM_JOB_PARTITION": os.environ.get("SLURM_JOB_PARTITION"),
    }
    for i in range(info["device_count"]):
        props = torch.cuda.get_device_properties(i)
        info["devices"].append({"index": i, "name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)})
    return info
