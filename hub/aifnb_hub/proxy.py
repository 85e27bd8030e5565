"""configurable-http-proxy that never outlives a hub that failed to start.

JupyterHub 6.1 starts the proxy in a session of its own (so a Ctrl-C on the hub does not reach
it) and stops it only in its shutdown path. When start-up fails after the proxy was spawned,
it calls ``sys.exit`` without stopping it: the pid file cannot be written, the proxy's
endpoints do not answer within 15 s, the hub's own port is taken, a managed service does not
come up. The proxy then keeps the public port until someone kills it. This subclass stops it
when the hub's interpreter exits, whatever the reason, and waits for it, so a hub that has
exited has no proxy left.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess

from jupyterhub.proxy import ConfigurableHTTPProxy
from traitlets import Float


class OwnedProxy(ConfigurableHTTPProxy):
    """ConfigurableHTTPProxy stopped at the hub's exit, also when the hub never finished starting."""

    exit_timeout = Float(
        3.0,
        help="Seconds the exiting hub waits for the proxy after SIGTERM before it sends SIGKILL.",
    ).tag(config=True)

    _exit_hook = False

    async def start(self) -> None:
        # JupyterHub calls start() again when the proxy dies; one hook serves every process.
        if not self._exit_hook:
            atexit.register(self._stop_at_exit)
            self._exit_hook = True
        await super().start()

    def _stop_at_exit(self) -> None:
        proc = getattr(self, "proxy_process", None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(self.exit_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # A stale pid file would make the next hub signal whatever process reuses that pid.
        with contextlib.suppress(OSError):
            self._remove_process_files()
