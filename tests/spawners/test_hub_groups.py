"""A user's groups come from the hub with the session's token, never from a file the user controls."""

from __future__ import annotations

import re

import pytest

from aifnb_slurm.hub_groups import GROUPS_SCOPE, GroupsError, platform_users, user_groups
from tests.support.fake_hub import FakeHub, Token

#: What a settings file (which AIFNB_SETTINGS lets a user replace) claims.
CLAIMED = {"learners": ["ana", "bob"], "companies": ["ana"]}


@pytest.fixture(scope="module")
def hub():
    """A fake hub where ana is a learner only; tokens of ana, an admin, and ana without the groups scope."""
    fake = FakeHub(
        groups={"ana": ["learners"], "root-admin": ["admins"], "bob": ["companies"]},
        tokens={"ana": Token("ana"), "admin": Token("root-admin", admin=True), "narrow": Token("ana", groups_scope=False)},
    )
    yield fake.start()
    fake.stop()


def test_inside_a_session_the_hub_answers_and_the_settings_are_ignored(hub):
    """GET /user with the session's token gives ana's groups; the settings' claim that she is in companies counts for nothing."""
    found = user_groups("ana", CLAIMED, env=hub.session_env("ana"), euid=1000)
    assert (found.groups, found.source, found.note) == (("learners",), "hub", "")
    assert hub.requests[-1] == "/hub/api/user"


def test_the_hub_is_asked_even_as_root(hub):
    """Root inside a session (its token set) still gets the hub's answer, not the settings'."""
    assert user_groups("ana", CLAIMED, env=hub.session_env("ana"), euid=0).groups == ("learners",)


def test_an_admins_token_reads_another_users_groups(hub):
    """An admin's token asking for bob reads /users/bob."""
    assert user_groups("bob", CLAIMED, env=hub.session_env("admin"), euid=1000).groups == ("companies",)
    assert hub.requests[-1] == "/hub/api/users/bob"


def test_a_users_token_cannot_read_someone_elses_groups(hub):
    """ana's token asking for bob's groups is refused, naming whose token it is."""
    with pytest.raises(GroupsError, match="this token belongs to 'ana', which may not read the groups of bob"):
        user_groups("bob", CLAIMED, env=hub.session_env("ana"), euid=1000)


def test_a_token_without_the_groups_scope_is_refused_naming_the_scope(hub):
    """The hub leaves groups out of the model for a token without read:users:groups: refused, naming the scope."""
    with pytest.raises(GroupsError, match=GROUPS_SCOPE):
        user_groups("ana", CLAIMED, env=hub.session_env("narrow"), euid=1000)


def test_an_unknown_token_and_an_unreachable_hub_are_refused(hub):
    """A token the hub does not know, and a hub that does not answer, are GroupsError with what to do."""
    with pytest.raises(GroupsError, match="refused the token"):
        user_groups("ana", CLAIMED, env=hub.session_env("forged"), euid=1000)
    with pytest.raises(GroupsError, match=re.escape("cannot read your groups from the hub at http://127.0.0.1:9/hub/api")):
        user_groups(
            "ana", CLAIMED, env={"JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api", "JUPYTERHUB_API_TOKEN": "x"}, euid=1000
        )


def test_outside_a_session_a_user_gets_no_groups_from_the_settings():
    """Without the hub's variables, a non-root user is refused: the settings file is theirs to replace."""
    with pytest.raises(GroupsError, match="this is not a hub session"):
        user_groups("ana", CLAIMED, env={}, euid=1000)
    with pytest.raises(GroupsError):
        user_groups("ana", CLAIMED, env={"JUPYTERHUB_API_URL": "http://hub/hub/api"}, euid=1000)  # no token


def test_outside_a_session_root_reads_the_settings_and_says_so():
    """As root on the hub host the settings' member lists are used, and the note says where they come from."""
    found = user_groups("ana", CLAIMED, env={}, euid=0)
    assert found.groups == ("learners", "companies") and found.source == "settings"
    assert (
        found.note == "outside a hub session: groups of ana taken from the settings' member lists (as root): learners, companies"
    )


def test_an_admins_report_lists_every_user_page_by_page(hub, monkeypatch):
    """The usage report's users come from GET /users with an admin's token, all pages of them; a user's token is refused."""
    monkeypatch.setattr(hub, "page_limit", 2)
    monkeypatch.setattr("aifnb_slurm.hub_groups.PAGE", 2)
    users = platform_users(CLAIMED, env=hub.session_env("admin"), euid=1000)
    assert users == {"ana": ("learners",), "bob": ("companies",), "root-admin": ("admins",)}
    assert [r for r in hub.requests if r.startswith("/hub/api/users?")][-2:] == [
        "/hub/api/users?offset=0&limit=2",
        "/hub/api/users?offset=2&limit=2",
    ]
    with pytest.raises(GroupsError, match="needs an admin's token"):
        platform_users(CLAIMED, env=hub.session_env("ana"), euid=1000)


def test_outside_a_session_only_root_lists_users_from_the_settings():
    """Off-session, root's report takes the settings' member lists; anyone else is refused."""
    assert platform_users(CLAIMED, env={}, euid=0) == {"ana": ("learners", "companies"), "bob": ("learners",)}
    with pytest.raises(GroupsError, match="not a hub session"):
        platform_users(CLAIMED, env={}, euid=1000)
