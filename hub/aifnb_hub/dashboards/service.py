"""Entry point of the hub-managed dashboards service (``python -m aifnb_hub.dashboards.service``).

The hub starts it with the JUPYTERHUB_* variables of a managed service and the resolved
dashboards settings in AIFNB_DASHBOARDS (written by :func:`.config.apply_dashboards`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web

from ..settings import DashboardsSection
from .app import DashboardsApp
from .handlers import (
    DashboardAPIHandler,
    DashboardListAPIHandler,
    GalleryHandler,
    OpenHandler,
    PublishFormHandler,
    ThumbnailHandler,
    UnpublishFormHandler,
)
from .proxy import KERNEL_ID, KernelSocketProxyHandler, VoilaProxyHandler
from .runners import not_root_message

SLUG = r"([a-z0-9][a-z0-9-]{0,47})"
VERSION = r"([0-9T]+-[0-9a-f]+)"
HOUSEKEEPING_SECONDS = 5


def make_app(dashboards: DashboardsApp) -> web.Application:
    prefix = dashboards.prefix
    version = f"{prefix}d/{SLUG}/v/{VERSION}/"
    return web.Application(
        [
            (prefix, GalleryHandler),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (f"{prefix}publish", PublishFormHandler),
            (f"{prefix}unpublish/{SLUG}", UnpublishFormHandler),
            (f"{prefix}api/dashboards", DashboardListAPIHandler),
            (f"{prefix}api/dashboards/{SLUG}", DashboardAPIHandler),
            (f"{prefix}thumb/{SLUG}", ThumbnailHandler),
            (f"{prefix}d/{SLUG}/?", OpenHandler),
            (f"{version}(api/kernels/({KERNEL_ID})/channels)", KernelSocketProxyHandler),
            (f"{version}(voila/query/({KERNEL_ID}))", KernelSocketProxyHandler),
            (f"{version}(.*)", VoilaProxyHandler),
        ],
        dashboards=dashboards,
        cookie_secret=os.urandom(32),
        websocket_ping_interval=30,
        compress_response=True,
    )


async def run(options: DashboardsSection) -> None:
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    dashboards = DashboardsApp(options, prefix, os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    dashboards.publish_defaults()
    # A body over the cap is refused from its Content-Length (or as soon as a chunked one passes
    # it), before it is read: tornado answers 400 and closes, whoever sent it.
    cap = options.max_body_mib * 2**20
    make_app(dashboards).listen(options.port, "127.0.0.1", max_body_size=cap, max_buffer_size=cap + 2**16)
    logging.getLogger("aifnb.dashboards").info("dashboards service on 127.0.0.1:%d%s", options.port, prefix)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    warming = asyncio.ensure_future(dashboards.warm_all())  # kept: the loop holds tasks weakly
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), HOUSEKEEPING_SECONDS)
            except TimeoutError:
                try:
                    await dashboards.housekeeping()
                except Exception:  # one failed pass must not stop the service; the next retries
                    logging.getLogger("aifnb.dashboards").exception("housekeeping failed")
    finally:
        warming.cancel()
        dashboards.runners.stop_all()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s dashboards] %(message)s")
    if os.geteuid() != 0:  # dashboard code never runs as the hub's account (apply_dashboards stops such a hub first)
        logging.getLogger("aifnb.dashboards").error("%s", not_root_message(os.geteuid()))
        raise SystemExit(1)
    asyncio.run(run(DashboardsSection.model_validate_json(os.environ["AIFNB_DASHBOARDS"])))


if __name__ == "__main__":
    main()
