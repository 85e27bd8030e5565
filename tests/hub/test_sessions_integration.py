"""Sessions through the real hub, proxy and single-node Slurm, as users see them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import session_jobs, squeue_jobs

pytestmark = pytest.mark.integration


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", job_id], check=True, capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w[\w:/]*)=(\S*)", out))


def job_of(user: str) -> str:
    jobs = session_jobs(user)
    assert len(jobs) == 1, f"{user} should have exactly one job, has {jobs}"
    return jobs[0]


def test_learner_spawns_cpu_course_through_form_and_keeps_edits(hub, unix_users):
    """A learner picks the CPU course profile in the form; the job matches it; their notebook edits survive a restart."""
    learner = unix_users["learners"]
    with hub.login(learner) as session:
        home = session.client.get("/hub/home")
        assert 'id="aifnb-catalogue"' in home.text and "Course 1: Working on the AI Factory" in home.text
        form = session.client.get(f"/hub/spawn/{learner}")
        assert form.status_code == 200
        assert 'value="cpu-course"' in form.text and 'value="gpu-sandbox"' not in form.text
        assert re.search(r"partition cpu:\s+\d+/1 nodes idle, \d+ CPUs", form.text), "availability from sinfo missing"
        response = session.client.post(
            f"/hub/spawn/{learner}",
            data={
                "profile": "cpu-course",
                "walltime-cpu-course": "01:30:00",
                "_xsrf": session.xsrf_form(f"/hub/spawn/{learner}"),
            },
        )
        assert response.status_code == 302, response.text[:500]
        session.wait_ready()
        job = scontrol(job_of(learner))
        assert job["Partition"] == "cpu"
        assert job["TimeLimit"] == "01:30:00"
        assert job["NumCPUs"] == "2"
        assert "gres/gpu" not in job.get("TRES", "")

        # The user's server answers through the proxy.
        status = session.client.get(f"/user/{learner}/api/status", headers=session.api.headers)
        assert status.status_code == 200, status.text[:300]

        # Session tools: the resource monitor measures against the job's allocation (4G, 2 CPUs
        # of cpu-course), JupyterLab's news prompt is off.
        metrics = session.client.get(f"/user/{learner}/api/metrics/v1", headers=session.api.headers)
        assert metrics.status_code == 200, metrics.text[:300]
        limits = metrics.json()["limits"]
        assert limits["memory"]["rss"] == 4 * 1024**3 and limits["cpu"]["cpu"] == 2, limits
        lab = session.client.get(f"/user/{learner}/lab", headers=session.api.headers)
        assert "@jupyterlab/apputils-extension:announcements" in lab.text, lab.text[:300]

        home = Path(f"/home/{learner}/ai-factory")
        courses = sorted(home.glob("courses/*.ipynb"))
        assert courses, f"no courses preloaded in {home}"
        edited = courses[0]
        notebook = json.loads(edited.read_text())
        notebook["cells"].append({"cell_type": "markdown", "id": "my-own-note", "metadata": {}, "source": "my own note"})
        edited.write_text(json.dumps(notebook))

        session.stop()
        assert session_jobs(learner) == []
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        assert "my own note" in edited.read_text()
        session.stop()
        assert session_jobs(learner) == []


def test_company_spawns_gpu_sandbox_through_api(hub, unix_users):
    """A company user's GPU profile renders --gres and lands in the gpu partition with the GPU visible."""
    company = unix_users["companies"]
    with hub.login(company) as session:
        response = session.start({"profile": "gpu-sandbox", "gpus": 1, "walltime": "00:30:00"})
        assert response.status_code in (201, 202), response.text
        session.wait_ready()
        job = scontrol(job_of(company))
        assert job["Partition"] == "gpu"
        assert job["TimeLimit"] == "00:30:00"
        assert "gres/gpu=1" in job["TRES"] or "gpu:1" in job.get("TresPerNode", "")
        session.stop()
        assert session_jobs(company) == []
    events = [json.loads(line) for line in (hub.workdir / "data/usage/sessions.jsonl").read_text().splitlines()]
    mine = [(e["event"], e["gpus"]) for e in events if e["user"] == company and e["profile"] == "gpu-sandbox"]
    assert mine[:2] == [("start", 1), ("stop", 1)], events


@pytest.mark.parametrize(
    ("who", "options", "field"),
    [
        ("learners", {"profile": "gpu-sandbox"}, "profile"),
        ("companies", {"profile": "gpu-sandbox", "gpus": 9}, "gpus"),
        ("companies", {"profile": "gpu-sandbox", "walltime": "09:00:00"}, "walltime"),
        ("learners", {"profile": "cpu-course", "partition": "gpu"}, "partition"),
        ("learners", {"profile": "cpu-course", "walltime": "01:00:00\n#SBATCH --uid=0"}, "walltime"),
        ("learners", {"profile": "cpu-course", "partition": "cpu; rm -rf ~"}, "partition"),
        ("learners", {"profile": "cpu-course", "cmd": "/bin/sh"}, "cmd"),
    ],
    ids=[
        "learner-gpu",
        "gpus-above-max",
        "walltime-above-limit",
        "partition-not-in-profile",
        "newline-sbatch",
        "shell-meta",
        "unknown-key",
    ],
)
def test_refused_options_submit_nothing(hub, unix_users, who, options, field):
    """Options outside the profile are refused with the field named, and no job reaches Slurm."""
    user = unix_users[who]
    with hub.login(user) as session:
        assert session_jobs(user) == []
        response = session.start(options)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert message.startswith(f"{field}:"), message
        session.wait_stopped()
        assert session_jobs(user) == []


def progress_messages(session, until: str, timeout: float = 30) -> list[str]:
    """Messages of the hub's spawn progress stream, read until one contains ``until``."""
    import time

    messages: list[str] = []
    deadline = time.monotonic() + timeout
    with session.api.stream("GET", f"/users/{session.username}/server/progress", timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                messages.append(json.loads(line[5:])["message"])
                if until in messages[-1] or time.monotonic() > deadline:
                    break
    return messages


def test_pending_spawn_shows_reason_and_cancel_removes_the_job(hub, unix_users):
    """While the only GPU is taken, a second GPU spawn pends with Slurm's reason; cancelling it leaves no job."""
    with hub.login(unix_users["companies"]) as company, hub.login(unix_users["admins"]) as admin:
        assert company.start({"profile": "gpu-sandbox"}).status_code in (201, 202)
        company.wait_ready()
        assert admin.start({"profile": "gpu-sandbox"}).status_code == 202
        messages = progress_messages(admin, "pending (Resources)")
        assert any("pending (Resources)" in m for m in messages), messages
        assert len(session_jobs(unix_users["admins"])) == 1
        response = admin.api.delete(f"/users/{admin.username}/server")
        assert response.status_code in (202, 204), response.text
        admin.wait_stopped()
        assert session_jobs(unix_users["admins"]) == []
        company.stop()


def test_job_callback_accepts_the_port_and_nothing_else(hub, unix_users):
    """With the server's own token, the job may report a port; any other key is refused."""
    import httpx

    learner = unix_users["learners"]
    with hub.login(learner) as session:
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        pid = subprocess.run(
            ["pgrep", "-u", learner, "-f", "jupyterhub-singleuser"], capture_output=True, text=True
        ).stdout.split()[0]
        environ = dict(item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
        url = f"{environ['JUPYTERHUB_API_URL']}/batchspawner"
        headers = {"Authorization": f"token {environ['JUPYTERHUB_API_TOKEN']}"}
        for body in ({"ip": "10.0.0.66", "port": 1}, {"port": "8888"}, {"cmd": ["/bin/sh"]}, {"port": 70000}):
            response = httpx.post(url, json=body, headers=headers)
            assert response.status_code == 400, (body, response.text)
        assert httpx.post(url, json={"port": 1234}, headers={"Authorization": "token wrong"}).status_code == 403
        server = session.server()
        assert "10.0.0.66" not in json.dumps(server)
        assert session.client.get(f"/user/{learner}/api/status", headers=session.api.headers).status_code == 200
        session.stop()


@pytest.mark.parametrize("name", ["root", "nobody"])
def test_system_accounts_get_no_job(hub, unix_users, name):
    """An admin who creates hub user root or nobody cannot start their server: 4xx, nothing in squeue."""
    with hub.login(unix_users["admins"]) as admin:
        created = admin.api.post(f"/users/{name}")
        if created.status_code < 400:  # the hub may refuse the name itself; if not, the spawner must
            started = admin.api.post(f"/users/{name}/server", json={"profile": "cpu-course"})
            assert 400 <= started.status_code < 500, started.text
            assert "system account" in started.json()["message"]
            admin.api.delete(f"/users/{name}")
        assert squeue_jobs(name) == []


def test_slurm_itself_refuses_root_and_other_groups_partitions(slurm, unix_users):
    """Slurm refuses root's jobs (DisableRootJobs) and a learner's direct sbatch to the GPU partition (AllowGroups)."""
    import time

    def sbatch(prefix: list[str], partition: str) -> subprocess.CompletedProcess:
        argv = [*prefix, "sbatch", "--parsable", "-p", partition, "-J", "aifnb-limits-test", "--wrap", "true"]
        return subprocess.run(argv, capture_output=True, text=True)

    as_root = sbatch([], "cpu")
    assert as_root.returncode != 0 and "Invalid user id" in as_root.stderr, as_root
    learner = ["runuser", "-u", unix_users["learners"], "--"]
    time.sleep(3)  # GroupUpdateTime: the controller sees the test users' group memberships
    gpu = sbatch(learner, "gpu")
    assert gpu.returncode != 0 and "not permitted to use this partition" in gpu.stderr, gpu
    cpu = sbatch(learner, "cpu")
    assert cpu.returncode == 0, cpu.stderr
    subprocess.run(["scancel", cpu.stdout.strip().split(";")[0]], check=True)


def test_the_session_token_gives_the_batch_tools_the_users_hub_groups(hub, unix_users):
    """In a real learner session, the session's own token gives `aifnb bias submit` the hub groups: gpu-sandbox refused."""
    learner = unix_users["learners"]
    job_dir = Path(tempfile.mkdtemp(prefix="aifnb-session-groups-", dir="/var/tmp"))
    job_dir.chmod(0o1777)
    with hub.login(learner) as session:
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        try:
            pgrep = ["pgrep", "-u", learner, "-f", "jupyterhub-singleuser"]
            pid = subprocess.run(pgrep, capture_output=True, text=True).stdout.split()[0]
            environ = dict(item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
            env = {key: environ[key] for key in ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "AIFNB_SETTINGS")}
            env.update(PATH=os.environ["PATH"], HOME=environ["HOME"], LANG="C.UTF-8")

            def bias_submit(profile: str) -> subprocess.CompletedProcess:
                argv = [
                    "bias",
                    "submit",
                    "--job-dir",
                    str(job_dir / profile),
                    "--model",
                    "/m/a",
                    "--profile",
                    profile,
                    "--no-submit",
                ]
                shell = ["runuser", "-u", learner, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
                return subprocess.run(
                    [*shell, sys.executable, "-m", "aifnb_widgets.cli", *argv], capture_output=True, text=True, timeout=120
                )

            refused = bias_submit("gpu-sandbox")
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert refused.stderr.splitlines() == [
                "aifnb bias submit: error: profile: 'gpu-sandbox' is not available to you; choose one of cpu-course"
            ]
            allowed = bias_submit("cpu-course")
            assert allowed.returncode == 0, allowed.stderr
            assert "#SBATCH --partition=cpu" in (job_dir / "cpu-course" / "bias_array.sbatch").read_text()
        finally:
            session.stop()
            shutil.rmtree(job_dir, ignore_errors=True)
