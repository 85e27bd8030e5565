"""Debian's chromium driven by Playwright, started and logged in the same way by every browser test
and benchmark.

Always ``/usr/bin/chromium`` (never a downloaded browser). The flags keep it off the GPU and off
the network this machine does not have: background networking, component updates and sync would
each try to reach Google's hosts at every start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.hub import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium (a Playwright Browser), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def demo_login(browser: Any, hub: Any, user: str, password: str = PASSWORD) -> Any:
    """A page in a fresh browser context, logged in to ``hub`` through its login form as ``user``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url("**/hub/**")
    return page
