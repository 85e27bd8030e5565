"""Login fails closed: a real hub refuses to start without a chosen login, or with demo login exposed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.hub import Hub

pytestmark = pytest.mark.integration


def folder(hub_workdir: Path, name: str) -> Path:
    path = hub_workdir / name
    path.mkdir()
    return path


def site_with(hub: Hub, change) -> Hub:
    """The test hub's site file, changed by ``change(site)`` before the hub starts."""
    site = yaml.safe_load(hub.settings_path.read_text())
    change(site)
    hub.settings_path.write_text(yaml.safe_dump(site))
    return hub


def test_hub_without_auth_mode_does_not_start(unix_users, hub_workdir):
    """A site file with groups and profiles but no auth.mode stops the hub, naming the key."""
    hub = site_with(Hub(folder(hub_workdir, "no-auth"), unix_users), lambda site: site.pop("auth"))
    try:
        with pytest.raises(RuntimeError, match=r"auth\.mode: not set"):
            hub.start(timeout=30)
    finally:
        hub.stop()


def test_demo_login_on_a_public_bind_url_does_not_start(unix_users, hub_workdir):
    """Demo login on 0.0.0.0 without the acknowledgement stops the hub, naming the key that allows it."""
    hub = Hub(folder(hub_workdir, "demo-public"), unix_users)
    site_with(hub, lambda site: site["hub"].update(bind_url=f"http://0.0.0.0:{hub.port}"))
    try:
        with pytest.raises(RuntimeError, match=r"auth\.demo\.allow_non_loopback"):
            hub.start(timeout=30)
    finally:
        hub.stop()


def test_demo_login_warns_at_every_start(unix_users, hub_workdir):
    """Demo login on loopback starts, and each start logs that it is not for production."""
    hub = Hub(folder(hub_workdir, "demo-loopback"), unix_users)
    try:
        for _ in range(2):
            hub.start()
            hub.stop()
        assert hub.log().count("auth.mode is demo: one shared password logs in as any demo user") == 2
    finally:
        hub.stop()
