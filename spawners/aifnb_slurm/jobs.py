"""Names of the platform's Slurm jobs: ``aifnb-<kind>-<label>``, so every tool can tell them apart.

``squeue``, ``sacct`` and the jobs panel see nothing but a job's name. One scheme for every
kind (interactive ``session``, notebook ``batch`` run or sweep, ``bias`` assessment array) lets
the panel list each platform job with its kind and the usage report count each of them; a job
whose name does not follow the scheme is not the platform's.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from .validate import JOB_NAME, check

Kind = Literal["session", "batch", "bias"]
#: Every kind of platform job, in the order reports show them.
KINDS: tuple[Kind, ...] = get_args(Kind)
PREFIX = "aifnb-"
#: Longest label: the name stays within Slurm's and the allow-list's 64 characters.
LABEL_LIMIT = 40


def label_slug(text: str) -> str:
    """``text`` made fit for a job name and a folder name: anything but ``[A-Za-z0-9_-]`` becomes
    ``_`` (no dots: the label also names a run folder), at most LABEL_LIMIT characters."""
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", text, flags=re.ASCII).strip("_-")[:LABEL_LIMIT]
    return slug or "job"


def job_name(kind: Kind, label: str) -> str:
    """``aifnb-<kind>-<label>``, e.g. ``aifnb-session-ana``, ``aifnb-batch-train``, ``aifnb-bias-llms``."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; one of {', '.join(KINDS)}")
    return check("job_name", f"{PREFIX}{kind}-{label}", JOB_NAME, "1-64 of A-Z, a-z, 0-9, '_', '.', '-'")


def job_kind(name: str) -> Kind | None:
    """The kind of a platform job by its Slurm name; None for any other job."""
    for kind in KINDS:
        if name.startswith(f"{PREFIX}{kind}-") and len(name) > len(PREFIX) + len(kind) + 1:
            return kind
    return None
