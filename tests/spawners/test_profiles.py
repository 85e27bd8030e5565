"""Users' options are checked against the chosen profile before anything reaches Slurm."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifnb_hub.settings import load_settings
from aifnb_slurm.profiles import (
    SLURM_NAME,
    USER_OPTION_KEYS,
    OptionError,
    Profile,
    ProfileList,
    format_walltime,
    resolve_request,
    walltime_seconds,
)

PROFILES = load_settings().profiles


def test_defaults_resolve_for_the_first_allowed_profile():
    """With no options, a learner gets the first profile their groups allow, at its defaults."""
    request = resolve_request(PROFILES, ["learners"], {})
    assert (request.profile, request.partition, request.cpus, request.gpus, request.walltime) == (
        "cpu-course",
        "cpu",
        2,
        0,
        "02:00:00",
    )
    assert request.gres == ""


def test_gpu_request_within_limits_renders_gres():
    """A company may ask for more GPUs up to the profile's maximum."""
    request = resolve_request(PROFILES, ["companies"], {"profile": "gpu-sandbox", "gpus": "3", "walltime": "1:00:00"})
    assert (request.gpus, request.gres, request.walltime) == (3, "gpu:3", "01:00:00")


@pytest.mark.parametrize(
    ("groups", "options", "field", "hint"),
    [
        (["learners"], {"profile": "gpu-sandbox"}, "profile", "cpu-course"),
        (["companies"], {"profile": "gpu-sandbox", "gpus": 5}, "gpus", "1-4"),
        (["companies"], {"profile": "gpu-sandbox", "gpus": True}, "gpus", "whole number"),
        (["learners"], {"profile": "cpu-course", "gpus": 1}, "gpus", "fixes gpus at 0"),
        (["learners"], {"walltime": "08:00:01"}, "walltime", "08:00:00"),
        (["learners"], {"walltime": "0:00:00"}, "walltime", "08:00:00"),
        (["learners"], {"walltime": "2h"}, "walltime", "HH:MM:SS"),
        (["learners"], {"partition": "gpu"}, "partition", "cpu"),
        (["learners"], {"reservation": "x"}, "reservation", "allowed options"),
        ([], {}, "profile", "admins"),
    ],
    ids=[
        "profile-not-in-group",
        "gpus-above-max",
        "gpus-bool",
        "fixed-gpus",
        "walltime-above",
        "walltime-zero",
        "walltime-shape",
        "partition",
        "unknown-key",
        "no-groups",
    ],
)
def test_refusals_name_the_field_and_what_is_allowed(groups, options, field, hint):
    """Each refusal names the field and tells the user what would be accepted."""
    with pytest.raises(OptionError) as info:
        resolve_request(PROFILES, groups, options)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    assert hint in str(info.value)


def test_profile_file_rejects_unknown_keys_and_duplicates():
    """A misspelt profile key or a repeated slug is a load-time error, not a silent default."""
    base = PROFILES[0].model_dump(mode="json", exclude_none=True)
    with pytest.raises(ValueError, match="gpus_max"):
        Profile.model_validate({**base, "gpus_max": 2})
    with pytest.raises(ValueError, match="duplicate profile slugs: cpu-course"):
        ProfileList(profiles=[base, base])
    with pytest.raises(ValueError, match="partition"):
        Profile.model_validate({**base, "partition": "cpu --uid=0"})


def test_walltime_round_trip():
    """Walltimes with days are normalised to the HH:MM:SS Slurm reads."""
    assert walltime_seconds("1-02:03:04") == 93784
    assert format_walltime(93784) == "26:03:04"


hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\n#SBATCH --uid=0", "cpu; rm -rf /", "$(id)", "`id`", "a b", "gpu\n", "../../etc", "1;2", "01:00:00\n"]),
)
option_values = st.one_of(hostile_text, st.integers(-10, 100), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
option_dicts = st.dictionaries(st.one_of(st.sampled_from(USER_OPTION_KEYS), st.text(max_size=12)), option_values, max_size=6)


@settings(max_examples=400, deadline=None)
@given(
    groups=st.lists(st.sampled_from(["learners", "companies", "trainers", "admins", "other"]), max_size=3), options=option_dicts
)
def test_any_options_either_resolve_inside_the_profile_or_are_refused(groups, options):
    """Whatever a user sends, the result is a request within an allowed profile's limits, or an OptionError."""
    try:
        request = resolve_request(PROFILES, groups, options)
    except OptionError as exc:
        assert exc.field in (*USER_OPTION_KEYS, *options.keys(), "options")
        return
    profile = next(p for p in PROFILES if p.slug == request.profile)
    assert profile.allowed_for(groups)
    assert request.partition in profile.partitions
    for field in ("cpus", "gpus"):
        bounds = getattr(profile.limits, field)
        value = getattr(request, field)
        assert (bounds.min <= value <= bounds.max) if bounds else value == getattr(profile, field)
    assert 0 < walltime_seconds(request.walltime) <= walltime_seconds(profile.limits.walltime_max or profile.walltime)
    import re

    for value in (request.partition, request.walltime, request.memory):
        assert re.fullmatch(r"[A-Za-z0-9_.:\-]+", value)
    assert re.fullmatch(SLURM_NAME, request.partition)
