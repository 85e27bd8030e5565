"""The one job layer: every Slurm job of the platform (sessions, Scale & Run, bias arrays) goes through it.

No JupyterHub imports: the hub's spawner, the session's Scale & Run and bias tools, and the
hub host's admin commands all use the same profiles, validation, job names, batch templates,
argv-only Slurm commands and usage log.
"""
