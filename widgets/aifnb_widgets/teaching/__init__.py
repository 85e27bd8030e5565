"""Helpers shared by the upskilling courses (notebooks/courses): exercise checker, device
selection, small data generators, tool probes and metrics output. Pure Python, tested in
tests/widgets/teaching."""

from .check import Exercises, check
from .env import gpu_summary, pick_device, run_tool, write_metrics

__all__ = ["Exercises", "check", "gpu_summary", "pick_device", "run_tool", "write_metrics"]
