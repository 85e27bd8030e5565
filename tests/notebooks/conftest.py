"""The notebooks run with the embedded demo's models and datasets catalogue, as in the demo.

Outside a hub session only root resolves catalogue names, from the settings file named by
AIFNB_SETTINGS: the fixture provisions the demo catalogue below a fresh root and names a site file
holding only its data_catalogue section, so every notebook kernel (which inherits the
environment) sees the demo entries and the sandboxes use them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml

from aifnb_data.demo import provision


@pytest.fixture(scope="session")
def demo_data_catalogue(unix_users):
    """The demo catalogue on disk, its settings file in AIFNB_SETTINGS for the session; removed after."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-nb-data-", dir="/var/tmp"))
    path.chmod(0o755)
    catalogue = provision(path / "data")
    site = path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "data_catalogue": {
                    "files": [str(catalogue)],
                    "roots": [str(path / "data")],
                    "access_log": str(path / "access.jsonl"),
                }
            }
        )
    )
    before = os.environ.get("AIFNB_SETTINGS")
    os.environ["AIFNB_SETTINGS"] = str(site)
    yield path / "access.jsonl"
    if before is None:
        os.environ.pop("AIFNB_SETTINGS", None)
    else:
        os.environ["AIFNB_SETTINGS"] = before
    shutil.rmtree(path, ignore_errors=True)
