"""JupyterHub configuration of the AI Factory notebook platform.

Thin on purpose: it loads the settings (the embedded defaults, with the site file named by
AIFNB_SETTINGS layered over them), validates them, and applies each section with a small
function from aifnb_hub.apply. A bad key stops the hub here, with its path in the message.
"""

import os
from pathlib import Path

from aifnb_hub import apply
from aifnb_hub.catalogue import load_catalogue
from aifnb_hub.content import publish_content, trust_config
from aifnb_hub.dashboards.config import apply_dashboards
from aifnb_hub.data_api import apply_data_catalogue, load_data_catalogue
from aifnb_hub.mlflow_service.config import apply_mlflow
from aifnb_hub.settings import load_settings
from aifnb_hub.shutdown import prepare_clean_shutdown
from aifnb_spawners.spawner import replaced_settings  # (importing it also installs the port-only job callback)

c = get_config()  # noqa: F821  (provided by JupyterHub)
prepare_clean_shutdown()  # before the proxy and the services start
site_settings = os.environ.get("AIFNB_SETTINGS", "")
settings = load_settings(site_settings or None)
settings.hub.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

content_repo, content_git_config = settings.content.repo, ""
if content_repo.startswith("/"):
    # A local repository is (re)published from the platform's notebooks at each start.
    publish_content(apply.content_source(settings), Path(content_repo), settings.content.branch)
    content_git_config = str(trust_config(Path(content_repo)))

apply.apply_hub(c, settings)
apply.apply_home(c, settings, load_catalogue(apply.content_source(settings) / "catalogue.yaml"))
apply.apply_auth(c, settings)
apply.apply_roles(c, settings)
apply.apply_spawner(c, settings, content_repo, content_git_config, site_settings)
apply.apply_culler(c, settings)
apply_dashboards(c, settings)
apply_mlflow(c, settings)
# The models and datasets catalogue: an invalid card or an unsafe file stops the hub here, naming the entry.
apply_data_catalogue(c, settings, load_data_catalogue(settings))

# batchspawner settings the spawner does not read stop the hub here, naming what replaces them.
if problems := replaced_settings(c):
    raise ValueError("; ".join(problems))
