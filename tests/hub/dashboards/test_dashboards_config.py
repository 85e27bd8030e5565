"""apply_dashboards: a managed service with least-privilege roles, appended to what is there."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys

import pytest
from traitlets.config import Config

from aifnb_hub.apply import apply_culler, apply_roles
from aifnb_hub.dashboards import ACCESS_SCOPE, PUBLISH_SCOPE
from aifnb_hub.dashboards.config import apply_dashboards
from aifnb_hub.dashboards.runners import RunnerError, UidPool
from aifnb_hub.settings import DashboardsSection, SettingsError, load_settings


def configured(tmp_path, **dashboards):
    site = tmp_path / "site.yaml"
    site.write_text(json.dumps({"hub": {"data_dir": str(tmp_path / "data")}, "dashboards": dashboards}))
    settings = load_settings(site)
    c = Config()
    apply_roles(c, settings)
    apply_culler(c, settings)
    apply_dashboards(c, settings, environ={"AIFNB_CATALOGUE": "/srv/catalogue.yaml"})
    return c, settings


def test_service_is_appended_with_resolved_options(tmp_path):
    c, _ = configured(tmp_path, port=0)
    names = [s["name"] for s in c.JupyterHub.services]
    assert names == ["idle-culler", "dashboards"]
    service = c.JupyterHub.services[1]
    options = json.loads(service["environment"]["AIFNB_DASHBOARDS"])
    assert options["port"] > 0 and service["url"] == f"http://127.0.0.1:{options['port']}"
    assert options["store_dir"] == str(tmp_path / "dashboards")  # beside data_dir, which is private
    assert service["environment"]["AIFNB_CATALOGUE"] == "/srv/catalogue.yaml"
    assert service["environment"]["JUPYTER_NO_CONFIG"] == "1"
    assert service["oauth_client_allowed_scopes"] == [PUBLISH_SCOPE]


def test_roles_are_appended_and_least_privilege(tmp_path):
    c, settings = configured(tmp_path)
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert {"admin", "idle-culler"} <= set(roles)  # the lead's roles are kept
    assert roles["dashboards-service"]["scopes"] == ["list:groups", "read:groups:name"]
    assert roles["dashboards-viewer"] == {
        "name": "dashboards-viewer",
        "scopes": [ACCESS_SCOPE],
        "groups": sorted(settings.groups),
    }
    assert roles["dashboards-publisher"]["groups"] == ["trainers", "admins"]
    assert PUBLISH_SCOPE in c.JupyterHub.custom_scopes
    assert PUBLISH_SCOPE in c.Spawner.server_token_scopes and "access:servers!server" in c.Spawner.server_token_scopes
    assert c.Spawner.environment["AIFNB_DASHBOARDS_URL"].endswith("/services/dashboards/")


def test_disabled_adds_nothing(tmp_path):
    c, _ = configured(tmp_path, enabled=False)
    assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler"]
    assert "custom_scopes" not in c.JupyterHub


def test_embedded_defaults_publish_the_bias_dashboard_and_two_more():
    defaults = [d.path for d in load_settings().dashboards.defaults]
    assert "sandboxes/bias_assessment.ipynb" in defaults and len(defaults) >= 3


def test_a_hub_that_is_not_root_stops_naming_the_setting(tmp_path):
    """Dashboard code never runs as the hub's account: a non-root hub with dashboards on does not start."""
    site = tmp_path / "site.yaml"
    site.write_text(json.dumps({"hub": {"data_dir": str(tmp_path / "data")}}))
    with pytest.raises(SettingsError, match=r"dashboards\.enabled: false"):
        apply_dashboards(Config(), load_settings(site), environ={}, euid=65534)


def test_the_service_itself_refuses_to_run_as_an_ordinary_account():
    """Started as an ordinary account anyway, the service exits at once with the same message."""
    result = subprocess.run(
        [sys.executable, "-m", "aifnb_hub.dashboards.service"],
        user=65534,
        group=65534,
        extra_groups=[],
        cwd="/",
        env={"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "not root" in result.stderr and "dashboards.enabled: false" in result.stderr


def test_kernel_uid_pool_skips_accounts_and_runs_out_cleanly():
    """The pool hands out uids without a passwd entry, each once, and says when it is empty."""
    first, last = 65530, 65535  # nobody (65534) is in the middle on Debian
    free = [uid for uid in range(first, last + 1) if not has_account(uid)]
    assert len(free) < 6
    pool = UidPool(first, last)
    assert [pool.take() for _ in free] == free
    with pytest.raises(RunnerError, match="no free kernel uid"):
        pool.take()
    pool.give_back(free[0])
    assert pool.take() == free[0]


def has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def test_kernel_uids_are_checked():
    """A uid range that starts in the system accounts or runs backwards is refused with its key."""
    with pytest.raises(ValueError, match="kernel_uids"):
        DashboardsSection(kernel_uids=(100, 200))
    with pytest.raises(ValueError, match="kernel_uids"):
        DashboardsSection(kernel_uids=(64001, 64000))
