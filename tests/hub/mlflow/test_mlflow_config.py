"""The mlflow: settings and apply_mlflow: schema errors by key, least-privilege roles, sessions' variables, nothing secret on argv."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from aifnb_hub.apply import apply_roles, apply_spawner
from aifnb_hub.mlflow_service import ACCESS_SCOPE
from aifnb_hub.mlflow_service.config import apply_mlflow
from aifnb_hub.mlflow_service.service import auth_config, server_command
from aifnb_hub.settings import SettingsError, load_settings

POSTGRES = "postgresql://mlflow:s3cret-pw@db.example.eu/mlflow"


def settings_with(tmp_path, **mlflow):
    site = tmp_path / "site.yaml"
    site.write_text(
        json.dumps({"hub": {"data_dir": str(tmp_path / "data"), "bind_url": "https://hub.example.eu"}, "mlflow": mlflow})
    )
    return load_settings(site)


def configured(tmp_path, **mlflow):
    settings = settings_with(tmp_path, **{"enabled": True, **mlflow})
    c = Config()
    apply_roles(c, settings)
    apply_spawner(c, settings, "/srv/content")
    apply_mlflow(c, settings)
    return c, settings


@pytest.mark.parametrize(
    ("mlflow", "message"),
    [
        ({"enabeld": True}, "mlflow.enabeld: unknown key"),
        ({"default_permission": "EDIT"}, "mlflow.default_permission:"),
        ({"port": 70000}, "mlflow.port:"),
        ({"admin_groups": ["Bad Group"]}, "mlflow.admin_groups.0:"),
    ],
    ids=["typo", "permission", "port", "group-name"],
)
def test_bad_mlflow_settings_stop_the_hub_naming_the_key(tmp_path, mlflow, message):
    """A misspelt or out-of-range mlflow: key is refused with its path."""
    with pytest.raises(SettingsError, match=message):
        settings_with(tmp_path, **mlflow)


def test_on_by_default_with_zero_configuration(tmp_path):
    """The embedded default runs the service with SQLite and artifacts under hub.data_dir/mlflow/."""
    settings = settings_with(tmp_path)
    c = Config()
    apply_mlflow(c, settings)
    [service] = c.JupyterHub.services
    options = json.loads(service["environment"]["AIFNB_MLFLOW"])
    state = tmp_path / "data" / "mlflow"
    assert settings.mlflow.enabled and service["name"] == "mlflow"
    assert options["backend_store_uri"] == f"sqlite:///{state / 'mlflow.db'}"
    assert options["artifacts_destination"] == str(state / "artifacts")


def test_disabled_adds_nothing(tmp_path):
    """A site that turns the service off gets a hub without it and sessions without MLflow variables."""
    settings = settings_with(tmp_path, enabled=False)
    c = Config()
    apply_mlflow(c, settings)
    assert not settings.mlflow.enabled and "services" not in c.JupyterHub and "environment" not in c.Spawner


def test_unknown_admin_group_is_refused(tmp_path):
    """admin_groups must name groups of the settings."""
    with pytest.raises(SettingsError, match=r"mlflow\.admin_groups: unknown group"):
        configured(tmp_path, admin_groups=["auditors"])


def test_service_roles_and_session_environment(tmp_path):
    """Least privilege for the service; every user may use it; sessions get the URI and their own token, other variables kept."""
    c, settings = configured(tmp_path)
    service = next(s for s in c.JupyterHub.services if s["name"] == "mlflow")
    options = json.loads(service["environment"]["AIFNB_MLFLOW"])
    assert service["url"] == f"http://127.0.0.1:{options['port']}"
    assert options["backend_store_uri"] == f"sqlite:///{tmp_path}/data/mlflow/mlflow.db"
    assert options["artifacts_destination"] == f"{tmp_path}/data/mlflow/artifacts"
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["mlflow-service"] == {
        "name": "mlflow-service",
        "scopes": ["read:users:name", "read:users:groups"],
        "services": ["mlflow"],
    }
    assert {"self", ACCESS_SCOPE} <= set(roles["user"]["scopes"])  # other services add their own
    assert "admin" in roles, "apply_roles' roles are kept"
    assert ACCESS_SCOPE in c.Spawner.server_token_scopes and "read:users:groups!user" in c.Spawner.server_token_scopes
    env = c.Spawner.environment
    assert env["MLFLOW_TRACKING_URI"] == "https://hub.example.eu/services/mlflow"
    assert "PATH" in env, "apply_spawner's variables are kept"
    spawner = SimpleNamespace(api_token="session-token", user=SimpleNamespace(name="alice"))
    assert env["MLFLOW_TRACKING_TOKEN"](spawner) == "session-token"
    assert env["MLFLOW_EXPERIMENT_NAME"](spawner) == "alice"
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == str(settings.mlflow.request_retries)


def test_store_uris_and_secrets_never_reach_argv(tmp_path):
    """A PostgreSQL password in backend_store_uri travels in the environment, not on the server's command line."""
    c, _ = configured(tmp_path, backend_store_uri=POSTGRES, auth_database_uri=POSTGRES)
    service = next(s for s in c.JupyterHub.services if s["name"] == "mlflow")
    options = json.loads(service["environment"]["AIFNB_MLFLOW"])
    argv = " ".join(service["command"] + server_command(options))
    assert "s3cret" not in argv and "postgresql" not in argv
    assert "--app-name aifnb-hub" in argv and "--host 127.0.0.1" in argv
    assert "hub.example.eu" in options["allowed_hosts"] and options["public_origin"] == "https://hub.example.eu"
    ini = auth_config(options)
    assert "authorization_function = aifnb_hub.mlflow_service.identity:authenticate" in ini
    assert "default_permission = NO_PERMISSIONS" in ini and "admin_password" not in ini
