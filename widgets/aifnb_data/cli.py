"""``aifnb data list|show|path|log``: the models and datasets catalogue from a terminal.

``list``, ``show`` and ``path`` ask the hub (from a session; root outside one reads the settings'
catalogue); ``path`` is a use and is logged. ``log`` is the admin's: the access log as a table or
CSV, read from the file the hub writes (root on the hub host).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from aifnb_data.access import DataAccessError
from aifnb_data.access_log import PURPOSE, PURPOSE_RULE, as_csv, as_table, read_access_log
from aifnb_data.cards import CatalogueError
from aifnb_data.config import SETTINGS_ENV, DataCatalogueSettings, from_settings_file
from aifnb_slurm.validate import InvalidValue, check
from aifnb_widgets.cli import guarded

_guarded = guarded("data", (DataAccessError, CatalogueError, InvalidValue))


def register(groups: argparse._SubParsersAction) -> None:
    data = groups.add_parser("data", help="the models and datasets catalogue: what you may use, cards, paths")
    commands = data.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="the models and datasets you may use")
    listing.add_argument("--kind", choices=("dataset", "model"))
    listing.add_argument("--sector", help="only entries tagged with this sector")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(func=_guarded(_list))

    show = commands.add_parser("show", help="an entry and its card")
    show.add_argument("name")
    show.set_defaults(func=_guarded(_show))

    path = commands.add_parser("path", help="the path of an entry's files (or a served model's endpoint); logged as a use")
    path.add_argument("name")
    path.add_argument("--purpose", default="session", help=f"what it is for, for the access log: {PURPOSE_RULE}")
    path.set_defaults(func=_guarded(_path))

    log = commands.add_parser("log", help="admins: the access log (who used what, when, in which job, why)")
    log.add_argument("--csv", action="store_true", help="CSV instead of a table")
    log.add_argument("--file", type=Path, help="the log (default: the settings' data_catalogue.access_log)")
    log.set_defaults(func=_guarded(_log))


def _list(args: argparse.Namespace) -> int:
    from aifnb_data.client import entries

    found = entries(kind=args.kind, sector=args.sector)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    rows = [("NAME", "KIND", "FORMAT", "LICENCE", "COMMERCIAL", "TITLE")]
    rows += [(e["name"], e["kind"], e["format"], e["licence"], "yes" if e["commercial_use"] else "no", e["title"]) for e in found]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]))
    return 0


def _show(args: argparse.Namespace) -> int:
    import yaml

    from aifnb_data.client import show

    # YAML in the catalogue's own order: the entry as its author wrote it, plus its location.
    print(yaml.safe_dump(show(args.name), sort_keys=False, allow_unicode=True).rstrip())
    return 0


def _path(args: argparse.Namespace) -> int:
    from aifnb_data.client import resolve_for

    found = resolve_for(args.name, check("purpose", args.purpose, PURPOSE, PURPOSE_RULE))
    print(found.path if found.path is not None else f"{found.endpoint} {found.served_name}")
    return 0


def _log(args: argparse.Namespace) -> int:
    path = args.file
    if path is None:
        site = os.environ.get(SETTINGS_ENV)
        path = from_settings_file(site)[0].access_log if site else DataCatalogueSettings().access_log
    try:
        events = read_access_log(path)
    except PermissionError:
        raise DataAccessError(f"{path}: only the hub's account (root) reads the access log") from None
    sys.stdout.write(as_csv(events) if args.csv else as_table(events))
    return 0
