"""Scale & Run: notebooks as Slurm batch jobs (single runs and parameter sweeps), followed,
cancelled and accounted from a session. Pure Python; the widgets live in ``aifnb_widgets.ui``.

The API is in :mod:`aifnb_widgets.batch.api`, usage accounting in
:mod:`aifnb_widgets.batch.usage`; this package imports nothing at import time so the job's
runner starts fast.
"""
