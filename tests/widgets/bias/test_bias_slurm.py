"""The bias job array's script: what it renders, what it refuses, how it is submitted (profile,
groups, run records), and a real two-task run."""

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aifnb_slurm.profiles import JobRequest, OptionError
from aifnb_slurm.validate import InvalidValue
from aifnb_widgets.batch import api
from aifnb_widgets.batch.layout import read_record
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.bias.slurm import (
    prepare_array_job,
    read_models_file,
    render_array_script,
    submit_array,
)

#: A GPU profile's request with account, QoS and reservation, as resolve_request returns it.
GPU = JobRequest(
    profile="gpu-sandbox",
    partition="gpu",
    cpus=8,
    memory="32G",
    gpus=2,
    gpu_type="a100",
    walltime="02:00:00",
    account="p200000",
    qos="sandbox-gpu",
    reservation="course",
    idle_timeout=1800,
)
CPU = JobRequest(
    profile="cpu-course",
    partition="cpu",
    cpus=2,
    memory="4G",
    gpus=0,
    gpu_type=None,
    walltime="01:00:00",
    account=None,
    qos=None,
    reservation=None,
    idle_timeout=3600,
)
PREFIX = "/home/ana/ai-factory-runs/bias-job/20261102T080000Z-"


def test_rendered_script(tmp_path):
    """Every resource line is the request's (partition to walltime, GRES, account, QoS, reservation); the task runs tracked."""
    script = render_array_script(tmp_path / "job", n_models=3, request=GPU, run_prefix=PREFIX, python="/opt/venv/bin/python")
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert {
        "#SBATCH --job-name=aifnb-bias-job",
        "#SBATCH --array=0-2",
        "#SBATCH --partition=gpu",
        "#SBATCH --gres=gpu:a100:2",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=32G",
        "#SBATCH --time=02:00:00",
        "#SBATCH --account=p200000",
        "#SBATCH --qos=sandbox-gpu",
        "#SBATCH --reservation=course",
    } <= set(lines)
    assert f"#SBATCH --output={tmp_path}/job/logs/%A_%a.out" in lines
    assert "set -euo pipefail" in lines
    assert lines.index("set -euo pipefail") > max(i for i, line in enumerate(lines) if line.startswith("#SBATCH"))
    assert f"JOB_DIR={tmp_path}/job" in lines
    assert 'TASK="${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}"' in lines
    assert f'RUN_DIR={PREFIX}"${{SLURM_ARRAY_JOB_ID}}_${{TASK}}"' in lines
    assert (
        'exec /opt/venv/bin/python -m aifnb_widgets.batch.track "$RUN_DIR" -- '
        "/opt/venv/bin/python -m aifnb_widgets.cli bias run \\" in lines
    )
    assert '    --models-file "$JOB_DIR/models.json" \\' in lines and '    --model-index "$TASK" \\' in lines
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_no_gres_account_or_qos_line_when_the_profile_has_none(tmp_path):
    """A CPU profile without account, QoS or reservation renders none of those lines."""
    script = render_array_script(tmp_path, n_models=1, request=CPU, run_prefix=PREFIX)
    assert not any(option in script for option in ("--gres", "--account", "--qos", "--reservation"))


@pytest.mark.parametrize(
    "option, value",
    [
        ("partition", "cpu\n#SBATCH --uid=0"),
        ("walltime", "$(reboot)"),
        ("job_name", "a b"),
        ("memory", "8G;"),
        # A trailing newline passed re.match(r"...$") before: each one is a new #SBATCH line.
        ("partition", "cpu\n"),
        ("account", "p1\n"),
        ("walltime", "01:00:00\n"),
        ("memory", "8G\n"),
        ("job_name", "aifnb-bias\n"),
        ("qos", "q;id"),
        ("cpus", "2\n"),
        ("cpus", True),
        ("python", "/usr/bin/python3\n"),
        ("memory", "８G"),
        ("walltime", "٠١:00:00"),
        ("run_prefix", "/home/a/x y-"),
        ("gpu_type", "a100\n"),
    ],
    ids=[
        "partition-newline-directive",
        "time-subshell",
        "job-name-space",
        "mem-semicolon",
        "partition-trailing-newline",
        "account-trailing-newline",
        "time-trailing-newline",
        "mem-trailing-newline",
        "job-name-trailing-newline",
        "qos-semicolon",
        "cpus-text",
        "cpus-bool",
        "python-trailing-newline",
        "mem-fullwidth-digit",
        "time-arabic-digits",
        "run-prefix-space",
        "gpu-type-newline",
    ],
)
def test_injection_through_options_is_refused(tmp_path, option, value):
    """Each value outside its allow-list, in the request or the script's own options, is refused with InvalidValue naming it."""
    request_fields = {f.name for f in dataclasses.fields(JobRequest)}
    request = dataclasses.replace(GPU, **{option: value}) if option in request_fields else GPU
    options = {} if option in request_fields else {option: value}
    with pytest.raises(InvalidValue, match="not allowed") as info:
        render_array_script(tmp_path, n_models=1, request=request, **{"run_prefix": PREFIX, **options})
    assert info.value.field == option


#: Values an honest request would use, per option (request fields and the script's own).
GOOD = {
    "partition": ["cpu", "gpu", "a100.big", "debug-1"],
    "gpus": [0, 1, 2],
    "gpu_type": [None, "a100"],
    "walltime": ["01:00:00", "1-00:00:00", "00:10:00"],
    "memory": ["8G", "512M", "2T"],
    "account": [None, "p200000"],
    "qos": [None, "sandbox-gpu"],
    "job_name": ["aifnb-bias-a", "aifnb-bias-run_2"],
    "python": ["/opt/aifnb/venv/bin/python", "/usr/bin/python3"],
    "cpus": [1, 2, 16, 256],
    "n_models": [1, 2, 1000],
    "job_dir": ["/scratch/bias", "/var/tmp/a.b"],
    "run_prefix": [PREFIX, "/h/ai-factory-runs/bias-x/1-"],
}
REQUEST_FIELDS = ("partition", "gpus", "gpu_type", "walltime", "memory", "account", "qos", "cpus")
#: Tails that turn a good value into an attack or a near miss.
TAILS = ["", "\n", "\n#SBATCH --uid=0", "\r", "$(id)", "`id`", "'", '"', " ", ";id", "²", "٣", "\x00", "/../x", "\u2028"]
#: Characters no value from a request may bring into the script.
FORBIDDEN = ["\n", "\r", "$", "`", "'", '"', " ", ";", "\x00", "\u2028", "²", "٣"]
#: Every line a rendered script may have, whatever the request (values already matched their allow-lists).
LINE_SHAPES = [
    r"#!/bin/bash",
    r"# .*",
    r"#SBATCH --(job-name|partition|array|cpus-per-task|mem|time|gres|account|qos|reservation|output)=[A-Za-z0-9_.:/%+-]+",
    r"set -euo pipefail",
    r"",
    r"JOB_DIR=/[A-Za-z0-9_./+%-]+",
    r'TASK="\$\{SLURM_ARRAY_TASK_ID:\?not running as a Slurm array task\}"',
    r'RUN_DIR=/[A-Za-z0-9_./+%-]+"\$\{SLURM_ARRAY_JOB_ID\}_\$\{TASK\}"',
    r'export AIFNB_STARTED_AT="\$\(date \+%s\.%N\)"',
    r'export OMP_NUM_THREADS="\$\{SLURM_CPUS_PER_TASK:-1\}"',
    r'echo "aifnb: bias array task \$\{SLURM_ARRAY_JOB_ID\}_\$\{TASK\} \(profile cpu-course\) '
    r'on \$\(hostname\) at \$\(date -Is\)"',
    r'exec /[A-Za-z0-9_./+%-]+ -m aifnb_widgets\.batch\.track "\$RUN_DIR" -- '
    r"/[A-Za-z0-9_./+%-]+ -m aifnb_widgets\.cli bias run \\",
    r'    --(scenario|models-file|model-index|out) "\$(JOB_DIR/[a-z.]+|TASK|JOB_DIR/tasks/\$TASK)"( \\)?',
]


@st.composite
def bias_requests(draw) -> dict:
    """An honest request with up to two values spoilt: an attack appended, arbitrary text, a number, a bool or None."""
    request = {name: draw(st.sampled_from(values)) for name, values in GOOD.items()}
    for name in draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=2, unique=True)):
        honest = str(request[name] or "gpu")
        request[name] = draw(
            st.one_of(
                st.sampled_from(TAILS).map(lambda tail, honest=honest: honest + tail),
                st.text(max_size=12),
                st.integers(-3, 3000),
                st.booleans(),
                st.none(),
            )
        )
    return request


@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=bias_requests())
def test_fuzzed_bias_array_requests_put_no_raw_value_into_the_script(drawn):
    """10,000 requests: refused naming a value, or a script of known line shapes without a forbidden character."""
    request = dataclasses.replace(CPU, **{name: drawn[name] for name in REQUEST_FIELDS})
    options = {name: value for name, value in drawn.items() if name not in REQUEST_FIELDS}
    try:
        script = render_array_script(request=request, **options)
    except InvalidValue as exc:
        assert exc.field in drawn
        event(f"refused: {exc.field}")
        return
    event("rendered")
    for name, value in drawn.items():
        if isinstance(value, str):
            assert not any(ch in value for ch in FORBIDDEN), f"{name}={value!r} was accepted"
    lines = script.splitlines()
    assert len(lines) == len(script.split("\n")) - 1, "a stray line break"
    for line in lines:
        assert any(re.fullmatch(shape, line, flags=re.ASCII) for shape in LINE_SHAPES), f"unexpected line {line!r}"
    assert sum(line.startswith("#SBATCH --gres=") for line in lines) == (1 if drawn["gpus"] else 0)


def test_job_dir_with_shell_characters_is_refused(tmp_path):
    """A job folder with shell syntax in its name is refused, naming job_dir."""
    with pytest.raises(InvalidValue, match=r"^job_dir: .* not allowed") as info:
        render_array_script(tmp_path / "x$(id)", n_models=1, request=CPU, run_prefix=PREFIX, job_name="aifnb-bias-x")
    assert info.value.field == "job_dir"


def test_models_go_to_a_file_never_into_the_script(tmp_path):
    """Model specs are written to models.json and checked; none appears in the script."""
    models = ["/scratch/m1", "http://gpu01:8000/v1#llama"]
    script = prepare_array_job(tmp_path / "job", default_scenario(n_templates=1), models, CPU, run_prefix=PREFIX)
    assert all(m not in script.read_text() for m in models)
    assert json.loads((tmp_path / "job" / "models.json").read_text()) == models
    assert read_models_file(tmp_path / "job" / "models.json", 1) == models[1]
    with pytest.raises(ValueError, match="no model at index 2"):
        read_models_file(tmp_path / "job" / "models.json", 2)
    with pytest.raises(ValueError, match="not allowed"):
        prepare_array_job(tmp_path / "bad", default_scenario(), ["m; rm -rf /"], CPU, run_prefix=PREFIX)


@pytest.fixture
def scripted_slurm(tmp_path, monkeypatch):
    """sbatch answers job ids 700, 701...; release and scancel are noted; the user's home is a temporary folder."""
    calls: list[tuple[str, str]] = []
    ids = iter(range(700, 800))
    (tmp_path / "home").mkdir()
    monkeypatch.setattr(api, "home_of", lambda user: str(tmp_path / "home"))
    monkeypatch.setattr(api.slurm, "submit_held", lambda account, script: calls.append(("sbatch", script)) or str(next(ids)))
    monkeypatch.setattr(api.slurm, "release", lambda account, job: calls.append(("release", job)))
    monkeypatch.setattr(api.slurm, "scancel", lambda account, job: calls.append(("scancel", job)))
    return tmp_path, calls


def test_submission_writes_each_tasks_record_before_releasing_the_array(scripted_slurm, settings_fixture):
    """The array is submitted held with the profile's resources and released once every task has a bias record."""
    tmp_path, calls = scripted_slurm
    submission = submit_array(
        tmp_path / "llms",
        default_scenario(n_templates=1),
        ["/m/a", "/m/b"],
        profile="gpu-sandbox",
        gpus="2",
        walltime="01:30:00",
        groups=["companies"],
        settings=settings_fixture,
    )
    assert [c[0] for c in calls] == ["sbatch", "release"] and calls[1][1] == "700" and submission.job_id == "700"
    script = calls[0][1]
    assert "#SBATCH --partition=gpu" in script and "#SBATCH --gres=gpu:2" in script and "#SBATCH --time=01:30:00" in script
    assert "#SBATCH --job-name=aifnb-bias-llms" in script and "#SBATCH --array=0-1" in script
    assert [f.name.split("-")[-1] for f in submission.folders] == ["700_0", "700_1"]
    for task, folder in enumerate(submission.folders):
        assert folder.parent == tmp_path / "home" / "ai-factory-runs" / "bias-llms"
        record = read_record(folder)
        assert (record.kind, record.task_id, record.status, record.gpus, record.job_dir) == (
            "bias",
            task,
            "submitted",
            2,
            str(tmp_path / "llms"),
        )
        assert f'RUN_DIR={str(folder)[: -len("700_0")]}"' in script


@pytest.mark.parametrize(
    ("groups", "choices", "message"),
    [
        (["learners"], {"profile": "gpu-sandbox"}, "profile: 'gpu-sandbox' is not available to you; choose one of cpu-course"),
        (["companies"], {"profile": "gpu-sandbox", "gpus": "5"}, "gpus: 5 is outside this profile's range 1-4"),
        (["learners"], {"profile": "cpu-course", "gpus": "1"}, "gpus: this profile fixes gpus at 0"),
        (["companies"], {"profile": "cpu-course", "walltime": "99:00:00"}, "walltime: 99:00:00 exceeds this profile's limit"),
    ],
    ids=["profile-not-for-learners", "gpus-above-limit", "gpus-on-cpu-profile", "walltime-above-limit"],
)
def test_refused_before_anything_is_written_or_submitted(scripted_slurm, settings_fixture, groups, choices, message):
    """A profile the groups do not allow, or resources above its limits: OptionError naming the field; nothing written or sent."""
    tmp_path, calls = scripted_slurm
    with pytest.raises(OptionError) as info:
        submit_array(
            tmp_path / "llms", default_scenario(n_templates=1), ["/m/a"], groups=groups, settings=settings_fixture, **choices
        )
    assert message in str(info.value) and calls == [] and not (tmp_path / "llms").exists()


@pytest.fixture(scope="session")
def settings_fixture():
    from aifnb_hub.settings import load_settings

    return load_settings()


def test_the_command_line_refuses_a_learners_gpu_profile_in_one_line(tmp_path, monkeypatch, capsys):
    """`aifnb bias submit --profile gpu-sandbox` by a learner (hub groups) exits 2 with one line naming the profile field."""
    from aifnb_widgets.batch.queue import current_user
    from aifnb_widgets.cli import main
    from tests.support.fake_hub import FakeHub, Token

    me = current_user()
    site = tmp_path / "my.yaml"  # the user's own settings file, claiming companies: it must grant nothing
    site.write_text(f"groups:\n  companies: {{users: [{me}]}}\n")
    hub = FakeHub(groups={me: ["learners"]}, tokens={"t": Token(me)}).start()
    try:
        monkeypatch.setenv("AIFNB_SETTINGS", str(site))
        for key, value in hub.session_env("t").items():
            monkeypatch.setenv(key, value)
        code = main(
            ["bias", "submit", "--job-dir", str(tmp_path / "job"), "--model", "/m/a", "--profile", "gpu-sandbox", "--no-submit"]
        )
        assert code == 2
        assert capsys.readouterr().err.splitlines() == [
            "aifnb bias submit: error: profile: 'gpu-sandbox' is not available to you; choose one of cpu-course"
        ]
        assert not (tmp_path / "job").exists()
        assert (
            main(
                [
                    "bias",
                    "submit",
                    "--job-dir",
                    str(tmp_path / "job"),
                    "--model",
                    "/m/a",
                    "--profile",
                    "cpu-course",
                    "--cpus",
                    "1",
                    "--no-submit",
                ]
            )
            == 0
        )
        assert "#SBATCH --cpus-per-task=1" in (tmp_path / "job" / "bias_array.sbatch").read_text()
    finally:
        hub.stop()


def test_the_old_free_form_options_are_gone(capsys):
    """--partition, --gres and --mem are no longer options of `aifnb bias submit`."""
    from aifnb_widgets.cli import main

    for option in ("--partition", "--gres", "--mem"):
        with pytest.raises(SystemExit) as info:
            main(["bias", "submit", "--job-dir", "/tmp/x", "--model", "m", "--profile", "cpu-course", option, "gpu"])
        assert info.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err


@pytest.fixture(scope="module")
def fake_hub(unix_users):
    """A hub API answering each test user's token with their platform group, and a slow model endpoint."""
    from tests.support.fake_hub import FakeHub, Token

    hub = FakeHub(
        groups={user: [group] for group, user in unix_users.items()}, tokens={user: Token(user) for user in unix_users.values()}
    )
    yield hub.start()
    hub.stop()


def as_user(
    user: str, *args: str, hub=None, settings_file: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``aifnb ARGS`` in a clean shell of ``user``: with a session's hub variables when ``hub`` is given."""
    from aifnb_widgets.batch.api import home_of

    env = {"PATH": os.environ["PATH"], "HOME": home_of(user), "LANG": "C.UTF-8", **(hub.session_env(user) if hub else {})}
    if settings_file:
        env["AIFNB_SETTINGS"] = str(settings_file)
    return subprocess.run(
        [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            sys.executable,
            "-m",
            "aifnb_widgets.cli",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def job_dir(unix_users):
    """A job folder all test users can write, outside pytest's root-only tree; its bias jobs and run folders removed after."""
    from aifnb_widgets.batch.api import home_of

    path = Path(tempfile.mkdtemp(prefix="aifnb-bias-array-", dir="/var/tmp"))
    path.chmod(0o1777)
    yield path
    leftovers = subprocess.run(["squeue", "-h", "-r", "-o", "%i %j"], capture_output=True, text=True, check=True).stdout.split(
        "\n"
    )
    ours = [line.split()[0] for line in leftovers if line.strip() and line.split()[1].startswith("aifnb-bias-array")]
    if ours:
        subprocess.run(["scancel", *ours], check=False)
    shutil.rmtree(path, ignore_errors=True)
    for user in unix_users.values():
        for folder in (Path(home_of(user)) / "ai-factory-runs").glob("bias-array*"):
            shutil.rmtree(folder, ignore_errors=True)
    assert ours == [], f"bias jobs left behind: {ours}"


def wait_for(predicate, what: str, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def queued(job_id: str) -> str:
    return subprocess.run(
        ["squeue", "-h", "-r", "-j", job_id, "-o", "%i %j %T"], capture_output=True, text=True, check=False
    ).stdout.strip()


@pytest.mark.integration
def test_a_learner_is_refused_a_gpu_profile_whatever_their_settings_file_says(slurm, unix_users, fake_hub, job_dir):
    """A learner's gpu-sandbox array is refused naming the profile, whatever their own settings file says, or off-session."""
    learner = unix_users["learners"]
    claim = job_dir / "my.yaml"
    claim.write_text(f"groups:\n  companies: {{users: [{learner}]}}\n  learners: {{users: [{learner}]}}\n")
    claim.chmod(0o644)
    args = ["bias", "submit", "--job-dir", str(job_dir / "array"), "--model", "/m/a", "--profile", "gpu-sandbox"]
    refused = as_user(learner, *args, hub=fake_hub, settings_file=claim)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.splitlines() == [
        "aifnb bias submit: error: profile: 'gpu-sandbox' is not available to you; choose one of cpu-course"
    ]
    outside = as_user(learner, *args, settings_file=claim)  # no hub variables: the file is not asked
    assert outside.returncode == 2 and "this is not a hub session" in outside.stderr and "Traceback" not in outside.stderr
    assert not (job_dir / "array").exists() and queued(learner) == ""


@pytest.mark.integration
def test_gpus_above_the_profiles_limit_are_refused(slurm, unix_users, fake_hub, job_dir):
    """A company user's gpu-sandbox array with --gpus 5 (limit 4) exits 2 naming gpus and the allowed range."""
    company = unix_users["companies"]
    refused = as_user(
        company,
        "bias",
        "submit",
        "--job-dir",
        str(job_dir / "array"),
        "--model",
        "/m/a",
        "--profile",
        "gpu-sandbox",
        "--gpus",
        "5",
        hub=fake_hub,
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == ["aifnb bias submit: error: gpus: 5 is outside this profile's range 1-4"]
    assert not (job_dir / "array").exists()


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_an_allowed_bias_array_is_listed_with_its_kind_cancelled_and_counted(slurm, unix_users, fake_hub, job_dir):
    """An allowed bias array is listed as kind bias, cancelled with `aifnb batch cancel`, and counted under kind bias."""
    from datetime import UTC, datetime, timedelta

    from aifnb_widgets.batch.usage import usage_report

    company = unix_users["companies"]
    since = datetime.now(UTC) - timedelta(seconds=1)
    fake_hub.completions = 0
    submit = as_user(
        company,
        "bias",
        "submit",
        "--job-dir",
        str(job_dir / "array"),
        "--model",
        f"{fake_hub.model_url}#slow",
        "--languages",
        "en",
        "--concerns",
        "gender",
        "--n-templates",
        "2",
        "--profile",
        "cpu-course",
        "--cpus",
        "1",
        "--walltime",
        "00:10:00",
        hub=fake_hub,
    )
    assert submit.returncode == 0, submit.stderr
    job_id = re.search(r"submitted array job ([0-9]+) \(1 task\(s\), profile cpu-course\)", submit.stdout).group(1)
    assert f"{job_id}_0 aifnb-bias-array" in wait_for(lambda: queued(job_id), "the array in the queue", 30)
    [folder] = (Path(api.home_of(company)) / "ai-factory-runs").glob(f"bias-array*/*-{job_id}_0")
    assert folder.owner() == company and read_record(folder).kind == "bias"

    wait_for(lambda: read_record(folder).status == "running" and fake_hub.completions > 0, "the task asking its model")
    listing = as_user(company, "batch", "list", hub=fake_hub)
    assert listing.returncode == 0, listing.stderr
    assert re.search(rf"^{job_id}_0 +bias +RUNNING ", listing.stdout, flags=re.MULTILINE), listing.stdout

    other = as_user(unix_users["learners"], "batch", "cancel", job_id, hub=fake_hub)
    assert other.returncode == 2 and "not one of your batch jobs" in other.stderr and queued(job_id)
    cancel = as_user(company, "batch", "cancel", job_id, hub=fake_hub)
    assert cancel.returncode == 0 and f"cancelled {job_id}_0" in cancel.stdout, cancel.stderr
    wait_for(lambda: not queued(job_id) and read_record(folder).ended_at is not None, "the task's end in its record", 60)
    record = read_record(folder)
    assert record.status == "cancelled" and record.started_at < record.ended_at

    report = usage_report(since, datetime.now(UTC) + timedelta(seconds=1), users={company: ["companies"]})
    assert report.source == "platform records"
    rows = report.table[(report.table.name == company) & (report.table.kind == "bias")]
    assert len(rows) == 1 and int(rows.jobs.iloc[0]) == 1 and rows.source.iloc[0] == "user-record", report.table
    ran = (record.ended_at - record.started_at).total_seconds() / 3600
    assert abs(rows.hours.iloc[0] - ran) < 1e-6 and abs(rows.cpu_hours.iloc[0] - ran) < 1e-6


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_two_task_array_on_real_slurm_merges_into_one_leaderboard(slurm, unix_users, fake_hub, job_dir):
    """Submitted as a test user on a profile through the real sbatch; both tasks end completed and merge into one table."""
    from aifnb_widgets.models.tiny import build_tiny_causal_lm, build_tiny_seq2seq

    user = unix_users["companies"]
    gpt2 = build_tiny_causal_lm(job_dir / "models" / "gpt2")
    t5 = build_tiny_seq2seq(job_dir / "models" / "t5")
    subprocess.run(["chown", "-R", user, str(job_dir / "models")], check=True)

    submit = as_user(
        user,
        "bias",
        "submit",
        "--job-dir",
        str(job_dir / "array"),
        "--model",
        str(gpt2),
        "--model",
        str(t5),
        "--languages",
        "en",
        "--concerns",
        "gender,politics",
        "--n-templates",
        "2",
        "--profile",
        "cpu-course",
        "--walltime",
        "00:10:00",
        "--cpus",
        "1",
        hub=fake_hub,
    )
    assert submit.returncode == 0, submit.stderr
    job_id = submit.stdout.split("array job ")[1].split()[0]

    wait_for(lambda: not queued(job_id), f"array {job_id} to leave the queue", 480)
    logs = "\n".join(p.read_text() for p in sorted((job_dir / "array" / "logs").glob("*.out")))
    folders = sorted((Path(api.home_of(user)) / "ai-factory-runs").glob(f"bias-array*/*-{job_id}_*"))
    assert [read_record(f).status for f in folders] == ["completed", "completed"], logs

    merge = as_user(user, "bias", "merge", str(job_dir / "array"))
    assert merge.returncode == 0, merge.stderr + logs
    results = json.loads((job_dir / "array" / "merged" / "results.json").read_text())
    # The LangBiTe-compatible spec, whatever its version (the specs are versioned by the bias engine).
    table = next(board for name, board in results["leaderboards"].items() if name.startswith("langbite-compat-"))
    assert {str(gpt2), str(t5), "baseline: always No", "baseline: always refuses"} <= set(table)
    assert set(table[str(gpt2)]) == {"Gender", "Political", "Mean"}
