"""Sessions through the real hub, proxy and single-node Slurm, as users see them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import squeue_jobs

pytestmark = pytest.mark.integration


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", job_id], check=True, capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w[\w:/]*)=(\S*)", out))


def job_of(user: str) -> str:
    jobs = squeue_jobs(user)
    assert len(jobs) == 1, f"{user} should have exactly one job, has {jobs}"
    return jobs[0]


def test_learner_spawns_cpu_course_through_form_and_keeps_edits(hub, unix_users):
    """A learner picks the CPU course profile in the form; the job matches it; their notebook edits survive a restart."""
    learner = unix_users["learners"]
    with hub.login(learner) as session:
        form = session.client.get(f"/hub/spawn/{learner}")
        assert form.status_code == 200
        assert 'value="cpu-course"' in form.text and 'value="gpu-sandbox"' not in form.text
        response = session.client.post(
            f"/hub/spawn/{learner}",
            data={"profile": "cpu-course", "walltime-cpu-course": "01:30:00", "_xsrf": session.xsrf_form(f"/hub/spawn/{learner}")},
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

        home = Path(f"/home/{learner}/ai-factory")
        courses = sorted(home.glob("courses/*.ipynb"))
        assert courses, f"no courses preloaded in {home}"
        edited = courses[0]
        notebook = json.loads(edited.read_text())
        notebook["cells"].append({"cell_type": "markdown", "id": "my-own-note", "metadata": {}, "source": "my own note"})
        edited.write_text(json.dumps(notebook))

        session.stop()
        assert squeue_jobs(learner) == []
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        assert "my own note" in edited.read_text()
        session.stop()
        assert squeue_jobs(learner) == []


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
        assert squeue_jobs(company) == []


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
    ids=["learner-gpu", "gpus-above-max", "walltime-above-limit", "partition-not-in-profile", "newline-sbatch", "shell-meta", "unknown-key"],
)
def test_refused_options_submit_nothing(hub, unix_users, who, options, field):
    """Options outside the profile are refused with the field named, and no job reaches Slurm."""
    user = unix_users[who]
    with hub.login(user) as session:
        before = squeue_jobs()
        response = session.start(options)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert message.startswith(f"{field}:"), message
        session.wait_stopped()
        assert squeue_jobs() == before
