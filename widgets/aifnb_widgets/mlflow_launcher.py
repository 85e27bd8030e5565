"""The MLflow tile of JupyterLab's launcher: a redirect to the hub's MLflow service.

jupyter-server-proxy (session_config/jupyter_server_config.py) starts this on a loopback port
when the tile is opened and proxies ``/user/NAME/mlflow/`` to it; every request is answered with
a redirect to the session's ``MLFLOW_TRACKING_URI``, the hub's ``/services/mlflow/``, where the
hub's login applies. The service is not proxied through the session: its OAuth cookie and its
pages belong to its own path. Without the service (MLflow off) the page says so.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Redirect(BaseHTTPRequestHandler):
    """Any GET or HEAD: 302 to the service, or 404 naming the setting when there is none."""

    def do_GET(self) -> None:
        uri = os.environ.get("MLFLOW_TRACKING_URI", "")
        if uri.startswith(("http://", "https://")):
            self.send_response(302)
            self.send_header("Location", uri.rstrip("/") + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"MLflow is not enabled on this hub (mlflow.enabled in the hub's settings).\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args) -> None:  # quiet: the session's log is not the place
        pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not re.fullmatch(r"[0-9]{1,5}", args[0]):
        print("usage: python -m aifnb_widgets.mlflow_launcher PORT", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", int(args[0])), Redirect)
    threading.Thread(target=_stop_when_orphaned, args=(server, os.getppid()), daemon=True).start()
    server.serve_forever()
    return 0


def _stop_when_orphaned(server: ThreadingHTTPServer, parent: int, every: float = 1.0) -> None:
    """Stop once the session's server that started us is gone. Slurm's process tracking may not
    follow a process whose parent died (proctrack/linuxproc), so an orphaned tile would outlive
    the session's job, still running as the user."""
    while os.getppid() == parent:
        time.sleep(every)
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
