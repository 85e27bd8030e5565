"""The catalogue from a session or a job: list, show and resolve names, always through the hub.

Inside a hub session the hub answers with the session's own token (``JUPYTERHUB_API_URL``,
``JUPYTERHUB_API_TOKEN``): it lists only what the user's groups may use, refuses the rest with
the entry's contact, and writes the access log line of each resolution. Nothing here decides
access, so a user who edits this module or the settings file gains nothing the hub and the
filesystem would not give them anyway.

Outside a hub session only root resolves names, from the settings file's ``data_catalogue``
section (an admin on the hub host, CI): root may read every file anyway, and its uses are
logged as ``root``. Anyone else is told to use a session.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from aifnb_data.access import AccessRefused, DataAccessError, UnknownEntry, lookup, resolve
from aifnb_data.access_log import AccessEvent, now, record_access
from aifnb_data.cards import ENTRY_NAME, NAME_RULE, Format, Located
from aifnb_data.config import SETTINGS_ENV, from_settings_file
from aifnb_slurm.hub_groups import HUB_TOKEN_ENV, HUB_URL_ENV
from aifnb_slurm.validate import check

TIMEOUT = 15.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """A name resolved for one use: where its files are, or the endpoint serving it."""

    name: str
    kind: str
    format: str
    path: Path | None
    endpoint: str | None = None
    served_name: str | None = None


def job_id() -> str:
    """The Slurm job this process runs in (a session is one), one array task as ``JOB_TASK``; else ''."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID", "")


def _hub() -> tuple[str, str] | None:
    url, token = os.environ.get(HUB_URL_ENV), os.environ.get(HUB_TOKEN_ENV)
    return (url.rstrip("/"), token) if url and token else None


def _ask(method: str, path: str, body: dict[str, str] | None = None) -> Any:
    url, token = _hub()  # type: ignore[misc]  (callers checked)
    try:
        response = httpx.request(
            method, f"{url}/aifnb/data{path}", json=body, headers={"Authorization": f"token {token}"}, timeout=TIMEOUT
        )
    except httpx.HTTPError as exc:
        raise DataAccessError(f"cannot reach the hub's data catalogue at {url} ({exc})") from None
    if response.status_code == 200:
        return response.json()
    try:
        message = response.json().get("message") or response.reason_phrase
    except ValueError:
        message = response.reason_phrase
    error = {403: AccessRefused, 404: UnknownEntry}.get(response.status_code, DataAccessError)
    raise error(message)


def _local() -> tuple[list[Located], Any, dict[str, str], Path]:
    """Root outside a session: the catalogue of the settings file, every entry visible."""
    if os.geteuid() != 0:
        raise DataAccessError(
            f"the data catalogue is served by the hub, and this is not a hub session ({HUB_URL_ENV} and "
            f"{HUB_TOKEN_ENV} are not set): use it from a terminal or notebook of your session"
        )
    site = os.environ.get(SETTINGS_ENV)
    if not site:
        raise DataAccessError(f"no data catalogue: {SETTINGS_ENV} names no settings file with a data_catalogue section")
    section, unix_groups = from_settings_file(site)
    catalogue = section.catalogue()
    return list(catalogue), catalogue, unix_groups, section.access_log


def entry_record(item: Located) -> dict[str, Any]:
    """An entry as the hub sends it: every field and its card, plus its absolute location."""
    record = item.entry.model_dump(mode="json")
    record["location"] = str(item.location) if item.location is not None else None
    return record


def entries(kind: str | None = None, sector: str | None = None) -> list[dict[str, Any]]:
    """The entries this user may use (with their cards), by name; ``kind`` (dataset, model) and
    ``sector`` filter them."""
    if _hub():
        found = _ask("GET", "")["entries"]
    else:
        found = [entry_record(item) for item in _local()[0]]
    return [e for e in found if (kind is None or e["kind"] == kind) and (sector is None or sector in e["sectors"])]


def show(name: str) -> dict[str, Any]:
    """The entry ``name`` with its card; :class:`AccessRefused` (naming who to ask) when it is
    not shared with the user, :class:`UnknownEntry` when there is none."""
    check("name", name, ENTRY_NAME, NAME_RULE)
    if _hub():
        return _ask("GET", f"/{quote(name)}")
    return entry_record(lookup(_local()[1], name))


def resolve_for(name: str, purpose: str = "session", job: str | None = None) -> Resolution:
    """Resolve ``name`` for one use: the hub checks access, checks the files again and logs
    (who, what, when, ``job`` or this process's Slurm job, ``purpose``)."""
    check("name", name, ENTRY_NAME, NAME_RULE)
    job = job_id() if job is None else job
    if _hub():
        answer = _ask("POST", f"/{quote(name)}/access", {"purpose": purpose, "job_id": job})
    else:
        _, catalogue, unix_groups, log = _local()
        item = resolve(catalogue, name, {g for e in catalogue for g in e.entry.groups}, unix_groups)
        answer = entry_record(item)
        record_access(
            log,
            AccessEvent(
                time=now(),
                user="root",
                entry=name,
                kind=answer["kind"],
                purpose=purpose,
                job_id=job,
                location=answer["location"] or answer["endpoint"],
            ),
        )
    location = answer.get("location")
    return Resolution(
        name=answer["name"],
        kind=answer["kind"],
        format=answer["format"],
        path=Path(location) if location else None,
        endpoint=answer.get("endpoint"),
        served_name=answer.get("served_name"),
    )


def open_dataset(name: str, *, as_path: bool = False, purpose: str = "session") -> Any:
    """The dataset ``name`` as a pandas DataFrame (csv, jsonl, parquet) or a dict of numpy
    arrays (npz), or its path with ``as_path``. The read happens as the user: the OS refuses files of other groups too."""
    found = resolve_for(name, purpose)
    if found.kind != "dataset":
        raise DataAccessError(f"{name!r} is a {found.kind}, not a dataset: use model_path({name!r})")
    if as_path:
        return found.path
    import pandas as pd

    if found.format == Format.NPZ:
        import numpy as np

        with np.load(found.path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    readers = {Format.CSV: pd.read_csv, Format.JSONL: lambda p: pd.read_json(p, lines=True), Format.PARQUET: pd.read_parquet}
    return readers[Format(found.format)](found.path)


def model_path(name: str, *, purpose: str = "session") -> str:
    """The folder of model ``name`` for ``from_pretrained`` (a served model has none: use
    :func:`resolve_for` for its endpoint)."""
    found = resolve_for(name, purpose)
    if found.kind != "model":
        raise DataAccessError(f"{name!r} is a {found.kind}, not a model: use open_dataset({name!r})")
    if found.path is None:
        raise DataAccessError(f"model {name!r} is served at {found.endpoint} (as {found.served_name}); it has no folder")
    return str(found.path)


def for_job(name: str) -> str:
    """Where a job about to be submitted finds ``name``: its path (checked for a job's use), or
    ``URL#SERVED_NAME`` for a served model. The hub refuses here, before anything is submitted,
    when the entry is not shared with the user; the use itself is logged with the job id once
    the job exists (:func:`resolve_for` with ``purpose`` and ``job``)."""
    record = show(name)
    if record.get("location"):
        from aifnb_widgets.batch.script import checked_path  # the job layer's one path rule

        return checked_path("location", record["location"])
    return f"{record['endpoint']}#{record['served_name']}"


#: How a bias run names a catalogue model among its model specs: ``catalogue:tiny-gpt2``.
CATALOGUE_SPEC = "catalogue:"


def available(kind: str | None = None, sector: str | None = None) -> list[dict[str, Any]]:
    """:func:`entries` for a sandbox that works without the catalogue too: [] when it cannot be
    reached, e.g. outside a hub session or in a published dashboard (logged at INFO: a viewer of
    a dashboard has no session to go to)."""
    try:
        return entries(kind=kind, sector=sector)
    except DataAccessError as exc:
        log.info("data catalogue not available: %s", exc)
        return []


def sector_dataset(sector: str) -> str | None:
    """The first dataset tagged ``sector`` this user may use, for a sector sandbox; None when
    there is none, so the sandbox falls back to its synthetic data."""
    found = available(kind="dataset", sector=sector)
    return found[0]["name"] if found else None


def resolve_model_spec(spec: str, purpose: str) -> str:
    """A bias model spec with ``catalogue:NAME`` resolved (and its use logged) to the entry's
    folder or ``URL#SERVED_NAME``; any other spec unchanged."""
    if not spec.startswith(CATALOGUE_SPEC):
        return spec
    found = resolve_for(spec.removeprefix(CATALOGUE_SPEC), purpose)
    if found.kind != "model":
        raise DataAccessError(f"{spec}: a {found.kind}, not a model")
    return str(found.path) if found.path is not None else f"{found.endpoint}#{found.served_name}"
