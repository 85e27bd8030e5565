"""JupyterLab's MLflow tile: the session config registers it with jupyter-server-proxy, and the process it starts
redirects to the hub's MLflow service (or says MLflow is off). A real session opens it in
tests/hub/mlflow/test_mlflow_wiring_integration.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer

import httpx
import pytest
from traitlets.config.loader import PyFileConfigLoader

from aifnb_widgets.mlflow_launcher import Redirect, main
from tests.conftest import ROOT

SESSION_CONFIG = ROOT / "spawners" / "aifnb_spawners" / "session_config"


@pytest.fixture
def launcher():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_session_config_puts_an_mlflow_tile_in_the_launcher():
    """The session's server config names the tile and runs the redirect with the server's own Python."""
    config = PyFileConfigLoader("jupyter_server_config.py", path=str(SESSION_CONFIG)).load_config()
    mlflow = config.ServerProxy.servers["mlflow"]
    assert mlflow["command"][1:] == ["-m", "aifnb_widgets.mlflow_launcher", "{port}"]
    assert mlflow["launcher_entry"]["title"] == "MLflow" and mlflow["new_browser_tab"]


def test_tile_redirects_to_the_hubs_service(launcher, monkeypatch):
    """Any path of the tile: 302 to the session's MLFLOW_TRACKING_URI, where the hub's login applies."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://hub.example.eu/services/mlflow")
    response = httpx.get(f"{launcher}/anything?x=1")
    assert response.status_code == 302 and response.headers["location"] == "https://hub.example.eu/services/mlflow/"


def test_tile_without_the_service_says_mlflow_is_off(launcher, monkeypatch):
    """MLflow disabled on the hub (no tracking URI in the session): a page naming the setting, no redirect."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    response = httpx.get(launcher)
    assert response.status_code == 404 and "mlflow.enabled" in response.text


@pytest.mark.parametrize("argv", [[], ["80a"], ["1\n"], ["1", "2"]], ids=["none", "letters", "newline", "two"])
def test_bad_port_is_refused_with_usage(argv, capsys):
    """The port is digits only (server-proxy fills it in); anything else prints the usage."""
    assert main(argv) == 2 and "usage:" in capsys.readouterr().err


def test_tile_stops_when_the_server_that_started_it_is_gone(tmp_path):
    """The session's server (here a shell) dies without stopping the tile: the orphaned tile exits by itself
    instead of outliving the session's job as the user."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pidfile = tmp_path / "pid"
    # The shell starts the tile in the background, notes its pid and exits while the tile serves: it is orphaned.
    tile = f"{sys.executable} -m aifnb_widgets.mlflow_launcher {port} >/dev/null 2>&1"
    shell = subprocess.run(
        ["sh", "-c", f"{tile} & echo $! > {pidfile}; sleep 2; kill -0 $! && echo serving"], capture_output=True, text=True
    )
    assert shell.stdout.strip() == "serving", shell.stderr  # it ran under its parent: its exit below is the orphaning
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    pytest.fail("the orphaned MLflow tile was still running 15 s after its parent exited")
