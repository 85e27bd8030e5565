"""The jobs panel: the user's batch jobs (notebook runs and bias array tasks, each with its kind)
with state, pending reason, elapsed time, links to the executed notebook, the log and the
job's MLflow run (when it was submitted with the hub's MLflow service), and cancel / resubmit (resubmit is for notebook runs; a bias array is submitted again with
``aifnb bias submit``).

Refreshing asks Slurm (squeue) and reads the run folders, which can take seconds on a busy
login node, so it runs in a background thread: the kernel stays free for the user's cells and a
Voilà dashboard keeps answering. Everything the panel shows is in :attr:`JobsPanel.rows`, so
tests and notebooks read the same state the table renders.
"""

from __future__ import annotations

import html
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from aifnb_widgets import mlops
from aifnb_widgets.batch.api import JobView, cancel_job, home_of, list_jobs, resubmit
from aifnb_widgets.batch.queue import current_user

STATE_COLOURS = {
    "PENDING": "#b58900",
    "RUNNING": "#268bd2",
    "COMPLETED": "#2aa198",
    "FAILED": "#dc322f",
    "CANCELLED": "#6c71c4",
    "LOST": "#cb4b16",
}


def file_link(path: Path | None, home: Path, label: str, view: str = "lab/tree") -> str:
    """A link JupyterLab (or Voilà's server) opens: relative to the server's root, the home."""
    if path is None:
        return ""
    try:
        relative = path.relative_to(home)
    except ValueError:
        return html.escape(str(path))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return f'<a href="{html.escape(prefix)}{view}/{html.escape(str(relative))}" target="_blank">{label}</a>'


def run_link(url: str | None) -> str:
    """A link to the job's MLflow run (:func:`aifnb_widgets.mlops.job_run_link` builds and checks it)."""
    return f'<a href="{html.escape(url)}" target="_blank">run</a>' if url else ""


class JobsPanel:
    """The panel for ``user`` (default: whoever runs the kernel). Call :meth:`start` for the
    periodic background refresh; :meth:`refresh` refreshes now, in the calling thread."""

    def __init__(self, user: str | None = None, every: float = 15.0, limit: int = 50):
        self.user = user or current_user()
        self.home = Path(home_of(self.user))
        self.every = every
        self.limit = limit
        self.jobs: list[JobView] = []
        self.refreshed_at: datetime | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", tooltip="Ask Slurm now")
        self.auto = widgets.Checkbox(value=False, description=f"every {every:g} s", indent=False)
        self.busy = widgets.HTML()
        self.table = widgets.HTML()
        self.selected = widgets.Dropdown(description="Job", options=[], layout=widgets.Layout(width="260px"))
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", button_style="danger", disabled=True)
        self.resubmit_button = widgets.Button(description="Resubmit", icon="repeat", disabled=True)
        self.message = widgets.HTML()
        self.detail = widgets.HTML()

        self.refresh_button.on_click(lambda _: self.refresh_in_background())
        self.auto.observe(lambda change: self.start() if change["new"] else self.stop(), names="value")
        self.cancel_button.on_click(lambda _: self.cancel(self.selected.value))
        self.resubmit_button.on_click(lambda _: self.resubmit(self.selected.value))
        self.selected.observe(lambda _: self._render_selection(), names="value")
        self.widget = widgets.VBox(
            [
                widgets.HTML("<h4>My batch jobs</h4>"),
                widgets.HBox([self.refresh_button, self.auto, self.busy]),
                self.table,
                widgets.HBox([self.selected, self.cancel_button, self.resubmit_button]),
                self.message,
                self.detail,
            ]
        )

    def _ipython_display_(self):  # shown as the panel when it is a cell's last expression
        from IPython.display import display

        display(self.widget)

    # -- state ---------------------------------------------------------------------------

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The table's content, one dict per notebook run or bias array task, newest first."""
        return [
            {
                "job": v.slurm_id,
                "kind": v.kind,
                "notebook": v.record.label,
                "state": v.state,
                "reason": v.reason,
                "elapsed": v.elapsed,
                "executed": v.executed,
                "log": v.log,
                "error": v.error,
                "folder": v.folder,
                "mlflow": mlops.job_run_link(v.folder),
            }
            for v in self.jobs
        ]

    def row(self, slurm_id: str) -> dict[str, Any]:
        return next(r for r in self.rows if r["job"] == slurm_id)

    # -- actions -------------------------------------------------------------------------

    def refresh(self) -> None:
        with self._lock:
            self.busy.value = "<i>asking Slurm…</i>"
            try:
                self.jobs = list_jobs(self.user)[: self.limit]
                self.refreshed_at = datetime.now()
                self.busy.value = f"updated {self.refreshed_at:%H:%M:%S}"
            except Exception as exc:  # shown, not raised: a Slurm hiccup must not kill the thread
                self.busy.value = f"<span style='color:#dc322f'>refresh failed: {html.escape(str(exc))}</span>"
            self._render()

    def refresh_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.refresh, name="aifnb-jobs-refresh", daemon=True)
        thread.start()
        return thread

    def start(self) -> None:
        """Refresh every ``every`` seconds in a daemon thread until :meth:`stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="aifnb-jobs-panel", daemon=True)
        self._thread.start()
        self.auto.value = True

    def stop(self) -> None:
        self._stop.set()
        self.auto.value = False

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.every)

    def cancel(self, slurm_id: str | None) -> None:
        if not slurm_id:
            return
        try:
            cancelled = cancel_job(slurm_id, self.user)
            self._say(f"cancelled {', '.join(cancelled)}")
        except Exception as exc:
            self._say(f"could not cancel {slurm_id}: {exc}", error=True)
        self.refresh()

    def resubmit(self, slurm_id: str | None) -> None:
        if not slurm_id:
            return
        try:
            submission = resubmit(self.row(slurm_id)["folder"])
            self._say(f"resubmitted {slurm_id} as job {submission.job_id}")
        except Exception as exc:
            self._say(f"could not resubmit {slurm_id}: {exc}", error=True)
        self.refresh()

    # -- rendering -----------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.message.value = f"<span style='color:{'#dc322f' if error else '#2aa198'}'>{html.escape(text)}</span>"

    def _render(self) -> None:
        cells = []
        for r in self.rows:
            colour = STATE_COLOURS.get(r["state"], "#586e75")
            cells.append(
                f"<tr><td>{html.escape(r['job'])}</td><td>{html.escape(r['kind'])}</td><td>{html.escape(r['notebook'])}</td>"
                f"<td style='color:{colour};font-weight:bold'>{html.escape(r['state'])}</td><td>{html.escape(r['reason'])}</td>"
                f"<td>{html.escape(r['elapsed'])}</td><td>{file_link(r['executed'], self.home, 'executed')}</td>"
                f"<td>{file_link(r['log'], self.home, 'log', view='files')}</td><td>{run_link(r['mlflow'])}</td></tr>"
            )
        columns = ("job", "kind", "notebook / array", "state", "reason", "elapsed", "output", "log", "MLflow")
        header = "".join(f"<th>{h}</th>" for h in columns)
        self.table.value = f"<table><tr>{header}</tr>{''.join(cells)}</table>" if cells else "<i>No batch jobs yet.</i>"
        current = self.selected.value
        self.selected.options = [r["job"] for r in self.rows]
        self.selected.value = (
            current if current in self.selected.options else (self.selected.options[0] if self.selected.options else None)
        )
        self._render_selection()

    def _render_selection(self) -> None:
        view = next((v for v in self.jobs if v.slurm_id == self.selected.value), None)
        self.cancel_button.disabled = view is None or not view.active
        self.resubmit_button.disabled = view is None or view.kind != "batch"
        error = view.error if view is not None else ""
        self.detail.value = f"<pre style='color:#dc322f;white-space:pre-wrap'>{html.escape(error)}</pre>" if error else ""
