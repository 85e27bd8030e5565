"""The OIDC authenticator's own rules, without a provider: names at login and the groups it keeps."""

from __future__ import annotations

import pytest

from aifnb_hub.auth import FactoryOIDCAuthenticator, error_page, name_refusal
from aifnb_slurm.accounts import AccountPolicy

POLICY = AccountPolicy(min_uid=1000, max_uid=60000)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Alice", "is not a valid name"),
        ("alice\n", "is not a valid name"),
        ("1alice", "is not a valid name"),
        ("a" * 33, "is not a valid name"),
        ("root", "is a system account"),
        ("nobody", "is a system account"),
        ("slurm", "is a system account"),
    ],
    ids=["upper-case", "trailing-newline", "leading-digit", "too-long", "root", "nobody", "slurm"],
)
def test_names_outside_the_account_rule_are_refused(name, reason):
    """The login refuses what the Slurm rule refuses: bad shapes and the deny-list."""
    assert reason in name_refusal(name, POLICY)


def test_existing_account_with_a_system_uid_is_refused():
    """An account that exists here with a uid below UID_MIN is refused even when not deny-listed."""
    assert "uid 1" in name_refusal("daemon", AccountPolicy(min_uid=1000, max_uid=60000, denied=frozenset()))


def test_a_person_without_an_account_here_yet_may_log_in():
    """A valid name with no Unix account on the hub host logs in (starting a session says what is missing)."""
    assert name_refusal("oidc-newcomer", POLICY) is None


@pytest.mark.parametrize(
    ("prefix", "sent", "kept"),
    [
        ("", ["learners", "staff"], {"learners"}),
        ("/", ["/learners", "/admins", "/staff", "trainers"], {"learners", "admins", "trainers"}),
        ("/factory/", ["/factory/companies", "/other/learners", "/factory"], {"companies"}),
    ],
    ids=["flat", "keycloak-full-path", "keycloak-subgroup"],
)
async def test_groups_are_stripped_and_limited_to_the_settings(prefix, sent, kept):
    """Provider groups lose strip_group_prefix; only groups the settings define are kept."""
    authenticator = FactoryOIDCAuthenticator(
        manage_groups=True,
        auth_state_groups_key="oauth_user.groups",
        strip_group_prefix=prefix,
        platform_groups={"learners", "companies", "trainers", "admins"},
    )
    assert await authenticator.get_user_groups({"oauth_user": {"groups": sent}}) == kept


def test_error_pages_carry_the_message_but_no_log_message():
    """The page shows title and message; tornado has nothing to log with the callback's URL."""
    error = error_page(502, "Login failed", "the provider did not answer")
    assert (error.status_code, error.reason, error.jupyterhub_message) == (502, "Login failed", "the provider did not answer")
    assert error.get_message() is None
