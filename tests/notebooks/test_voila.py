"""Every ``dashboard: true`` catalogue entry renders under a real Voila server.

One ``voila`` process (the venv's executable) serves the notebooks folder on a free
127.0.0.1 port for the whole module, with sources stripped and a throw-away Jupyter config
dir so the host's configuration does not leak in. Each dashboard must answer HTTP 200, carry
widget output, show no error and no source code.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from aifnb_hub.catalogue import load_catalogue

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
DASHBOARDS = CATALOGUE.dashboards()
VOILA = Path(sys.executable).with_name("voila")
STARTUP_TIMEOUT_S = 90
RENDER_TIMEOUT_S = 120
ERROR_MARKERS = ("There was an error when executing cell", "Traceback (most recent call last)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", errors="replace")
        exc.close()
        return exc.code, body


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    if not DASHBOARDS:
        pytest.skip("no dashboard entries in the catalogue")
    assert VOILA.is_file(), f"voila executable not found next to {sys.executable}"
    tmp = tmp_path_factory.mktemp("voila")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    (tmp / "config").mkdir()
    port = _free_port()
    log_path = tmp / "voila.log"
    cmd = [
        str(VOILA),
        str(CATALOGUE.root),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--strip_sources=True",
        "--show_tracebacks=False",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(tmp))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"voila exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
            try:
                status, _ = _get(base + "/", timeout=5)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"voila did not answer in {STARTUP_TIMEOUT_S}s:\n{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _render(url: str) -> tuple[int, str]:
    """The whole page within RENDER_TIMEOUT_S in all: a socket timeout alone never trips on a
    stalled render, which still sends bytes now and then."""
    outcome: list = []

    def fetch() -> None:
        try:
            outcome.append(_get(url, timeout=RENDER_TIMEOUT_S))
        except Exception as exc:  # handed to the test's thread below
            outcome.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(RENDER_TIMEOUT_S)
    if not outcome:
        raise TimeoutError(f"no complete page within {RENDER_TIMEOUT_S} s")
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def _page_text(page: str) -> str:
    """The page with tags removed and entities decoded: highlighted source (one <span> per token)
    reads as plain lines again."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def leaked_source(page: str, lines: list[str]) -> list[str]:
    text = _page_text(page)
    return [ln for ln in lines if ln in page or ln in text or html.escape(ln) in page]


def _source_lines(rel: str) -> list[str]:
    """Distinctive source lines of the notebook's code cells (long enough not to collide with prose)."""
    nb = nbformat.read(CATALOGUE.file(rel), as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            line = line.strip()
            if len(line) >= 24:
                lines.append(line)
    return lines


@pytest.mark.timeout(STARTUP_TIMEOUT_S + 2 * RENDER_TIMEOUT_S + 60)
@pytest.mark.parametrize("entry", DASHBOARDS, ids=lambda e: e.path)
def test_dashboard_renders_without_source(voila_url, entry):
    url = f"{voila_url}/voila/render/{entry.path}"
    try:
        status, page = _render(url)
    except TimeoutError:
        # Rarely (about one render in four of the conformity dashboard, under load) the page stalls
        # while its kernel sits idle: a kernel-channel race not yet traced. One retry with a new
        # kernel; a second stall fails.
        print(f"{entry.path}: render stalled for {RENDER_TIMEOUT_S} s; retrying once", file=sys.stderr)
        status, page = _render(url)
    assert status == 200, f"HTTP {status}:\n{page[:2000]}"
    for marker in ERROR_MARKERS:
        assert marker not in page, f"{entry.path}: error while executing:\n{page[page.find(marker) - 500 :][:3000]}"
    assert "application/vnd.jupyter.widget-view+json" in page, f"{entry.path}: no widget output in the page"
    leaked = leaked_source(page, _source_lines(entry.path))
    assert not leaked, f"{entry.path}: source code visible in the page: {leaked[:5]}"
