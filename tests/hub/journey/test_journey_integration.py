"""The journey through the real hub and proxy: the landing page, one-click links, the progress
endpoint and who may read it, workshop links. Attacks included: another user's progress, a
trainer reading another group, forged names and a 64 MB body."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aifnb_hub.journey.handlers import MAX_REPORT_BYTES

pytestmark = pytest.mark.integration

COURSE1 = "courses/01-working-on-the-ai-factory.ipynb"


def report(course: str = "01-working-on-the-ai-factory", item: str = "ex1", kind: str = "check", passed: bool = True) -> dict:
    return {"course": course, "item": item, "kind": kind, "passed": passed}


def test_login_lands_on_the_services_home(journey_hub, unix_users):
    """After login '/' is the home (not the spawn form), with the services and a one-click link to Course 1."""
    learner = unix_users["learners"]
    with journey_hub.login(learner) as session:
        assert session.client.get("/hub/").headers["location"] == "/hub/home"
        home = session.client.get("/hub/home").text
        assert 'id="service-upskill"' in home and f'href="/hub/aifnb/open/{COURSE1}"' in home
        assert 'id="service-inspire"' not in home, "an empty service is hidden"
        assert "AI maturity self-assessment" not in home, "a company-only notebook is not listed for a learner"
        assert 'id="aifnb-pathway"' not in home and "Progress of my groups" not in home


def test_open_link_starts_the_catalogue_profile_then_opens_the_notebook(journey_hub, unix_users):
    """The hub builds the spawn link: the profile from the catalogue and groups, next = the user's own notebook."""
    learner = unix_users["learners"]
    with journey_hub.login(learner) as session:
        response = session.client.get(f"/hub/aifnb/open/{COURSE1}")
        assert response.status_code == 302, response.text[:300]
        target = urlsplit(response.headers["location"])
        query = parse_qs(target.query)
        assert target.path == f"/hub/spawn/{learner}" and query["opt-profile"] == ["cpu-course"]
        assert query["next"] == [f"/user/{learner}/lab/tree/ai-factory/{COURSE1}"]
        gpu_course = session.client.get("/hub/aifnb/open/courses/03-transformers-and-llms.ipynb")
        assert gpu_course.status_code == 403 and "GPU session" in gpu_course.text
        for path in ("sandboxes/ai_maturity_assessment.ipynb", "courses/99-none.ipynb", "..%2F..%2Fetc%2Fpasswd.ipynb"):
            assert session.client.get(f"/hub/aifnb/open/{path}").status_code == 404, path


def test_a_link_with_options_beyond_profile_and_workshop_starts_nothing(journey_hub, unix_users):
    """A forged spawn link asking for GPUs is answered with the form and the refusal; no job is submitted."""
    learner = unix_users["learners"]
    with journey_hub.login(learner) as session:
        page = session.client.get(f"/hub/spawn/{learner}?opt-profile=cpu-course&opt-gpus=8")
        assert "gpus: unknown option in the link" in page.text
        bad_profile = session.client.get(f"/hub/spawn/{learner}?opt-profile=gpu-training")
        assert "is not available to you" in bad_profile.text
        assert session.server() is None


def test_progress_is_recorded_for_the_token_user_only(journey_hub, unix_users):
    """A learner posts with their token: recorded for them, never for a name in the body; bad input names the field."""
    learner = unix_users["learners"]
    with journey_hub.login(learner) as session:
        assert session.api.post("/aifnb/progress", json=report(passed=False)).status_code == 201
        saved = session.api.post("/aifnb/progress", json=report())
        assert saved.status_code == 201 and saved.json()["tries"] == 2 and saved.json()["passed"] is True
        mine = session.api.get("/aifnb/progress").json()
        assert mine["user"] == learner and mine["courses"]["01-working-on-the-ai-factory"]["checks_passed"] == 1
        someone_else = session.api.post("/aifnb/progress", json={**report(), "user": unix_users["companies"]})
        assert someone_else.status_code == 400 and "user" in someone_else.json()["message"]
        for body, field in (
            (report(course="../../etc"), "course"),
            (report(item="a b"), "item"),
            (report(kind="open"), "kind"),
            ({**report(), "passed": "yes"}, "passed"),
        ):
            refused = session.api.post("/aifnb/progress", json=body)
            assert refused.status_code == 400 and refused.json()["message"].startswith(field), refused.text
        not_json = session.api.post("/aifnb/progress", content=b"\xff{")
        assert not_json.status_code == 400
    with journey_hub.login(unix_users["companies"]) as company:
        assert company.api.get("/aifnb/progress").json()["courses"] == {}, "the learner's reports reached another user"


def test_a_64_mib_report_is_refused_before_it_is_read(journey_hub, unix_users):
    """A request announcing 64 MiB gets 413 after 1 KiB of its body was sent (the rest is never read);
    a chunked body over the cap is refused too."""
    with journey_hub.login(unix_users["learners"]) as session:
        port = urlsplit(journey_hub.url).port
        head = (
            f"POST /hub/api/aifnb/progress HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: {session.api.headers['Authorization']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {64 * 2**20}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head.encode() + b"x" * 1024)
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        chunks = (b"y" * 1024 for _ in range(MAX_REPORT_BYTES // 1024 + 2))
        chunked = session.api.post("/aifnb/progress", content=chunks)
        assert chunked.status_code == 413
        assert session.api.get("/aifnb/progress").status_code == 200, "the hub still answers"


def test_progress_needs_a_user_token_with_the_progress_scope(journey_hub, unix_users):
    """No token: 403. A token of the user without the progress scope: 403."""
    assert httpx.post(f"{journey_hub.url}/hub/api/aifnb/progress", json=report()).status_code == 403
    learner = unix_users["learners"]
    with journey_hub.login(learner) as session:
        narrow = session.api.post(f"/users/{learner}/tokens", json={"scopes": ["read:users:name!user"], "expires_in": 600})
        token = narrow.json()["token"]
        response = httpx.post(
            f"{journey_hub.url}/hub/api/aifnb/progress", json=report(), headers={"Authorization": f"token {token}"}
        )
        assert response.status_code == 403 and "custom:aifnb:progress" in response.json()["message"]


def test_trainers_read_the_groups_they_teach_only_and_admins_all(journey_hub, unix_users):
    """The trainer reads the learners' progress (API and page), gets 403 for the companies; learners read no group; admins all."""
    learner, trainer, admin = unix_users["learners"], unix_users["trainers"], unix_users["admins"]
    with journey_hub.login(learner) as session:
        session.api.post("/aifnb/progress", json=report(item="ex-trainer-view"))
        assert session.api.get("/aifnb/progress", params={"group": "learners"}).status_code == 403
        assert session.client.get("/hub/aifnb/progress").status_code == 403
    with journey_hub.login(trainer) as session:
        group = session.api.get("/aifnb/progress", params={"group": "learners"})
        assert group.status_code == 200 and group.json()["users"][learner]["01-working-on-the-ai-factory"]["checks_passed"] >= 1
        assert session.api.get("/aifnb/progress", params={"group": "companies"}).status_code == 403
        assert session.api.get("/aifnb/progress", params={"group": "x;y"}).status_code == 400
        page = session.client.get("/hub/aifnb/progress")
        assert page.status_code == 200 and f'data-user="{learner}"' in page.text and "Progress of learners" in page.text
        assert session.client.get("/hub/aifnb/progress?group=companies").status_code == 403
        assert "Progress of my groups" in session.client.get("/hub/home").text
    with journey_hub.login(admin) as session:
        assert session.api.get("/aifnb/progress", params={"group": "companies"}).status_code == 200
        assert session.client.get("/hub/aifnb/progress?group=companies").status_code == 200


def test_workshop_links_open_only_in_their_window_and_for_their_group(journey_hub, unix_users):
    """The open workshop's link starts its session; a closed one, another group's, or a forged name is refused."""
    learner, company = unix_users["learners"], unix_users["companies"]
    with journey_hub.login(learner) as session:
        home = session.client.get("/hub/home").text
        assert 'href="/hub/aifnb/workshop/open-now"' in home and "Last week" not in home and "For companies" not in home
        start = session.client.get("/hub/aifnb/workshop/open-now")
        assert start.status_code == 302
        target = urlsplit(start.headers["location"])
        assert target.path == f"/hub/spawn/{learner}" and parse_qs(target.query)["opt-workshop"] == ["open-now"]
        assert session.client.get("/hub/aifnb/workshop/closed").status_code == 403
        assert session.client.get("/hub/aifnb/workshop/companies-only").status_code == 403
        assert session.client.get("/hub/aifnb/workshop/open-now%3Bid").status_code == 404
        closed = session.client.get(f"/hub/spawn/{learner}?opt-workshop=closed")
        assert "not now" in closed.text and session.server() is None
    with journey_hub.login(company) as session:
        assert session.client.get("/hub/aifnb/workshop/open-now").status_code == 403
        home = session.client.get("/hub/home").text
        assert 'id="aifnb-pathway"' in home and 'data-step="maturity"' in home


def test_a_trainer_declares_a_workshop_for_the_groups_they_teach_only(journey_hub, unix_users):
    """The trainers' form declares a workshop the learners then see and start; another group's, a bad
    reservation, a profile the group may not use or a taken slug are refused naming the field; learners cannot declare."""
    learner, trainer = unix_users["learners"], unix_users["trainers"]
    now = datetime.now(UTC)
    fields = {
        "slug": "form-made",
        "title": "Declared on the hub",
        "group": "learners",
        "start": (now - timedelta(minutes=10)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
        "profile": "cpu-course",
        "reservation": "",
    }
    with journey_hub.login(trainer) as session:
        xsrf = session.xsrf_form("/hub/aifnb/progress")
        post = lambda **changes: session.client.post("/hub/aifnb/workshops", data={**fields, **changes, "_xsrf": xsrf})
        assert post(group="companies").status_code == 403
        for changes, field in (({"reservation": "res;reboot"}, "reservation"), ({"profile": "gpu-training"}, "profile"),
                               ({"start": "tomorrow"}, "start"), ({"slug": "Bad Slug"}, "slug")):  # fmt: skip
            refused = post(**changes)
            assert refused.status_code == 400 and field in refused.text, (changes, refused.text[-500:])
        assert post().status_code == 302
        assert post().status_code == 409, "a slug is declared once"
        assert 'data-workshop="form-made"' in session.client.get("/hub/aifnb/progress").text
    with journey_hub.login(learner) as session:
        assert 'href="/hub/aifnb/workshop/form-made"' in session.client.get("/hub/home").text
        start = session.client.get("/hub/aifnb/workshop/form-made")
        assert start.status_code == 302 and "opt-workshop=form-made" in start.headers["location"]
        xsrf = session.xsrf_form("/hub/home")
        taken = session.client.post("/hub/aifnb/workshops", data={**fields, "slug": "learner-made", "_xsrf": xsrf})
        assert taken.status_code == 403
        assert session.client.post("/hub/aifnb/workshops/form-made/delete", data={"_xsrf": xsrf}).status_code == 404
    with journey_hub.login(trainer) as session:
        xsrf = session.xsrf_form("/hub/aifnb/progress")
        assert session.client.post("/hub/aifnb/workshops/form-made/delete", data={"_xsrf": xsrf}).status_code == 302
        assert session.client.post("/hub/aifnb/workshops/open-now/delete", data={"_xsrf": xsrf}).status_code == 404
    with journey_hub.login(learner) as session:
        assert "form-made" not in session.client.get("/hub/home").text
