"""A "Publish as dashboard" panel for a trainer's notebook, calling the same API as aifnb-publish.

The panel only collects the fields; whether the user may publish is decided by the service
(a learner who runs it gets the service's 403 message in the panel).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import ipywidgets as w

from ..catalogue import Sector, Service
from .publish import PublishError, publish_notebook


class PublishPanel(w.VBox):
    """Title, description, groups, service and sector for one notebook, and a Publish button."""

    def __init__(self, notebook: str | Path, *, groups: str = "learners", url: str | None = None, token: str | None = None):
        self.notebook = Path(notebook)
        self._url, self._token = url, token
        self.title = w.Text(value=self.notebook.stem.replace("_", " "), description="Title")
        self.description = w.Textarea(description="Description")
        self.groups = w.Text(value=groups, description="Groups", placeholder="learners, companies")
        self.service = w.Dropdown(options=[("–", "")] + [(s.value, s.value) for s in Service], description="Service")
        self.sector = w.Dropdown(options=[("–", "")] + [(s.value, s.value) for s in Sector], description="Sector")
        self.button = w.Button(description="Publish", button_style="primary", icon="upload")
        self.status = w.HTML()
        self.button.on_click(lambda _: self.publish())
        super().__init__([self.title, self.description, self.groups, self.service, self.sector, self.button, self.status])

    def publish(self) -> dict | None:
        """Publish with the current fields; the result (link or refusal) is shown in the panel."""
        self.button.disabled = True
        try:
            model = publish_notebook(
                self.notebook,
                title=self.title.value,
                description=self.description.value,
                groups=[g.strip() for g in self.groups.value.split(",") if g.strip()],
                service=self.service.value,
                sector=self.sector.value,
                url=self._url,
                token=self._token,
            )
        except (PublishError, OSError) as exc:
            self.status.value = f'<span style="color:#b42318">Not published: {escape(str(exc))}</span>'
            return None
        finally:
            self.button.disabled = False
        self.status.value = f'Published: <a href="{escape(model["url"])}" target="_blank">{escape(model["title"])}</a>'
        return model
