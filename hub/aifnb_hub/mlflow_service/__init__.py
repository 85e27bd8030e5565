"""MLflow tracking and model registry as a hub-managed service, with the hub as its identity provider.

The service runs MLflow's own server and auth app (per-experiment and per-model permissions,
roles); this package adds only the glue: who a request is (hub OAuth cookie in a browser, the
hub API token of a session or job), MLflow users and admin flags kept in step with the hub,
one MLflow role per hub group so an experiment can be shared with a group, and the launcher.
"""

SERVICE_NAME = "mlflow"
ACCESS_SCOPE = f"access:services!service={SERVICE_NAME}"
#: MLflow role that stands for a hub group (the hub's group name follows the prefix).
GROUP_ROLE_PREFIX = "hub-group-"
#: Environment variable carrying the resolved settings to the service (JSON of MlflowSection plus paths).
OPTIONS_ENV = "AIFNB_MLFLOW"
