"""The one Jinja environment of every batch script the platform submits.

Session (``session.sh.j2``), notebook run and sweep (``notebook_job.sh.j2``) and bias array
(``bias_array.sh.j2``) are templates in this folder, rendered by :func:`render`: undefined names
fail instead of becoming empty ``#SBATCH`` values, nothing is HTML-escaped, and ``quote`` is
``shlex.quote``. The spawner, Scale & Run and the bias arrays all come here, so a fix to the
environment (a filter, an option) reaches every job kind at once; three copies of this setup
existed before and drifted.
"""

from __future__ import annotations

import functools
import shlex
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

#: This folder: the platform's own templates.
TEMPLATES = Path(__file__).resolve().parent


@functools.cache
def batch_env(*extra_dirs: str) -> Environment:
    """The batch-script environment; ``extra_dirs`` are searched before the platform's folder (a
    site's own session template, ``FactorySlurmSpawner.batch_script_template``). Made once per
    search path, so templates compile once, not once per job."""
    environment = Environment(
        loader=FileSystemLoader([*extra_dirs, str(TEMPLATES)]),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    environment.filters["quote"] = shlex.quote
    return environment


def render(template: str, /, *, extra_dirs: tuple[str, ...] = (), **values: Any) -> str:
    """``template`` (a file name in this folder, or in ``extra_dirs``) rendered with ``values``.

    The callers check every value against its allow-list before it gets here: ``#SBATCH`` lines
    cannot quote, and one newline in a value is a directive of its own.
    """
    return batch_env(*extra_dirs).get_template(template).render(**values)
