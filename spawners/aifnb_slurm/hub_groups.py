"""A user's groups, asked of the hub with the session's own token: what profiles they may use.

Every job a user submits from a session (Scale & Run, bias arrays) is checked against the
profiles of the user's groups, exactly as the spawn form is. Those groups come from the hub
(``GET /user`` with ``JUPYTERHUB_API_TOKEN``; the session's token carries
``read:users:groups!user``), never from a file the user controls: the settings file is named by
``AIFNB_SETTINGS``, which a user can point at a copy listing themselves in any group.

Outside a session (no hub URL or token) only root gets groups, from the settings' member lists
(an admin on the hub host, the tests), and the answer says so. Slurm's own limits (partitions'
``AllowGroups``, accounts and QoS) still apply to whatever is submitted: this check gives a user
an early, clear refusal and keeps the platform's jobs within the profiles.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

HUB_URL_ENV = "JUPYTERHUB_API_URL"
HUB_TOKEN_ENV = "JUPYTERHUB_API_TOKEN"
#: The scope a session's token needs to read its own user's groups.
GROUPS_SCOPE = "read:users:groups!user"


class GroupsError(PermissionError):
    """The user's groups cannot be known; the message says why and what to do."""


@dataclass(frozen=True)
class UserGroups:
    """The groups of ``user`` and where they come from (``hub`` or ``settings``)."""

    user: str
    groups: tuple[str, ...]
    source: str

    @property
    def note(self) -> str:
        """What a command prints when the groups did not come from the hub; empty otherwise."""
        if self.source == "hub":
            return ""
        return (
            f"outside a hub session: groups of {self.user} taken from the settings' member lists (as root): "
            f"{', '.join(self.groups) or 'none'}"
        )


def _get(client: httpx.Client, path: str) -> dict[str, Any] | None:
    """The JSON model at ``path``; None when the hub answers 403 or 404 (not this token's to read)."""
    response = client.get(path)
    if response.status_code in (403, 404):
        return None
    response.raise_for_status()
    model = response.json()
    if not isinstance(model, dict):
        raise GroupsError(f"the hub answered {path} with something other than a user model")
    return model


def hub_groups(user: str, url: str, token: str, timeout: float = 10.0) -> tuple[str, ...]:
    """``user``'s groups from the hub at ``url`` (its ``/hub/api``): ``GET /user`` when the token
    is the user's own (a session's), else ``GET /users/NAME`` (an admin's token)."""
    try:
        with hub_client(url, token, timeout) as client:
            owner = _get(client, "user")
            if owner is None:
                raise GroupsError(f"the hub at {url} refused the token ({HUB_TOKEN_ENV}); log in to a session again")
            model = owner
            if owner.get("name") != user:
                model = _get(client, f"users/{user}")
                if model is None:
                    raise GroupsError(
                        f"this token belongs to {str(owner.get('name'))[:40]!r}, which may not read the groups of {user}"
                    )
    except httpx.HTTPError as exc:
        raise GroupsError(f"cannot read your groups from the hub at {url} ({exc})") from None
    groups = model.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise GroupsError(f"the hub did not give the groups of {user}: the session's token needs the scope {GROUPS_SCOPE}")
    return tuple(groups)


def hub_client(url: str, token: str, timeout: float) -> httpx.Client:
    """A client of the hub's REST API at ``url`` (its ``/hub/api``) with ``token``."""
    return httpx.Client(base_url=url.rstrip("/") + "/", headers={"Authorization": f"token {token}"}, timeout=timeout)


#: Users asked of the hub per request when listing them all (JupyterHub pages its lists).
PAGE = 200


def platform_users(
    members: Mapping[str, Iterable[str]],
    *,
    env: Mapping[str, str] | None = None,
    euid: int | None = None,
    timeout: float = 30.0,
) -> dict[str, tuple[str, ...]]:
    """Every user and their groups, for an admin's usage report: ``GET /users`` page by page with
    an admin's token (``read:users:groups``); outside a session only root, from ``members``;
    else :class:`GroupsError`. The same rule as :func:`user_groups`."""
    env = os.environ if env is None else env
    url, token = env.get(HUB_URL_ENV), env.get(HUB_TOKEN_ENV)
    if url and token:
        users: dict[str, tuple[str, ...]] = {}
        try:
            with hub_client(url, token, timeout) as client:
                for offset in range(0, 10**7, PAGE):
                    response = client.get("users", params={"offset": offset, "limit": PAGE})
                    if response.status_code == 403:
                        raise GroupsError(
                            f"the hub at {url} refused to list its users: the report needs an admin's token (read:users:groups)"
                        )
                    response.raise_for_status()
                    page = response.json()
                    users.update((model["name"], tuple(model.get("groups", []))) for model in page)
                    if len(page) < PAGE:
                        break
        except httpx.HTTPError as exc:
            raise GroupsError(f"cannot list the hub's users at {url} ({exc})") from None
        return users
    if (os.geteuid() if euid is None else euid) != 0:
        raise GroupsError(
            f"the users come from the hub, and this is not a hub session ({HUB_URL_ENV} and {HUB_TOKEN_ENV} are "
            "not set): run the report as root on the hub host, or with an admin's token"
        )
    listed: dict[str, tuple[str, ...]] = {}
    for group, names in members.items():
        for name in names:
            listed[name] = (*listed.get(name, ()), group)
    return listed


def user_groups(
    user: str,
    members: Mapping[str, Iterable[str]],
    *,
    env: Mapping[str, str] | None = None,
    euid: int | None = None,
    timeout: float = 10.0,
) -> UserGroups:
    """``user``'s groups: from the hub inside a session; outside one, and only as root, from
    ``members`` (the settings' group name to member names); else :class:`GroupsError`."""
    env = os.environ if env is None else env
    url, token = env.get(HUB_URL_ENV), env.get(HUB_TOKEN_ENV)
    if url and token:
        return UserGroups(user, hub_groups(user, url, token, timeout), "hub")
    if (os.geteuid() if euid is None else euid) != 0:
        raise GroupsError(
            f"your groups come from the hub, and this is not a hub session ({HUB_URL_ENV} and {HUB_TOKEN_ENV} are not "
            "set): run this in a terminal or notebook of your session"
        )
    return UserGroups(user, tuple(name for name, users in members.items() if user in users), "settings")
