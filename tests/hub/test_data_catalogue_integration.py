"""The models and datasets catalogue on the real hub, Slurm and filesystem, with users of two groups.

The demo catalogue is provisioned for real (files owned by Unix groups, nothing for others); the
learner and the company user ask the hub with their own tokens, as a session's terminal would,
and read the files as themselves, directly and inside a Slurm job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import yaml

from aifnb_data.demo import provision
from tests.support.hub import Hub, HubExited

pytestmark = pytest.mark.integration

AIFNB = str(Path(sys.executable).parent / "aifnb")


@pytest.fixture(scope="module")
def data_root(unix_users):
    """The demo catalogue below a fresh root under /var/tmp (other users must traverse it)."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-data-", dir="/var/tmp"))
    path.chmod(0o755)
    catalogue = provision(path / "data")
    yield path / "data", catalogue
    shutil.rmtree(path, ignore_errors=True)


def _settings(root: Path, catalogue: Path, workdir: Path) -> dict:
    return {
        "data_catalogue": {
            "files": [str(catalogue)],
            "roots": [str(root)],
            "access_log": str(workdir / "data" / "data-access.jsonl"),
        }
    }


@pytest.fixture(scope="module")
def data_hub(slurm, unix_users, hub_workdir, data_root):
    root, catalogue = data_root
    running = Hub(hub_workdir, unix_users, extra=_settings(root, catalogue, hub_workdir)).start()
    yield running
    running.stop()


def _as_user(user: str, argv: list[str], hub: Hub | None = None, token: str = "") -> subprocess.CompletedProcess:
    """``argv`` run as ``user`` (a real login environment), with a session's hub URL and token when given."""
    env = ["env", "-i", f"HOME=/home/{user}", f"PATH={Path(sys.executable).parent}:/usr/bin:/bin"]
    if hub:
        env += [f"JUPYTERHUB_API_URL={hub.url}/hub/api", f"JUPYTERHUB_API_TOKEN={token}"]
    return subprocess.run(["runuser", "-u", user, "--", *env, *argv], capture_output=True, text=True, timeout=120, cwd="/")


def _token(session) -> str:
    return session.api.headers["Authorization"].removeprefix("token ")


def test_catalogues_differ_as_the_groups_say(data_hub, unix_users):
    """The learner's listing lacks the company-only entries; each sees only entries shared with their group."""
    with data_hub.login(unix_users["learners"]) as learner, data_hub.login(unix_users["companies"]) as company:
        seen = {}
        for who, session in (("learner", learner), ("company", company)):
            response = session.api.get("/aifnb/data")
            assert response.status_code == 200, response.text
            seen[who] = {e["name"]: e for e in response.json()["entries"]}
    assert set(seen["company"]) - set(seen["learner"]) == {
        "breast-cancer-wisconsin",
        "credit-applications",
        "network-flows",
        "land-cover-patches",
        "tiny-t5",
    }
    assert all("learners" in e["groups"] for e in seen["learner"].values())
    assert seen["company"]["breast-cancer-wisconsin"]["card"]["legal_basis"] == "not-applicable"


def test_learner_is_refused_by_the_hub_and_by_the_os(data_hub, unix_users, data_root):
    """The learner asking for the company-only dataset gets the refusal naming it and who to ask;
    reading the file directly, in a shell and in a Slurm job, fails with permission denied.
    The company user resolves and reads it, and the access log holds their uses only."""
    root, _ = data_root
    secret = root / "breast_cancer.csv"
    learner_name, company_name = unix_users["learners"], unix_users["companies"]
    with data_hub.login(learner_name) as learner, data_hub.login(company_name) as company:
        refused = _as_user(learner_name, [AIFNB, "data", "path", "breast-cancer-wisconsin"], data_hub, _token(learner))
        assert refused.returncode == 2, refused
        assert refused.stderr.strip() == (
            "aifnb data path: error: dataset 'breast-cancer-wisconsin' is shared with companies only, and you are in "
            "learners; ask health-data-board@ai-factory.example for access"
        )
        shown = _as_user(learner_name, [AIFNB, "data", "show", "credit-applications"], data_hub, _token(learner))
        assert "finance-sandbox@ai-factory.example for access" in shown.stderr
        allowed = _as_user(learner_name, [AIFNB, "data", "path", "iris"], data_hub, _token(learner))
        assert allowed.stdout.strip() == str(root / "iris.csv"), allowed

        direct = _as_user(learner_name, ["cat", str(secret)])
        assert direct.returncode != 0 and "Permission denied" in direct.stderr
        in_job = _as_user(learner_name, ["srun", "--partition=cpu", "--time=1", "--chdir=/tmp", "cat", str(secret)])
        assert in_job.returncode != 0 and "Permission denied" in in_job.stderr, in_job

        read = _as_user(
            company_name,
            [sys.executable, "-c", "from aifnb_data import open_dataset; print(open_dataset('breast-cancer-wisconsin').shape)"],
            data_hub,
            _token(company),
        )
        assert read.stdout.strip() == "(569, 31)", read
    log = [json.loads(line) for line in Path(data_hub.workdir, "data", "data-access.jsonl").read_text().splitlines()]
    uses = [(e["user"], e["entry"], e["purpose"]) for e in log]
    assert (learner_name, "iris", "session") in uses
    assert (company_name, "breast-cancer-wisconsin", "session") in uses
    assert (learner_name, "breast-cancer-wisconsin", "session") not in uses
    assert oct(os.stat(Path(data_hub.workdir, "data", "data-access.jsonl")).st_mode & 0o777) == "0o640"


def test_forged_requests_are_refused(data_hub, unix_users):
    """A forged name, purpose or job id is a 400 naming the field; an unknown name a 404; a request
    without a token is refused."""
    with data_hub.login(unix_users["companies"]) as company:
        bad_name = company.api.post("/aifnb/data/..%2Fetc%2Fpasswd/access", json={})
        assert bad_name.status_code in (400, 404), bad_name.text
        bad_purpose = company.api.post("/aifnb/data/iris/access", json={"purpose": "x\ny"})
        assert bad_purpose.status_code == 400 and "purpose" in bad_purpose.json()["message"]
        bad_job = company.api.post("/aifnb/data/iris/access", json={"job_id": "1; rm"})
        assert bad_job.status_code == 400 and "job_id" in bad_job.json()["message"]
        extra = company.api.post("/aifnb/data/iris/access", json={"user": "someone-else"})
        assert extra.status_code == 400
        # A job id must be the user's own job in the queue, or the log would name a job that never used the entry.
        not_queued = company.api.post("/aifnb/data/iris/access", json={"job_id": "999999", "purpose": "batch"})
        assert not_queued.status_code == 403 and "not one of your jobs" in not_queued.json()["message"]
        learners_job = subprocess.run(
            ["runuser", "-u", unix_users["learners"], "--", "sbatch", "--parsable", "--hold", "-p", "cpu", "-t", "1",
             "-o", "/dev/null", "--wrap", "true"],
            capture_output=True, text=True, check=True, cwd="/tmp",
        ).stdout.strip()  # fmt: skip
        try:
            theirs = company.api.post("/aifnb/data/iris/access", json={"job_id": learners_job, "purpose": "batch"})
            assert theirs.status_code == 403 and learners_job in theirs.json()["message"]
        finally:
            subprocess.run(["scancel", learners_job], check=False)
        unknown = company.api.get("/aifnb/data/nope")
        assert unknown.status_code == 404 and "no entry named 'nope'" in unknown.json()["message"]
    log = Path(data_hub.workdir, "data", "data-access.jsonl")
    logged = log.read_text() if log.exists() else ""
    assert "999999" not in logged and learners_job not in logged
    anonymous = httpx.get(f"{data_hub.url}/hub/api/aifnb/data", timeout=10)
    assert anonymous.status_code == 403


def _start_fails(workdir: Path, users: dict, settings: dict) -> str:
    with pytest.raises(HubExited) as exited:
        Hub(workdir, users, extra=settings).start()
    return exited.value.args[0]


def test_hub_does_not_start_with_an_invalid_catalogue(unix_users, data_root):
    """A card missing a field, an unknown group, a root not configured, a symlink out of the root:
    each stops the hub, naming the entry and the problem."""
    root, catalogue = data_root
    raw = yaml.safe_load(catalogue.read_text())
    cases = []
    missing = yaml.safe_load(catalogue.read_text())
    del next(e for e in missing["entries"] if e["name"] == "wine")["card"]["retention"]
    cases.append((missing, [root], "entry 'wine': card.retention: required field missing"))
    unknown = yaml.safe_load(catalogue.read_text())
    next(e for e in unknown["entries"] if e["name"] == "tiny-t5")["groups"] = ["partners"]
    cases.append((unknown, [root], "entry 'tiny-t5': groups: unknown group(s) partners"))
    cases.append((raw, [Path("/srv/elsewhere")], f"root '{root}' is not one of the configured roots"))
    link = root / "escape.csv"
    link.symlink_to("/etc/shadow")
    escaping = yaml.safe_load(catalogue.read_text())
    next(e for e in escaping["entries"] if e["name"] == "iris")["path"] = "escape.csv"
    cases.append((escaping, [root], "entry 'iris': " + str(link) + " is a symlink"))
    try:
        for number, (content, roots, expected) in enumerate(cases):
            workdir = Path(tempfile.mkdtemp(prefix="aifnb-hub-bad-", dir="/var/tmp"))
            try:
                bad = workdir / "catalogue.yaml"
                bad.write_text(yaml.safe_dump(content))
                message = _start_fails(workdir, unix_users, _settings(roots[0], bad, workdir))
                assert expected in message, f"case {number}: {message[-1500:]}"
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        link.unlink()


def _aifnb(user: str, hub: Hub, token: str, *args: str) -> subprocess.CompletedProcess:
    """``aifnb ARGS`` in a clean shell of ``user``, as a session's terminal runs it (the hub's site file and URL, the token)."""
    home = Path("~" + user).expanduser()
    env = [
        "env",
        "-i",
        f"HOME={home}",
        f"PATH={Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG=C.UTF-8",
        f"AIFNB_SETTINGS={hub.settings_path}",
        f"JUPYTERHUB_API_URL={hub.url}/hub/api",
        f"JUPYTERHUB_API_TOKEN={token}",
    ]
    return subprocess.run(
        ["runuser", "-u", user, "--", *env, sys.executable, "-m", "aifnb_widgets.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd="/",
    )


def _wait_gone(job_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["squeue", "-h", "-r", "-j", job_id, "-o", "%i"], capture_output=True, text=True).stdout
        if not out.strip():
            return
        time.sleep(1)
    subprocess.run(["scancel", job_id], check=False)
    pytest.fail(f"job {job_id} still queued after {timeout:g} s")


@pytest.fixture
def job_folder(unix_users):
    """A folder the test users can write; their run folders of this test removed after."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-data-jobs-", dir="/var/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)
    for user in unix_users.values():
        runs = Path("~" + user).expanduser() / "ai-factory-runs"
        for folder in [*runs.glob("bias-*"), *runs.glob("reads-data*")]:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(600)
def test_scale_and_run_and_bias_jobs_use_catalogue_names(data_hub, unix_users, data_root, job_folder):
    """A Scale & Run job and a bias array naming catalogue entries run with the resolved paths;
    the learner naming a company-only entry is refused before submission; the access log holds
    one line per use with the job id (the bias task's own)."""
    from tests.widgets.batch.conftest import write_notebook

    root, _ = data_root
    learner_name, company_name = unix_users["learners"], unix_users["companies"]
    notebook = write_notebook(
        job_folder / "reads-data.ipynb",
        'DATA = ""\nOUT = ""',
        "import pandas as pd\nopen(OUT, 'w').write(str(len(pd.read_csv(DATA))))",
    )
    out = job_folder / "rows.txt"
    with data_hub.login(learner_name) as learner, data_hub.login(company_name) as company:
        common = ["batch", "submit", str(notebook), "--profile", "cpu-course", "-p", "OUT", str(out)]
        refused = _aifnb(learner_name, data_hub, _token(learner), *common, "--data", "DATA", "credit-applications")
        assert refused.returncode == 2, refused
        assert "dataset 'credit-applications' is shared with companies only" in refused.stderr
        assert "ask finance-sandbox@ai-factory.example" in refused.stderr
        assert "submitted job" not in refused.stdout

        ran = _aifnb(company_name, data_hub, _token(company), *common, "--data", "DATA", "credit-applications")
        assert ran.returncode == 0, ran.stderr
        batch_job = re.search(r"submitted job ([0-9]+)", ran.stdout).group(1)

        bias_refused = _aifnb(
            learner_name, data_hub, _token(learner), "bias", "submit", "--job-dir", str(job_folder / "no-array"),
            "--model", "catalogue:tiny-t5", "--languages", "en", "--concerns", "gender", "--n-templates", "1",
            "--profile", "cpu-course",
        )  # fmt: skip
        assert bias_refused.returncode == 2 and "model 'tiny-t5' is shared with companies only" in bias_refused.stderr
        assert not (job_folder / "no-array").exists()

        bias = _aifnb(
            company_name, data_hub, _token(company), "bias", "submit", "--job-dir", str(job_folder / "array"),
            "--model", "catalogue:tiny-gpt2", "--languages", "en", "--concerns", "gender", "--n-templates", "1",
            "--profile", "cpu-course", "--cpus", "1", "--walltime", "00:10:00",
        )  # fmt: skip
        assert bias.returncode == 0, bias.stderr
        bias_job = bias.stdout.split("array job ")[1].split()[0]
    _wait_gone(batch_job)
    _wait_gone(bias_job)
    assert out.read_text() == "3000"
    models = json.loads((job_folder / "array" / "models.json").read_text())
    assert models == [str(root / "tiny-gpt2")]
    logs = "\n".join(p.read_text() for p in (job_folder / "array" / "logs").glob("*.out"))
    task = next(Path("~" + company_name).expanduser().glob(f"ai-factory-runs/bias-*/*-{bias_job}_0"))
    assert json.loads((task / "job.json").read_text())["status"] == "completed", logs

    log = [json.loads(line) for line in Path(data_hub.workdir, "data", "data-access.jsonl").read_text().splitlines()]
    uses = [(e["user"], e["entry"], e["purpose"], e["job_id"]) for e in log]
    assert uses.count((company_name, "credit-applications", "batch", batch_job)) == 1
    assert uses.count((company_name, "tiny-gpt2", "bias", f"{bias_job}_0")) == 1
    assert not [u for u in uses if u[0] == learner_name and u[1] in ("credit-applications", "tiny-t5")]


def test_demo_cards_tell_the_truth_about_their_files(data_root):
    """Provisioned demo files are root's, of their group, closed to others; each card's row count
    (size) and parameter count match the files."""
    import grp

    import numpy as np
    import pandas as pd
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from aifnb_data.cards import load_catalogue

    root, catalogue = data_root
    for item in load_catalogue([catalogue], [root]):
        entry, location = item.entry, item.location
        info = location.stat()
        owner = entry.unix_group or f"aifnb-{entry.groups[0]}"
        assert (info.st_uid, grp.getgrgid(info.st_gid).gr_name, info.st_mode & 0o007) == (0, owner, 0), entry.name
        if entry.format.value == "npz":
            with np.load(location) as archive:
                assert len(archive["labels"]) == len(archive["images"]) == int(entry.size.split()[0]), entry.name
        elif entry.kind.value == "dataset":
            assert len(pd.read_csv(location)) == int(entry.size.split()[0]), entry.name
        else:
            loader = AutoModelForSeq2SeqLM if AutoConfig.from_pretrained(location).is_encoder_decoder else AutoModelForCausalLM
            model = loader.from_pretrained(location)
            assert sum(p.numel() for p in model.parameters()) == entry.card.parameters, entry.name
