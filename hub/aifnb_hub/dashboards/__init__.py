"""Voilà dashboards published by trainers, served behind the hub's login by one hub-managed service.

The service (:mod:`.service`) authenticates every request with the hub (OAuth), keeps the
published notebooks in a versioned store (:mod:`.store`), runs one loopback Voilà server per
dashboard version (:mod:`.runners`) and proxies viewers to it (:mod:`.proxy`), so it is the one
place where groups, the per-dashboard kernel cap and atomic republishing are enforced.
"""

SERVICE_NAME = "dashboards"
PUBLISH_SCOPE = "custom:dashboards:publish"
ACCESS_SCOPE = f"access:services!service={SERVICE_NAME}"
