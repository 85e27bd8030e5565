"""10,000 fuzzed batch submissions through the pure check and render functions: no raw value in the script.

Profiles, resources, parameters, sweeps, notebook names and homes are drawn from honest values,
honest values with an attack appended (a newline, a ``#SBATCH`` line, ``$()``, quotes, non-ASCII
digits) and arbitrary text. Each submission is either refused with the project's own error naming
one of its fields, or renders a script whose every line has one of the template's shapes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import nbformat
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aifnb_slurm.profiles import OptionError
from aifnb_slurm.validate import InvalidValue
from aifnb_widgets.batch.api import RESOURCE_KEYS, check_submission, render_submission
from tests.widgets.batch.conftest import DOUBLE_PARAMETERS

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
PYTHON = "/opt/aifnb/venv/bin/python"
#: Tails that turn an honest value into an attack or a near miss.
TAILS = ["", "", "\n", "\n#SBATCH --uid=0", "\r", "$(id)", "`id`", "'", '"', " ", ";id", "²", "٣", "\x00", "/../x", "\u2028"]
#: Characters that no value from a request may bring into the script.
FORBIDDEN = ["\n", "\r", "$", "`", "'", '"', " ", ";", "\x00", "\u2028", "²", "٣"]
#: Marks every text parameter value, so the test can tell that none reached the script.
MARK = "PARAM-"

LINE_SHAPES = [
    r"#!/bin/bash",
    r"#SBATCH --(job-name|output|chdir|export|partition|time|cpus-per-task|mem|gres|account|qos|reservation|array)=[A-Za-z0-9_.:/%+-]+",
    r"set -euo pipefail",
    r"# The run's start as Slurm sees it, for job\.json: the runner's own clock starts after Python's imports\.",
    r'export AIFNB_STARTED_AT="\$\(date \+%s\.%N\)"',
    r"""trap 'echo "aifnb: batch job received SIGTERM, stopping"' TERM""",
    r'run_dir=/[A-Za-z0-9._/+%-]+"\$\{SLURM_(JOB_ID|ARRAY_JOB_ID\}_\$\{SLURM_ARRAY_TASK_ID)\}"',
    r'echo "aifnb: batch job \$\{SLURM_JOB_ID\} \(profile [a-z0-9-]+\) on \$\(hostname\) at \$\(date -Is\); outputs in \$\{run_dir\}"',
    r'/[A-Za-z0-9._/+%-]+ -m aifnb_widgets\.batch\.runner "\$\{run_dir\}"',
]


def _notebook_source() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(DOUBLE_PARAMETERS, metadata={"tags": ["parameters"]})]
    return nbformat.writes(nb)


SOURCE = _notebook_source()


MARKED = st.text(max_size=8).map(lambda text: MARK + text)
#: Parameter sets the notebook accepts.
HONEST_PARAMETERS = st.fixed_dictionaries(
    {},
    optional={
        "X": st.integers(-5, 5),
        "RATE": st.sampled_from([0.5, 1, -2.0]),
        "NAME": MARKED,
        "VERBOSE": st.booleans(),
        "SIZES": st.lists(st.integers(0, 9), max_size=2),
    },
)
#: Honest choices per field of a submission.
HONEST = {
    "profile": st.sampled_from([None, "cpu-course", "gpu-sandbox", "gpu-training"]),
    "groups": st.sampled_from([["learners"], ["companies"], ["companies", "trainers"], ["admins"]]),
    "parameters": st.one_of(st.none(), HONEST_PARAMETERS),
    "sweep": st.one_of(st.none(), st.lists(HONEST_PARAMETERS, min_size=1, max_size=2)),
    "resources": st.sampled_from(
        [None, {}, {"walltime": "00:30:00"}, {"cpus": 3}, {"cpus": "2"}, {"gpus": 2}, {"partition": "gpu"}]
    ),
    "notebook": st.sampled_from(["/home/alice/train.ipynb", "/home/alice/my notebook (v2).ipynb", "/home/alice/.hidden.ipynb"]),
    "home": st.sampled_from(["/home/alice", "/scratch/users/bo.b"]),
}
ANY = st.one_of(st.text(max_size=8), st.integers(-2, 100), st.booleans(), st.none(), st.just([1]), st.just(1.5))
#: Spoilt values per field: attacks appended to honest text, wrong types, unknown names.
SPOILT = {
    "profile": st.one_of(ANY, st.sampled_from(TAILS).map(lambda tail: "cpu-course" + tail)),
    "groups": st.lists(st.text(max_size=8), max_size=3),
    "parameters": st.one_of(
        ANY,
        st.dictionaries(
            st.one_of(st.sampled_from(["X", "RATE", "NAME", "SIZES"]), st.text(max_size=6)),
            st.one_of(ANY, MARKED, st.sampled_from([float("nan"), float("inf")])),
            max_size=2,
        ),
    ),
    "sweep": st.one_of(ANY, st.lists(st.one_of(ANY, st.dictionaries(st.text(max_size=4), ANY, max_size=2)), max_size=2)),
    "resources": st.one_of(
        ANY,
        st.dictionaries(
            st.one_of(st.sampled_from(RESOURCE_KEYS), st.text(max_size=6)),
            st.one_of(
                ANY,
                st.sampled_from(TAILS).map(lambda tail: "cpu" + tail),
                st.sampled_from(TAILS).map(lambda tail: "2" + tail),
                st.sampled_from(TAILS).map(lambda tail: "00:30:00" + tail),
            ),
            max_size=2,
        ),
    ),
    "notebook": st.text(max_size=12).map(lambda name: f"/home/alice/{name}.ipynb"),
    "home": st.one_of(ANY, st.sampled_from(TAILS).map(lambda tail: "/home/alice" + tail)),
}


@st.composite
def submissions(draw) -> dict:
    """An honest submission with up to two fields spoilt."""
    submission = {name: draw(strategy) for name, strategy in HONEST.items()}
    for name in draw(st.lists(st.sampled_from(sorted(SPOILT)), max_size=2, unique=True)):
        submission[name] = draw(SPOILT[name])
    return submission


@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(submission=submissions())
def test_fuzzed_submissions_put_no_raw_value_into_the_script(settings_fixture, submission):
    """Refused with OptionError/ParameterError/InvalidValue naming one of the request's fields, or every script line has a template shape and no input's forbidden character or parameter reached it."""
    profile, parameters, sweep, resources, notebook, home = (
        submission[k] for k in ("profile", "parameters", "sweep", "resources", "notebook", "home")
    )
    sent = {"profile": profile, "parameters": parameters, "sweep": sweep, "resources": resources}
    fields = {"profile", "parameters", "sweep", "resources", "homedir", "run_prefix", "log_path", *RESOURCE_KEYS}
    fields |= {
        str(key)[:40]
        for mapping in [parameters, resources, *(sweep if isinstance(sweep, list) else [])]
        if isinstance(mapping, dict)
        for key in mapping
    }
    try:
        request, sets = check_submission(SOURCE, notebook, groups=submission["groups"], settings=settings_fixture, **sent)
        script = render_submission(
            request,
            notebook,
            tasks=len(sets) if sweep is not None else None,
            home=home,
            submitted_at=T0,
            settings=settings_fixture,
            python=PYTHON,
        )
    except (OptionError, InvalidValue) as exc:
        assert exc.field in fields, f"refusal names {exc.field!r}, not a field of the request"
        event(f"refused: {type(exc).__name__}")
        return
    event("rendered")
    for value in [profile, home, *(resources or {}).values()]:
        if isinstance(value, str):
            assert not any(ch in value for ch in FORBIDDEN), f"{value!r} was accepted"
    assert MARK not in script
    lines = script.splitlines()
    assert len(lines) == len(script.split("\n")) - 1, "a stray line break"
    for line in lines:
        assert any(re.fullmatch(shape, line, flags=re.ASCII) for shape in LINE_SHAPES), f"unexpected line {line!r}"
    assert sum(line.startswith("#SBATCH --array=") for line in lines) == (sweep is not None)


@pytest.fixture(scope="module")
def settings_fixture():
    from aifnb_hub.settings import load_settings

    return load_settings()
