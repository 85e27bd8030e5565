"""Helpers shared by the upskilling courses (notebooks/courses): exercise checker, device
selection, small data generators, tool probes and metrics output. Pure Python, tested in
tests/widgets/teaching."""

from .check import check, Exercises
from .env import pick_device, run_tool, gpu_summary, write_metrics

__all__ = ["check", "Exercises", "pick_device", "run_tool", "gpu_summary", "write_metrics"]
