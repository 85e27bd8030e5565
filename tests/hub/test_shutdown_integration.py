"""A hub stops cleanly: SIGTERM takes the hub, its proxy and its services down within 5 s, and a
hub that fails half-way through starting leaves no proxy behind."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.support.hub import Hub, HubExited

pytestmark = pytest.mark.integration

#: The issue's bound: everything gone this many seconds after the hub's SIGTERM.
STOP_BOUND = 5.0
#: Dashboards on, but with no dashboard to warm: the service itself, without Voila kernels.
DASHBOARDS_LIGHT = {"enabled": True, "preheat": 0, "defaults": []}


def command_lines(hub: Hub) -> list[str]:
    return hub.tree.describe(hub.tree.alive()).splitlines()


@pytest.mark.parametrize(
    "sigint",
    [signal.default_int_handler, signal.SIG_IGN],
    ids=["started-normally", "started-with-sigint-ignored"],
)
def test_sigterm_stops_hub_proxy_and_services_within_5s(slurm, unix_users, hub_workdir, sigint, request):
    """SIGTERM to the hub alone: hub, proxy, idle culler and dashboards service are all gone within 5 s,
    also for a hub started with SIGINT ignored (nohup, `&` in a script), whose services used to
    inherit the ignore and make JupyterHub's SIGINT-first stop wait 30 s for the culler."""
    workdir = hub_workdir / request.node.callspec.id
    workdir.mkdir()
    hub = Hub(workdir, unix_users, extra={"dashboards": DASHBOARDS_LIGHT})
    previous = signal.signal(signal.SIGINT, sigint)  # the hub and what it starts inherit an ignore
    try:
        hub.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    hub.tree.scan()
    running = "\n".join(command_lines(hub))
    for part in ("configurable-http-proxy", "jupyterhub_idle_culler", "aifnb_hub.dashboards.service"):
        assert part in running, f"{part} is not running under the hub:\n{running}"

    hub.stop(timeout=STOP_BOUND)  # fails, naming them, if any process is still there after 5 s
    print(f"\nhub and {len(hub.tree.known)} processes it started stopped in {hub.stop_seconds:.2f} s after SIGTERM")
    assert hub.stop_seconds < STOP_BOUND
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", hub.port)) != 0, "the public port still answers"


def test_hub_that_cannot_listen_leaves_no_proxy(slurm, unix_users, hub_workdir):
    """A hub whose API port is taken exits after it started the proxy; the proxy exits with it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        workdir: Path = hub_workdir / "port-taken"
        workdir.mkdir()
        hub = Hub(workdir, unix_users, extra={"hub": {"hub_port": taken.getsockname()[1]}})
        with pytest.raises(HubExited) as exited:
            hub.start()
    assert "Starting proxy" in hub.log(), "the hub failed before it started the proxy: the test proves nothing"
    assert exited.value.orphans == "", f"the failed hub left processes running:\n{exited.value.orphans}"
