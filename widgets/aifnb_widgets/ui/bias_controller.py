"""What the bias dashboard does, without any widget: validate input, run in a thread, keep state.

Keeping this free of ipywidgets lets tests and scripts drive exactly what the buttons drive,
and keeps the kernel responsive: the engine runs in a worker thread, reports progress per
batch and stops between batches when cancelled, with its records kept on disk.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from aifnb_data.access import DataAccessError
from aifnb_data.client import CATALOGUE_SPEC, resolve_model_spec
from aifnb_slurm.validate import InvalidValue
from aifnb_widgets.backends.factory import validate_model_spec
from aifnb_widgets.bias.results import Assessment, assess_run_dirs
from aifnb_widgets.bias.runner import run_scenario
from aifnb_widgets.bias.scenario import default_scenario


@dataclass(frozen=True)
class RunRequest:
    models: list[str]
    concerns: list[str]
    languages: list[str]
    n_templates: int
    seed: int
    run_dir: Path | None = None


class BiasController:
    def __init__(
        self,
        on_progress: Callable[[int, int], None] = lambda done, total: None,
        on_finished: Callable[[BiasController], None] = lambda controller: None,
    ):
        self.on_progress = on_progress
        self.on_finished = on_finished
        self.assessment: Assessment | None = None
        self.error: str | None = None
        self.cancelled = False
        self.run_dir: Path | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def validate(self, request: RunRequest) -> list[str]:
        """Problems with the request, each naming the field; empty when it can run."""
        problems = []
        if not request.models:
            problems.append("models: enter at least one model path, Hugging Face id or URL#MODEL")
        for model in request.models:
            if model.startswith(CATALOGUE_SPEC):
                continue  # resolved by the hub at start, which refuses an entry not shared with the user
            try:
                validate_model_spec(model)
            except ValueError as exc:
                problems.append(f"models: {exc}")
            if model.startswith((".", "/", "~")) and not Path(model).expanduser().is_dir():
                problems.append(f"models: model path {model} does not exist")
        if not request.concerns:
            problems.append("categories: choose at least one")
        if not request.languages:
            problems.append("languages: choose at least one")
        return problems

    def start(self, request: RunRequest) -> bool:
        """Start a run in the background; False (with ``error`` set) when refused."""
        if self.running:
            self.error = "a run is already in progress"
            return False
        problems = self.validate(request)
        if problems:
            self.error = "; ".join(problems)
            return False
        try:
            request = replace(request, models=[resolve_model_spec(m, "bias") for m in request.models])
        except (DataAccessError, InvalidValue) as exc:
            self.error = f"models: {exc}"
            return False
        self.assessment, self.error, self.cancelled = None, None, False
        self._cancel.clear()
        self.run_dir = Path(request.run_dir or tempfile.mkdtemp(prefix="aifnb-bias-"))
        self._thread = threading.Thread(target=self._work, args=(request,), name="aifnb-bias-run", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self, request: RunRequest) -> None:
        try:
            scenario = default_scenario(
                languages=request.languages,
                concerns=request.concerns,
                n_templates=request.n_templates,
                seed=request.seed,
            )
            summaries = run_scenario(scenario, request.models, self.run_dir, progress=self.on_progress, cancel=self._cancel)
            self.cancelled = any(s.cancelled for s in summaries)
            self.assessment = assess_run_dirs([self.run_dir])
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            try:
                self.assessment = assess_run_dirs([self.run_dir])
            except Exception:
                self.assessment = None
        finally:
            self.on_finished(self)
