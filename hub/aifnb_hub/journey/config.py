"""Turn the settings into the journey's JupyterHub configuration: the home template and its
per-user data, the landing page, the handlers, the progress scope and the store."""

from __future__ import annotations

from pathlib import Path

from jupyterhub.utils import url_path_join
from traitlets.config import Config

from ..catalogue import Catalogue
from ..settings import Settings
from .handlers import PROGRESS_SCOPE, handlers
from .home import Journey
from .progress import ProgressStore
from .workshops import WorkshopStore

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def home_url(handler) -> str:
    """Where a user lands after login or at ``/``: the services home, not the spawn form."""
    return url_path_join(handler.hub.base_url, "home")


def progress_dir(s: Settings) -> Path:
    """The hub's copy of the users' progress, beside its database."""
    return s.hub.data_dir / "progress"


def workshops_file(s: Settings) -> Path:
    """The workshops trainers declare on the hub; the spawner reads it too."""
    return s.hub.data_dir / "workshops.json"


def apply_journey(c: Config, s: Settings, catalogue: Catalogue) -> Journey:
    """The home, its links, the progress endpoint, the trainers' view and workshop form; returns the journey."""
    journey = Journey(
        settings=s, catalogue=catalogue, store=ProgressStore(progress_dir(s)), declared=WorkshopStore(workshops_file(s))
    )
    c.FactorySlurmSpawner.workshops_file = str(workshops_file(s))
    c.JupyterHub.template_paths = [*c.JupyterHub.get("template_paths", []), str(TEMPLATES)]
    c.JupyterHub.template_vars = {
        **c.JupyterHub.get("template_vars", {}),
        "journey": journey.home,
        "content_dir": s.content.target_dir,
    }
    c.JupyterHub.default_url = home_url
    c.JupyterHub.extra_handlers = [*c.JupyterHub.get("extra_handlers", []), *handlers(journey, s.content.target_dir)]
    c.JupyterHub.custom_scopes = {
        **c.JupyterHub.get("custom_scopes", {}),
        PROGRESS_SCOPE: {"description": "Report and read one's own course progress (exercise checks, quiz answers)"},
    }
    return journey
