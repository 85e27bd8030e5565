"""The submit form of Scale & Run: pick a notebook, a profile and parameter values; submit.

The parameter fields are built from the notebook's own ``parameters`` cell, each prefilled
with its default, and every value goes through the same checks as the API and the command line,
so the form refuses exactly what ``aifnb batch submit`` refuses, naming the parameter.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from aifnb_slurm.profiles import profiles_for
from aifnb_widgets.batch.api import Submission, platform_settings, submit_notebook, user_groups
from aifnb_widgets.batch.layout import USER_ERRORS
from aifnb_widgets.batch.params import ParameterError, declared_parameters, load_yaml, parse_sweep, parse_value
from aifnb_widgets.batch.queue import current_user


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class SubmitForm:
    """``on_submitted(submission)`` runs after each successful submission (the jobs panel's
    refresh, typically). ``groups`` default to the user's groups from the hub."""

    def __init__(
        self,
        notebook: str | Path = "",
        *,
        user: str | None = None,
        groups: Iterable[str] | None = None,
        settings=None,
        on_submitted: Callable[[Submission], None] | None = None,
    ):
        self.user = user or current_user()
        self.settings = settings or platform_settings()
        self.groups = list(groups) if groups is not None else user_groups(self.user, self.settings)
        self.on_submitted = on_submitted
        self.declared: dict[str, Any] = {}
        self.last: Submission | None = None

        profiles = profiles_for(self.settings.profiles, self.groups)
        self.notebook = widgets.Text(
            value=str(notebook), description="Notebook", placeholder="path/to/notebook.ipynb", layout=widgets.Layout(width="60%")
        )
        self.load_button = widgets.Button(description="Read parameters", icon="list")
        self.profile = widgets.Dropdown(description="Profile", options=[(p.display_name, p.slug) for p in profiles])
        self.cpus = widgets.Text(description="CPUs", placeholder="profile default", layout=widgets.Layout(width="200px"))
        self.gpus = widgets.Text(description="GPUs", placeholder="profile default", layout=widgets.Layout(width="200px"))
        self.walltime = widgets.Text(description="Walltime", placeholder="HH:MM:SS", layout=widgets.Layout(width="220px"))
        self.fields = widgets.VBox()
        self.sweep = widgets.Textarea(
            description="Sweep",
            placeholder="optional YAML, e.g. LR: [0.1, 0.01]  (one run per combination)",
            layout=widgets.Layout(width="60%", height="60px"),
        )
        self.data = widgets.Textarea(
            description="Data",
            placeholder="optional YAML, e.g. DATA: credit-applications  (a parameter set to a catalogue entry's path)",
            layout=widgets.Layout(width="60%", height="40px"),
        )
        self.dry_run = widgets.Checkbox(value=False, description="dry run (show the script, submit nothing)", indent=False)
        self.submit_button = widgets.Button(description="Submit", icon="paper-plane", button_style="primary")
        self.progress = widgets.HTML()
        self.message = widgets.HTML()
        self.script = widgets.HTML()

        self.load_button.on_click(lambda _: self.load())
        self.submit_button.on_click(lambda _: self.submit())
        self.widget = widgets.VBox(
            [
                widgets.HTML("<h4>Run a notebook as a batch job</h4>"),
                widgets.HBox([self.notebook, self.load_button]),
                widgets.HBox([self.profile, self.cpus, self.gpus, self.walltime]),
                self.fields,
                self.sweep,
                self.data,
                widgets.HBox([self.submit_button, self.dry_run, self.progress]),
                self.message,
                self.script,
            ]
        )
        if notebook:
            self.load()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def load(self) -> None:
        """One text field per declared parameter, prefilled with the notebook's default."""
        try:
            self.declared = declared_parameters(Path(self.notebook.value).expanduser())
        except (OSError, ValueError, SyntaxError) as exc:
            self._say(f"cannot read the notebook's parameters: {exc}", error=True)
            return
        self.fields.children = [
            widgets.Text(
                value=_as_text(default) if default is not None else "",
                description=name,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="60%"),
            )
            for name, default in self.declared.items()
        ]
        self._say(f"{len(self.declared)} parameter(s) in the notebook's parameters cell")

    def values(self) -> dict[str, Any]:
        """Parameters whose field differs from the notebook's default, read as the declared type."""
        changed = {}
        for field in self.fields.children:
            default = self.declared.get(field.description)
            if field.value != (_as_text(default) if default is not None else ""):
                changed[field.description] = parse_value(self.declared, field.description, field.value)
        return changed

    def data_entries(self) -> dict[str, str] | None:
        """The Data field: parameter to catalogue entry name (checked by the hub at submission), or None."""
        if not self.data.value.strip():
            return None
        raw = load_yaml(self.data.value, "data")
        if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            raise ParameterError("data", "write one 'PARAMETER: entry-name' per line (see `aifnb data list`)")
        return raw

    def submit(self) -> Submission | None:
        self.progress.value = "<i>checking and submitting…</i>"
        self.submit_button.disabled = True
        try:
            sweep = parse_sweep(self.sweep.value, "the sweep field") if self.sweep.value.strip() else None
            submission = submit_notebook(
                self.notebook.value,
                profile=self.profile.value,
                parameters=self.values(),
                sweep=sweep,
                resources={"cpus": self.cpus.value, "gpus": self.gpus.value, "walltime": self.walltime.value},
                groups=self.groups,
                user=self.user,
                settings=self.settings,
                dry_run=self.dry_run.value,
                data=self.data_entries(),
            )
        except USER_ERRORS as exc:  # every refusal is shown in the form, naming the field
            self._say(str(exc), error=True)
            return None
        finally:
            self.progress.value = ""
            self.submit_button.disabled = False
        self.last = submission
        self.script.value = f"<details><summary>batch script</summary><pre>{html.escape(submission.script)}</pre></details>"
        if submission.job_id is None:
            self._say(f"dry run: {len(submission.parameter_sets)} run(s) would be submitted; nothing was sent to Slurm")
        else:
            self._say(
                f"submitted job {submission.job_id} ({len(submission.folders)} run(s)); outputs under {submission.folders[0].parent}"
            )
            if self.on_submitted:
                self.on_submitted(submission)
        return submission

    def _say(self, text: str, error: bool = False) -> None:
        self.message.value = f"<span style='color:{'#dc322f' if error else '#2aa198'}'>{html.escape(text)}</span>"
