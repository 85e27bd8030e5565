"""Where an entry's files are, checked on disk: below its root, no symlinks, its group's, closed to others.

The filesystem is what enforces access: an entry's files belong to one Unix group (the entry's
``unix_group``, or that of its only hub group) and grant nothing to others, so a user outside
the group is refused by the OS whatever they type. The hub checks this for every entry when it
starts (a catalogue that would leak stops it) and again at each resolution, since files can
change while it runs. A symlink anywhere on the way, or one inside a folder pointing out of it,
is refused: a path handed to a job must mean what the catalogue says.
"""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from aifnb_data.cards import Catalogue, CatalogueError, Located


class LocationError(CatalogueError):
    """An entry's files are missing, outside their root, reached through a symlink, or open to others."""


def _refuse(name: str, message: str) -> LocationError:
    return LocationError(f"data catalogue: entry {name!r}: {message}")


def _check_inside(name: str, top: Path, real_top: Path) -> None:
    """Inside a folder: no symlink leaving it, nothing readable by others. Folders this process
    may not list (a non-root hub) are skipped: the OS refuses others there as well."""
    for folder, dirs, files in os.walk(top, followlinks=False):
        for child in [*dirs, *files]:
            path = Path(folder, child)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = Path(os.path.realpath(path))
                if not target.is_relative_to(real_top):
                    raise _refuse(name, f"{path} is a symlink out of the entry's folder (to {target})")
            elif info.st_mode & 0o007:
                raise _refuse(name, f"{path} grants access to others (mode {stat.S_IMODE(info.st_mode):04o}); remove it")


def check_location(item: Located, unix_group: str) -> Path:
    """The entry's location when it exists below its root with no symlink on the way, belongs
    to ``unix_group`` and grants others nothing; :class:`LocationError` naming the entry."""
    name, location, root = item.entry.name, item.location, item.root
    if location is None:
        return location  # type: ignore[return-value]  (an endpoint has no files)
    if not location.is_relative_to(root):
        raise _refuse(name, f"{location} is outside its root {root}")
    current = root
    for part in location.relative_to(root).parts:
        current = current / part
        try:
            info = current.lstat()
        except FileNotFoundError:
            raise _refuse(name, f"{current} does not exist") from None
        except PermissionError:
            raise _refuse(name, f"{current} cannot be checked (permission denied to the hub)") from None
        if stat.S_ISLNK(info.st_mode):
            raise _refuse(name, f"{current} is a symlink; the catalogue serves real files only")
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(location))
    if real != real_root / location.relative_to(root):
        raise _refuse(name, f"{location} resolves to {real}, outside its root {real_root}")
    try:
        gid = grp.getgrnam(unix_group).gr_gid
    except KeyError:
        raise _refuse(name, f"its Unix group {unix_group} does not exist; create it (the centre's identity management)") from None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_gid != gid:
        raise _refuse(name, f"{location} belongs to gid {info.st_gid}, not to its group {unix_group}; chgrp -R {unix_group} it")
    if mode & 0o007:
        raise _refuse(name, f"{location} grants access to others (mode {mode:04o}); chmod -R o= it")
    if stat.S_ISDIR(info.st_mode):
        _check_inside(name, location, real)
    return location


def check_catalogue(catalogue: Catalogue, unix_groups: Mapping[str, str]) -> None:
    """Every entry's location (see :func:`check_location`); ``unix_groups`` maps hub groups to Unix groups."""
    for item in catalogue:
        if item.location is not None:
            check_location(item, catalogue.unix_group(item.entry.name, unix_groups))
