"""The service behind the hub: login, groups, publish rights, versions and the kernel cap."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.hub.dashboards.conftest import GALLERY, SECRET_SOURCE, gallery_login, slider_notebook

pytestmark = pytest.mark.integration


def publish(session, slug: str, groups=("learners",), label: str = "value", **extra):
    return session.client.post(
        f"{GALLERY}api/dashboards",
        json={
            "notebook": slider_notebook(label).decode(),
            "title": f"Slider {slug}",
            "slug": slug,
            "groups": list(groups),
            **extra,
        },
        headers={"Authorization": session.api.headers["Authorization"]},
    )


def test_anonymous_is_sent_to_the_hub_login(dash_hub):
    response = httpx.get(f"{dash_hub.url}{GALLERY}", follow_redirects=True)
    assert "/hub/login" in str(response.url)


def test_publish_is_refused_to_non_trainers(dash_hub):
    with gallery_login(dash_hub, "learner1") as learner:
        response = publish(learner, "sneaky")
        assert response.status_code == 403
        assert (
            learner.client.get(
                f"{GALLERY}api/dashboards/sneaky", headers={"Authorization": learner.api.headers["Authorization"]}
            ).status_code
            == 404
        )


def test_trainer_publishes_and_group_members_view(dash_hub):
    with gallery_login(dash_hub, "trainer1") as trainer:
        response = publish(trainer, "slider", service="Assess", sector="finance", description="Move it")
        assert response.status_code == 201, response.text
        model = response.json()
        assert model["author"] == "trainer1" and model["groups"] == ["learners"]
        page = trainer.client.get(GALLERY)
        assert "Slider slider" in page.text  # its owner sees it, to manage it
        assert 'id="publish"' in page.text
    with gallery_login(dash_hub, "trainer2") as other:
        assert "Slider slider" not in other.client.get(GALLERY).text  # shared with learners only
    with gallery_login(dash_hub, "learner1") as learner:
        gallery = learner.client.get(GALLERY)
        assert "Slider slider" in gallery.text and "by trainer1" in gallery.text
        assert 'id="publish"' not in gallery.text  # no publish form for learners
        assert learner.client.get(f"{GALLERY}?service=Upskill").text.count('data-slug="slider"') == 0
        assert learner.client.get(f"{GALLERY}?service=Assess&sector=finance").text.count('data-slug="slider"') == 1
        thumb = learner.client.get(f"{GALLERY}thumb/slider")
        assert thumb.headers["content-type"] == "image/svg+xml" and b"Slider slider" in thumb.content
        assert (
            thumb.headers["content-security-policy"].endswith("; sandbox")
            and thumb.headers["x-content-type-options"] == "nosniff"
        )
        page = learner.client.get(f"{GALLERY}d/slider/", follow_redirects=True)
        assert page.status_code == 200
        assert SECRET_SOURCE not in page.text
        assert "application/vnd.jupyter.widget-view+json" in page.text
    with gallery_login(dash_hub, "company1") as company:
        assert "Slider slider" not in company.client.get(GALLERY).text
        denied = company.client.get(f"{GALLERY}d/slider/", follow_redirects=True)
        assert denied.status_code == 403 and "Not shared with you" in denied.text


def test_only_published_notebooks_are_served(dash_hub):
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "files", groups=["trainers"]).status_code == 201
        version = trainer.client.get(f"{GALLERY}d/files/").headers["location"]
        for path in ("voila/tree", "voila/api/contents/", "voila/render/dashboard.ipynb", "voila/files/meta.json", "api/kernels"):
            assert trainer.client.get(f"{version}{path}").status_code == 404, path


def test_unknown_group_and_bad_notebook_are_refused(dash_hub):
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "nogroup", groups=["nobody-here"]).status_code == 400
        response = trainer.client.post(
            f"{GALLERY}api/dashboards",
            json={"notebook": "not json", "title": "Bad", "groups": ["learners"]},
            headers={"Authorization": trainer.api.headers["Authorization"]},
        )
        assert response.status_code == 400 and "not a valid notebook" in response.json()["message"]


def test_cap_gives_a_friendly_busy_page(dash_hub):
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "capped", groups=["learners", "admins"]).status_code == 201
    with gallery_login(dash_hub, "admin1") as admin:
        pages = [admin.client.get(f"{GALLERY}d/capped/", follow_redirects=True) for _ in range(3)]
        assert [p.status_code for p in pages] == [200, 200, 503]
        assert "Busy, try again" in pages[2].text
        # These pages never opened their kernel's websocket: after connect_timeout (15 s) and one
        # housekeeping pass (5 s) their kernels are shut down and the slots are free again.
        time.sleep(21)
        assert admin.client.get(f"{GALLERY}d/capped/", follow_redirects=True).status_code == 200


def test_unpublish_removes_it(dash_hub):
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "gone").status_code == 201
        auth = {"Authorization": trainer.api.headers["Authorization"]}
        assert trainer.client.delete(f"{GALLERY}api/dashboards/gone", headers=auth).status_code == 204
        assert trainer.client.get(f"{GALLERY}d/gone/").status_code == 404
