"""Viewer counting behind the kernel cap."""

from __future__ import annotations

from aifnb_hub.dashboards.viewers import Viewers


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cap_counts_renders_and_kernels_per_dashboard():
    viewers = Viewers(cap=2, grace=10, connect_timeout=30, clock=Clock())
    assert viewers.start_render("a", "v1")
    viewers.end_render("a", "v1", "k1")
    assert viewers.start_render("a", "v1")
    assert not viewers.start_render("a", "v1")  # one kernel + one render in flight
    assert viewers.start_render("b", "v1")  # the cap is per dashboard
    assert viewers.count("a") == 2 and viewers.in_use("a", "v1") and not viewers.in_use("a", "v2")


def test_a_viewer_leaves_after_the_grace_only():
    clock = Clock()
    viewers = Viewers(cap=1, grace=10, connect_timeout=30, clock=clock)
    viewers.start_render("a", "v1")
    viewers.end_render("a", "v1", "k1")
    viewers.connected("k1")
    clock.now = 100
    assert viewers.left() == []  # connected: stays whatever the time
    viewers.disconnected("k1")
    clock.now = 105
    viewers.connected("k1")  # a reload reconnects within the grace
    viewers.disconnected("k1")
    clock.now = 114
    assert viewers.left() == []
    clock.now = 116
    assert viewers.left() == [("a", "v1", "k1")]
    assert viewers.count("a") == 0 and viewers.start_render("a", "v1")


def test_a_page_whose_browser_never_connects_frees_its_slot():
    clock = Clock()
    viewers = Viewers(cap=1, grace=5, connect_timeout=30, clock=clock)
    viewers.start_render("a", "v1")
    viewers.end_render("a", "v1", None)  # failed render: no kernel
    assert viewers.count("a") == 0
    viewers.start_render("a", "v1")
    viewers.end_render("a", "v1", "k2")
    clock.now = 29  # the page's scripts may take a while before they connect
    assert viewers.left() == [] and not viewers.start_render("a", "v1")
    clock.now = 31
    assert viewers.left() == [("a", "v1", "k2")]
