"""Session configuration read by every single-user server (JUPYTER_CONFIG_PATH, set by the batch
script): the MLflow tile in JupyterLab's launcher, through jupyter-server-proxy. The tile opens
``/user/NAME/mlflow/``, which answers with a redirect to the hub's MLflow service
(:mod:`aifnb_widgets.mlflow_launcher`); the server's own Python runs it, so no PATH is assumed."""

import sys

c = get_config()  # noqa: F821 (defined by the config loader)
c.ServerProxy.servers = {
    "mlflow": {
        "command": [sys.executable, "-m", "aifnb_widgets.mlflow_launcher", "{port}"],
        "timeout": 30,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "MLflow"},
    }
}
