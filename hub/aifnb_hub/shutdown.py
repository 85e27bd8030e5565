"""What the hub process needs so that SIGTERM stops it, its proxy and its services within seconds.

Called from jupyterhub_config.py, in the hub's process, before the proxy or any service starts.
The proxy's own part is :class:`aifnb_hub.proxy.OwnedProxy`.
"""

from __future__ import annotations

import atexit
import gc
import signal


def prepare_clean_shutdown() -> None:
    """Hand services a default SIGINT, and let the hub's interpreter exit without a long teardown."""
    # JupyterHub stops each managed service (idle culler, dashboards) with SIGINT and waits 30 s
    # (interrupt_timeout, not configurable for services) before SIGTERM. A hub started with
    # SIGINT ignored (nohup, `jupyterhub &` in a script) handed the ignore on to the services it
    # started: the culler then took those 30 s. JupyterHub installs its own handler once running.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # After its clean-up the hub's interpreter spent 1-4 s in full garbage collections of its
    # ~300,000 objects while tearing its modules down; frozen objects are skipped, the process
    # ends anyway. atexit runs the last registered first: this runs after OwnedProxy's handler.
    atexit.register(gc.freeze)
