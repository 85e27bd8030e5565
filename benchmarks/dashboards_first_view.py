"""Time to first interactive view of the bias dashboard, cold and preheated, and the kernel cap.

Two real hubs with the dashboards service (same machine, same notebook, published by default
from the catalogue): one without preheated kernels, one with Voilà's preheat pool. Chromium
(Debian's, through Playwright) logs in and opens the dashboard; the clock stops when the
rendered cells are shown with their widgets. Then concurrent viewers open a small dashboard
until the service answers 503 ("busy") and the number served is compared with the cap.

    python benchmarks/dashboards_first_view.py            # prints figures and ratios
    python benchmarks/dashboards_first_view.py --cap 3    # cap used in the concurrency part
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hub.dashboards.conftest import GALLERY, USERS, gallery_login, slider_notebook  # noqa: E402
from tests.support.browser import chromium, demo_login  # noqa: E402
from tests.support.hub import Hub  # noqa: E402

BIAS = {"path": "sandboxes/bias_assessment.ipynb"}
BIAS_SLUG = "bias-assessment"
CONNECT_TIMEOUT = 20  # connect_timeout of the benchmark hubs (s): the cap run waits it out


def first_view(hub: Hub, browser, slug: str, timeout_ms: int) -> float:
    """Seconds from asking for the dashboard to its widgets on screen (login excluded)."""
    page = demo_login(browser, hub, USERS["learners"])
    context = page.context
    page.goto(f"{hub.url}{GALLERY}")  # the service's OAuth round trip, outside the clock
    start = time.perf_counter()
    page.goto(f"{hub.url}{GALLERY}d/{slug}/", timeout=timeout_ms)
    page.wait_for_selector("#rendered_cells .jupyter-widgets >> visible=true", timeout=timeout_ms)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def viewers_before_cap(hub: Hub, cap: int) -> tuple[int, int]:
    """Open cap + 2 pages at once; (pages served, pages refused with 503)."""
    with gallery_login(hub, USERS["trainers"]) as trainer:
        auth = {"Authorization": trainer.api.headers["Authorization"]}
        body = {"notebook": slider_notebook().decode(), "title": "Cap", "slug": "cap", "groups": ["learners"]}
        trainer.client.post(f"{GALLERY}api/dashboards", json=body, headers=auth).raise_for_status()
    with gallery_login(hub, USERS["learners"]) as learner:
        learner.client.get(f"{GALLERY}d/cap/", follow_redirects=True)  # start its Voilà server first
        time.sleep(CONNECT_TIMEOUT + 6)  # that first viewer never connected: its slot is freed
        version = learner.client.get(f"{GALLERY}d/cap/").headers["location"]
        with ThreadPoolExecutor(cap + 2) as pool:
            codes = list(pool.map(lambda _: learner.client.get(version, timeout=300).status_code, range(cap + 2)))
    return codes.count(200), codes.count(503)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=3, help="max_kernels of the concurrency run (default 3)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a first view may take (default 300)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-bench-", dir="/var/tmp"))
    workdir.chmod(0o755)
    try:
        with chromium() as browser:
            for name, preheat in (("cold", 0), ("preheated", 1)):
                (workdir / name).mkdir(mode=0o755)
                # One learner opens cap + 2 pages: the per-dashboard cap is measured, not the per-user one.
                dashboards = {
                    "enabled": True,
                    "preheat": preheat,
                    "defaults": [BIAS],
                    "connect_timeout": CONNECT_TIMEOUT,
                    "max_kernels": args.cap,
                    "max_kernels_per_user": args.cap + 2,
                }
                hub = Hub(workdir / name, USERS, extra={"dashboards": dashboards}).start()
                try:
                    if preheat:
                        # Give the pool the time a cold render takes, plus a margin, to fill.
                        time.sleep(figures["cold_s"] * 1.2 + 10)
                    figures[f"{name}_s"] = round(first_view(hub, browser, BIAS_SLUG, args.timeout * 1000), 2)
                    print(f"first interactive view, {name}: {figures[f'{name}_s']:.2f} s", flush=True)
                    if preheat:
                        served, refused = viewers_before_cap(hub, args.cap)
                        figures.update(cap=args.cap, served=served, refused=refused)
                finally:
                    hub.stop()  # raises if any process of the hub (Voila, kernels) is left
                    if hub.stop_seconds is not None:
                        print(f"hub stopped in {hub.stop_seconds:.2f} s after SIGTERM, no process left", flush=True)
            browser.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"preheated vs cold: {figures['cold_s'] / figures['preheated_s']:.1f}x faster first view")
    print(
        f"concurrent viewers served before the cap: {figures['served']} of {args.cap + 2} (cap {args.cap}), {figures['refused']} got 503"
    )
    print(f"served / cap: {figures['served'] / args.cap:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
