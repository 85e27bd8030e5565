"""Workshops in the job layer: the window, the group and the reservation decide, the user only names it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from jupyterhub.spawner import SpawnException
from pydantic import ValidationError

from aifnb_hub.settings import load_settings
from aifnb_slurm.profiles import OptionError, Workshop, resolve_request
from tests.spawners.conftest import make_spawner

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PROFILE_MODELS = load_settings().profiles


def workshop(**fields) -> Workshop:
    values = {
        "slug": "ai-act-dec",
        "title": "AI Act, hands-on",
        "group": "learners",
        "start": NOW - timedelta(hours=1),
        "end": NOW + timedelta(hours=2),
        "profile": "cpu-course",
        "reservation": "aiact_dec.1",
    }
    return Workshop(**{**values, **fields})


def test_open_workshop_fixes_the_profile_and_adds_its_reservation():
    """A member inside the window gets the workshop's profile and its reservation."""
    request = resolve_request(PROFILE_MODELS, ["learners"], {"workshop": "ai-act-dec"}, [workshop()], NOW)
    assert (request.profile, request.reservation) == ("cpu-course", "aiact_dec.1")
    plain = resolve_request(PROFILE_MODELS, ["learners"], {"profile": "cpu-course"}, [workshop()], NOW)
    assert plain.reservation is None


@pytest.mark.parametrize(
    ("groups", "options", "now", "hint"),
    [
        (["companies"], {"workshop": "ai-act-dec"}, NOW, "not a workshop of your groups"),
        (["learners"], {"workshop": "ai-act-dec"}, NOW + timedelta(hours=3), "not now"),
        (["learners"], {"workshop": "ai-act-dec"}, NOW - timedelta(hours=2), "not now"),
        (["learners"], {"workshop": "other"}, NOW, "not a workshop of your groups"),
        (["learners"], {"workshop": "ai-act-dec; rm -rf /"}, NOW, "not a workshop of your groups"),
        (["learners"], {"workshop": "ai-act-dec\n"}, NOW, "not a workshop of your groups"),
        (["learners"], {"workshop": ["ai-act-dec"]}, NOW, "not a workshop of your groups"),
        (["learners"], {"workshop": "ai-act-dec", "profile": "gpu-sandbox"}, NOW, "runs on profile cpu-course"),
    ],
    ids=["other-group", "after-window", "before-window", "unknown", "shell", "newline", "list", "other-profile"],
)
def test_workshop_refusals_name_the_field(groups, options, now, hint):
    """Outside the window, for another group, or with a forged name, the option is refused naming what is wrong."""
    with pytest.raises(OptionError, match=hint) as caught:
        resolve_request(PROFILE_MODELS, groups, options, [workshop()], now)
    assert caught.value.field in ("workshop", "profile")


@pytest.mark.parametrize(
    "reservation",
    ["bad name", "res;id", "res\n#SBATCH --uid=0", "$(id)", "-res", ""],
    ids=["space", "semicolon", "newline", "subshell", "dash", "empty"],
)
def test_reservation_names_with_shell_or_sbatch_syntax_are_refused(reservation):
    """A reservation is a Slurm name or nothing: shell characters and newlines never reach #SBATCH."""
    with pytest.raises(ValidationError, match="reservation"):
        workshop(reservation=reservation)


def test_workshop_window_must_close_after_it_opens_and_be_zoned():
    """An end before the start, or a time without a zone, is refused."""
    with pytest.raises(ValidationError, match="is not after start"):
        workshop(end=NOW - timedelta(hours=2))
    with pytest.raises(ValidationError, match="timezone"):
        workshop(start=datetime(2026, 12, 1, 9, 0))


def test_session_script_renders_the_reservation_only_for_the_workshop():
    """The spawner's session script carries #SBATCH --reservation=NAME for a workshop start, not otherwise."""
    open_now = workshop(start=datetime.now(UTC) - timedelta(minutes=5), end=datetime.now(UTC) + timedelta(hours=1))
    spawner = make_spawner("alice", ("learners",), workshops=[open_now.model_dump(mode="json")])
    spawner.user_options = spawner.options_from_query({"workshop": ["ai-act-dec"]})
    assert spawner.user_options == {"workshop": "ai-act-dec"}
    assert "#SBATCH --reservation=aiact_dec.1" in spawner.render_batch_script().splitlines()
    spawner.user_options = {"profile": "cpu-course"}
    assert "--reservation" not in spawner.render_batch_script()
    outsider = make_spawner("bob", ("companies",), workshops=[open_now.model_dump(mode="json")])
    with pytest.raises(SpawnException, match="not a workshop of your groups"):
        outsider.options_from_query({"workshop": ["ai-act-dec"]})


def test_links_may_name_only_a_profile_and_a_workshop():
    """A spawn link with any other option (a partition, GPUs) is refused with a 400 naming it."""
    spawner = make_spawner("alice", ("learners",))
    assert spawner.options_from_query({"profile": ["cpu-course"]}) == {"profile": "cpu-course"}
    with pytest.raises(SpawnException, match="gpus: unknown option") as caught:
        spawner.options_from_query({"profile": ["cpu-course"], "gpus": ["8"]})
    assert caught.value.status_code == 400
    with pytest.raises(SpawnException, match="gpu-sandbox"):
        spawner.options_from_query({"profile": ["gpu-sandbox"]})


def test_workshops_declared_on_the_hub_are_read_from_its_file(tmp_path):
    """A workshop in workshops_file (the trainers' form) starts like one from the settings, reservation included."""
    open_now = workshop(
        slug="declared", start=datetime.now(UTC) - timedelta(minutes=5), end=datetime.now(UTC) + timedelta(hours=1)
    )
    declared = tmp_path / "workshops.json"
    declared.write_text(json.dumps([open_now.model_dump(mode="json")]))
    spawner = make_spawner("alice", ("learners",), workshops_file=str(declared))
    spawner.user_options = spawner.options_from_query({"workshop": ["declared"]})
    assert "#SBATCH --reservation=aiact_dec.1" in spawner.render_batch_script().splitlines()
    assert make_spawner("alice", ("learners",), workshops_file=str(tmp_path / "none.json")).workshop_list == ()
