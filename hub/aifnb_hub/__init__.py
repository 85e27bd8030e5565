"""JupyterHub side of the AI Factory notebook platform: settings schema, apply-functions, services."""
