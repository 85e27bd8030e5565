"""Who may use an entry, and the refusal that says who to ask: the one access rule.

A user may use an entry when one of their hub groups is among the entry's groups. The hub
applies this rule to the groups it holds (never to groups a session reports), both to what a
listing shows and to every resolution; the filesystem applies the same rule through the Unix
groups (:mod:`aifnb_data.locations`), so a path typed by hand is refused by the OS as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aifnb_data.cards import ENTRY_NAME, NAME_RULE, Catalogue, Located
from aifnb_data.locations import check_location
from aifnb_slurm.validate import check


class DataAccessError(PermissionError):
    """A name that cannot be used: unknown, not shared with the user, or not reachable; the
    message names the entry and what to do."""


class UnknownEntry(DataAccessError):
    """No entry of that name."""


class AccessRefused(DataAccessError):
    """The entry exists but is not shared with any of the user's groups."""


def may_use(item: Located, groups: Iterable[str]) -> bool:
    """True when one of ``groups`` is among the entry's groups."""
    return not set(item.entry.groups).isdisjoint(groups)


def visible(catalogue: Catalogue, groups: Iterable[str]) -> list[Located]:
    """The entries a member of ``groups`` may use, by name; the others are not listed."""
    groups = set(groups)
    return [item for item in catalogue if may_use(item, groups)]


def refusal(item: Located, groups: Iterable[str]) -> str:
    """The message of a refusal: the entry, the groups it is shared with, the user's, who to ask."""
    e = item.entry
    mine = ", ".join(sorted(groups)) or "no platform group"
    return (
        f"{e.kind.value} {e.name!r} is shared with {', '.join(e.groups)} only, and you are in {mine}; ask {e.contact} for access"
    )


def lookup(catalogue: Catalogue, name: object) -> Located:
    """The entry named ``name``; InvalidValue for a malformed name, :class:`UnknownEntry` else."""
    check("name", name, ENTRY_NAME, NAME_RULE)
    item = catalogue.get(name)  # type: ignore[arg-type]  (check() proved it is a str)
    if item is None:
        raise UnknownEntry(f"no entry named {name!r} in the data catalogue; `aifnb data list` shows those you may use")
    return item


def allowed(catalogue: Catalogue, name: object, groups: Iterable[str]) -> Located:
    """The entry ``name`` when a member of ``groups`` may use it; :class:`AccessRefused` naming
    who to ask otherwise (see :func:`lookup` for the other errors)."""
    item = lookup(catalogue, name)
    groups = set(groups)
    if not may_use(item, groups):
        raise AccessRefused(refusal(item, groups))
    return item


def resolve(catalogue: Catalogue, name: object, groups: Iterable[str], unix_groups: Mapping[str, str]) -> Located:
    """The entry ``name`` for a member of ``groups`` (:func:`allowed`), its files checked again
    on disk, since they may have changed since the hub started."""
    item = allowed(catalogue, name, groups)
    if item.location is not None:
        check_location(item, catalogue.unix_group(item.entry.name, unix_groups))
    return item
