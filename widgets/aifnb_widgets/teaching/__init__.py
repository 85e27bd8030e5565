"""Helpers shared by the upskilling courses (notebooks/courses): exercise checks and quizzes
whose answers stay in the package (``Course``), device selection, small data generators, tool
probes and metrics output. Pure Python, tested in tests/widgets/teaching."""

from .course import Course
from .env import gpu_summary, pick_device, run_tool, write_metrics

__all__ = ["Course", "gpu_summary", "pick_device", "run_tool", "write_metrics"]
