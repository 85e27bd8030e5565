"""Viewer counting behind the kernel caps, and the kernel ids that admit a page to its kernel."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from aifnb_hub.dashboards.runners import Runners, uid_pids
from aifnb_hub.dashboards.viewers import Caps, Viewers
from aifnb_hub.settings import DashboardsSection

ANN = {"name": "ann", "groups": ["learners"]}
BOB = {"name": "bob", "groups": ["learners"]}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def viewers(
    dashboard: int = 8, user: int = 8, total: int = 32, grace: float = 10, connect_timeout: float = 30, clock=None
) -> Viewers:
    return Viewers(Caps(dashboard, user, total), grace, connect_timeout, clock or Clock())


def test_cap_counts_renders_and_kernels_per_dashboard():
    """A dashboard's cap counts pages being rendered and live kernels; other dashboards are not affected."""
    v = viewers(dashboard=2)
    assert v.start_render("a", "v1", ANN) is None
    v.end_render("a", "v1", ANN, "k1")
    assert v.start_render("a", "v1", BOB) is None
    assert v.start_render("a", "v1", BOB) == "dashboard"  # one kernel + one render in flight
    assert v.start_render("b", "v1", ANN) is None
    assert v.count("a") == 2 and v.in_use("a", "v1") and not v.in_use("a", "v2")


def test_per_user_and_total_caps():
    """One user holds at most their cap, all dashboards together; the total caps everyone."""
    v = viewers(user=2, total=3)
    for slug in ("a", "b"):
        assert v.start_render(slug, "v1", ANN) is None
        v.end_render(slug, "v1", ANN, f"k-{slug}")
    assert v.start_render("c", "v1", ANN) == "user"
    assert v.count_user("ann") == 2
    assert v.start_render("c", "v1", BOB) is None
    assert v.start_render("d", "v1", BOB) == "total"


def test_a_kernel_id_names_its_viewer_for_its_version_only():
    """The kernel id handed to a page admits that page's viewer, for that dashboard version only, until they leave."""
    clock = Clock()
    v = viewers(grace=5, clock=clock)
    v.start_render("a", "v1", ANN)
    v.end_render("a", "v1", ANN, "k1")
    assert v.viewer("a", "v1", "k1") == ANN
    assert v.viewer("a", "v2", "k1") is None and v.viewer("b", "v1", "k1") is None and v.viewer("a", "v1", "k2") is None
    clock.now = 31
    assert v.left() == [("a", "v1", "k1")]
    assert v.viewer("a", "v1", "k1") is None


def test_a_viewer_leaves_after_the_grace_only():
    """A closed websocket frees its kernel only after the grace, so a reload keeps it."""
    clock = Clock()
    v = viewers(dashboard=1, grace=10, clock=clock)
    v.start_render("a", "v1", ANN)
    v.end_render("a", "v1", ANN, "k1")
    v.connected("k1")
    clock.now = 100
    assert v.left() == []  # connected: stays whatever the time
    v.disconnected("k1")
    clock.now = 105
    v.connected("k1")  # a reload reconnects within the grace
    v.disconnected("k1")
    clock.now = 114
    assert v.left() == []
    clock.now = 116
    assert v.left() == [("a", "v1", "k1")]
    assert v.count("a") == 0 and v.start_render("a", "v1", ANN) is None


def test_a_page_whose_browser_never_connects_frees_its_slot():
    """A page that never opens its websocket holds its slot for connect_timeout only."""
    clock = Clock()
    v = viewers(dashboard=1, grace=5, clock=clock)
    v.start_render("a", "v1", ANN)
    v.end_render("a", "v1", ANN, None)  # failed render: no kernel
    assert v.count("a") == 0
    v.start_render("a", "v1", ANN)
    v.end_render("a", "v1", ANN, "k2")
    clock.now = 29  # the page's scripts may take a while before they connect
    assert v.left() == [] and v.start_render("a", "v1", BOB) == "dashboard"
    clock.now = 31
    assert v.left() == [("a", "v1", "k2")]


def test_a_restarted_service_kills_what_a_killed_one_left_under_pool_uids(tmp_path):
    """Processes under the pool's account-less uids (a SIGKILLed service's Voilà and kernels) die when Runners start."""
    if os.geteuid() != 0:
        pytest.fail("needs root: it starts a process under a pool uid")
    orphan = subprocess.Popen(["setpriv", "--reuid=64990", "--regid=64990", "--clear-groups", "sleep", "300"])
    try:
        deadline = time.monotonic() + 5
        while not uid_pids(64990) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uid_pids(64990), "the stand-in orphan did not start"
        Runners(DashboardsSection(kernel_uids=(64980, 64999)), "/services/dashboards/")
        orphan.wait(timeout=5)
        assert uid_pids(64990) == []
    finally:
        orphan.kill()
        orphan.wait()
