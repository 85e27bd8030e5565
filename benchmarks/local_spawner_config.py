"""Benchmark baseline: the platform's hub with a bare local jupyterhub-singleuser (no Slurm)."""

c = get_config()  # noqa: F821
load_subconfig(str(__import__("pathlib").Path(__file__).resolve().parents[1] / "hub" / "aifnb_hub" / "jupyterhub_config.py"))  # noqa: F821
c.JupyterHub.spawner_class = "localprocess"
