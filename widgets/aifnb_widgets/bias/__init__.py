"""LangBiTe-style social-bias assessment: libraries, scenarios, oracles, scoring and reports.

Nothing under this package imports ipywidgets, so the engine runs from the CLI, in a Slurm
job or in a test exactly as it runs behind the dashboard.
"""
