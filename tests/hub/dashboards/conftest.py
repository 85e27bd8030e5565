"""A real hub with the dashboards service, its users logged in as a browser would be."""

from __future__ import annotations

import nbformat
import pytest

from tests.support.hub import Hub

#: The dashboards flow needs no Slurm session: plain hub users, one per platform group.
USERS = {"learners": "learner1", "companies": "company1", "trainers": "trainer1", "admins": "admin1"}
GALLERY = "/services/dashboards/"
#: Source text that must never reach a viewer's page.
SECRET_SOURCE = "SOURCE_MARKER_7f3a"


def slider_notebook(label: str = "value") -> bytes:
    """An IntSlider whose value is echoed in a label: the smallest interactive dashboard."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import ipywidgets as w  # {SECRET_SOURCE}\n"
            "slider = w.IntSlider(value=3, min=0, max=10, description='n')\n"
            f"out = w.Label(value='{label}: 3')\n"
            f"slider.observe(lambda change: setattr(out, 'value', f'{label}: {{change.new}}'), names='value')\n"
            "w.VBox([slider, out])"
        )
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb).encode()


#: A second trainer, to check that trainers cannot change each other's dashboards.
TRAINERS = ["trainer1", "trainer2"]


@pytest.fixture(scope="module")
def dash_hub(hub_workdir):
    """Light settings: no preheat, no default dashboards, caps of 2 viewers per dashboard and 3
    per user, quick leave detection, a 1 MiB request cap."""
    dashboards = {
        "enabled": True,
        "preheat": 0,
        "defaults": [],
        "max_kernels": 2,
        "max_kernels_per_user": 3,
        "max_body_mib": 1,
        "leave_grace": 2,
        "connect_timeout": 15,
        "execution_timeout": 30,
    }
    extra = {"dashboards": dashboards, "groups": {"trainers": {"users": TRAINERS}}}
    hub = Hub(hub_workdir, USERS, extra=extra).start()
    yield hub
    hub.stop()


def gallery_login(hub: Hub, user: str):
    """A hub login that has also been through the service's OAuth (its cookie is set)."""
    session = hub.login(user)
    response = session.client.get(GALLERY, follow_redirects=True)
    assert response.status_code == 200, response.text[:500]
    return session
