"""The MLflow service with its stores in a real PostgreSQL server: runs, registry and permissions live there."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.hub.mlflow.conftest import ALICE, BOB, Tracking, start_mlflow_hub, user_token, wait_mlflow

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_hub(slurm, unix_users, hub_workdir, postgres):
    """A hub whose MLflow keeps runs and registry in one PostgreSQL database and its permissions in another."""
    stores = {"backend_store_uri": postgres.database("mlflow_store"), "auth_database_uri": postgres.database("mlflow_auth")}
    hub = start_mlflow_hub(hub_workdir, stores)
    hub.stores = stores
    wait_mlflow(hub)
    yield hub
    hub.stop()


def test_runs_registry_and_permissions_are_stored_in_postgresql(pg_hub, postgres):
    """Experiment, run, metric and registered model land in PostgreSQL, still private to their owner; no SQLite file is made."""
    with Tracking(pg_hub, user_token(pg_hub, ALICE)) as alice, Tracking(pg_hub, user_token(pg_hub, BOB)) as bob:
        experiment = alice.create_experiment("alice-on-postgres")
        run = alice.create_run(experiment)["info"]["run_id"]
        alice.ok(alice.post("runs/log-metric", {"run_id": run, "key": "f1", "value": 0.9, "timestamp": 0}))
        alice.ok(alice.post("registered-models/create", {"name": "alice-pg-model"}))
        assert bob.get("experiments/get", experiment_id=experiment).status_code == 403
        assert bob.get("registered-models/get", name="alice-pg-model").status_code == 403
    store = "mlflow_store"
    assert ("alice-on-postgres",) in postgres.execute("SELECT name FROM experiments", database=store)
    assert postgres.execute("SELECT key, value FROM metrics WHERE run_uuid = %s", (run,), database=store) == [("f1", 0.9)]
    assert ("alice-pg-model",) in postgres.execute("SELECT name FROM registered_models", database=store)
    users = {name for (name,) in postgres.execute("SELECT username FROM users", database="mlflow_auth")}
    assert {ALICE, BOB} <= users
    state = Path(pg_hub.workdir) / "data" / "mlflow"
    assert sorted(p.name for p in state.glob("*.db")) == []
    cmdlines = [p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if _readable(p)]
    passwords = [urlsplit(uri).password.encode() for uri in pg_hub.stores.values()]
    assert not [c for c in cmdlines if any(p in c for p in passwords)], "a database password is on a command line"


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True
