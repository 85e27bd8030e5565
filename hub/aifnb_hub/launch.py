"""``aifnb-hub``: JupyterHub with the platform's configuration, from a checkout or an installed wheel.

The configuration file ships inside the package, so a centre that ``pip install``s the platform
runs ``aifnb-hub`` (other arguments pass through to JupyterHub) instead of finding the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG = Path(__file__).with_name("jupyterhub_config.py")


def main() -> None:
    from jupyterhub.app import main as jupyterhub_main

    sys.argv = ["jupyterhub", "-f", str(CONFIG), *sys.argv[1:]]
    jupyterhub_main()


if __name__ == "__main__":
    main()
