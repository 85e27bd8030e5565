"""The batch script of every shipped profile, compared with a reviewed expected file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyterhub.spawner import SpawnException

from tests.spawners.conftest import PROFILES, make_spawner

EXPECTED = Path(__file__).with_name("expected")
GROUPS = {"cpu-course": ("learners",), "gpu-sandbox": ("companies",), "gpu-training": ("companies",)}


def render(slug: str, **options) -> str:
    spawner = make_spawner(
        "alice", GROUPS[slug], content_repo="/var/lib/aifnb/content", content_git_config="/var/lib/aifnb/content.gitconfig"
    )
    spawner.user_options = {"profile": slug, **options}
    return spawner.render_batch_script()


@pytest.mark.parametrize("slug", [p["slug"] for p in PROFILES])
def test_rendered_script_matches_expected_file(slug):
    """Each profile renders exactly the reviewed script (regenerate by deleting the file)."""
    script = render(slug)
    expected = EXPECTED / f"{slug}.sh"
    if not expected.exists():
        expected.write_text(script)
        pytest.fail(f"wrote {expected}; review it and run again")
    assert script == expected.read_text()


def test_account_qos_reservation_and_gpu_type_render_when_set():
    """Optional Slurm fields appear only when the profile sets them; --get-user-env never does."""
    profile = {**PROFILES[1], "account": "p200xyz", "qos": "short", "reservation": "ai-course", "gpu_type": "a100"}
    spawner = make_spawner("bob", ("companies",), profiles=[profile])
    spawner.user_options = {"profile": profile["slug"], "gpus": 2}
    script = spawner.render_batch_script()
    for line in (
        "#SBATCH --account=p200xyz",
        "#SBATCH --qos=short",
        "#SBATCH --reservation=ai-course",
        "#SBATCH --gres=gpu:a100:2",
    ):
        assert line in script.splitlines()
    assert "--get-user-env" not in script
    assert "--account" not in render("cpu-course")


def test_gpu_session_stops_sooner_when_idle():
    """The GPU profile's shorter idle limit reaches the server's own shutdown settings."""
    assert "--ServerApp.shutdown_no_activity_timeout=1800" in render("gpu-sandbox")
    assert "--ServerApp.shutdown_no_activity_timeout=3600" in render("cpu-course")


def test_bad_options_raise_spawn_exception_naming_field():
    """Rendering with options outside the profile raises a 400 SpawnException naming the field."""
    spawner = make_spawner("alice", ("learners",))
    spawner.user_options = {"profile": "cpu-course", "walltime": "99:00:00"}
    with pytest.raises(SpawnException) as info:
        spawner.render_batch_script()
    assert info.value.status_code == 400
    assert "walltime: 99:00:00 exceeds this profile's limit of 08:00:00" in str(info.value.log_message or info.value)


SBATCH_LINE = r"#SBATCH --[a-z-]+=[A-Za-z0-9_.,:%/-]+"

#: What an attacker sends: shell syntax, newlines, non-ASCII digits, numbers as text and as numbers.
hostile = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\n#SBATCH --uid=0", "gpu\n", "01:00:00\n", "2\n", "²", "٣", "1 ", "$(id)", "`id`", "cpu;id", "4G"]),
    st.integers(-5, 70).map(str),
    st.integers(-5, 70),
    st.sampled_from(["00:30:00", "1-00:00:00", "08:00:00", "cpu", "gpu", "2", "4"]),
)


@settings(max_examples=10_000, deadline=None)
@given(
    slug=st.sampled_from(sorted(GROUPS)),
    options=st.dictionaries(st.sampled_from(["partition", "cpus", "gpus", "walltime"]), hostile, max_size=4),
)
def test_no_user_text_reaches_the_script(slug, options):
    """10,000 hostile option sets: every #SBATCH line keeps its strict shape, or a field-named 400."""
    spawner = make_spawner("carol", GROUPS[slug])
    spawner.user_options = {"profile": slug, **options}
    try:
        script = spawner.render_batch_script()
    except SpawnException as exc:
        assert exc.status_code == 400 and exc.log_message.split(":")[0] in options
        return
    for line in script.splitlines():
        if line.startswith("#SBATCH"):
            assert re.fullmatch(SBATCH_LINE, line, flags=re.ASCII), line
    assert "\n#SBATCH --uid" not in script and "$(id)" not in script and "`id`" not in script
    assert script.count("\n#SBATCH") == len(EXPECTED.joinpath(f"{slug}.sh").read_text().split("\n#SBATCH")) - 1
