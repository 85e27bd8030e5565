"""Attacks on the dashboards service, against the real hub, proxy, service and Voilà (issue 9)."""

from __future__ import annotations

import re
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.hub.dashboards.conftest import GALLERY, gallery_login, slider_notebook

pytestmark = pytest.mark.integration

SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-downloads"
KERNEL_IN_PAGE = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


def publish(session, slug: str, notebook: bytes | None = None, groups=("learners",), **extra) -> httpx.Response:
    body = {
        "notebook": (notebook or slider_notebook()).decode(),
        "title": f"Dashboard {slug}",
        "slug": slug,
        "groups": list(groups),
    }
    return session.client.post(f"{GALLERY}api/dashboards", json={**body, **extra}, headers=auth(session))


def auth(session) -> dict[str, str]:
    return {"Authorization": session.api.headers["Authorization"]}


def code_notebook(source: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb).encode()


def open_page(session, slug: str) -> httpx.Response:
    return session.client.get(f"{GALLERY}d/{slug}/", follow_redirects=True)


def kernel_of(page: httpx.Response) -> str:
    found = KERNEL_IN_PAGE.search(page.text)
    assert found, page.text[-1000:]
    return found.group(1)


def scratch_of(kernel_id: str) -> Path:
    """The private folder of the Voilà server running this kernel (found as root, as an attacker could not)."""
    [connection] = Path("/tmp").glob(f"aifnb-voila-*/runtime/*/kernel-{kernel_id}.json")
    return connection.parents[2]


def test_every_proxied_response_is_sandboxed_and_not_sniffed(dash_hub):
    """Pages, Voilà's static files and kernel requests carry the CSP sandbox (no allow-same-origin) and nosniff."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "sandboxed").status_code == 201
    with gallery_login(dash_hub, "learner1") as learner:
        page = open_page(learner, "sandboxed")
        assert page.status_code == 200
        base = str(page.url)
        script = re.search(r'src="([^"]*voila/static/[^"]+\.js[^"]*)"', page.text).group(1)
        answers = [page, learner.client.get(script), httpx.get(f"{base}api/kernels/{kernel_of(page)}")]
        for answer in answers:
            assert answer.status_code == 200, answer.url
            assert answer.headers["content-security-policy"] == SANDBOX, answer.url
            assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert learner.client.get(GALLERY).headers["x-content-type-options"] == "nosniff"
        for path in ("voila/files/thumbnail.svg", "voila/files/meta.json"):  # no raw files of the store at all
            assert learner.client.get(f"{base}{path}").status_code == 404, path


def test_kernel_requests_need_the_kernel_id_given_to_the_page(dash_hub):
    """Without cookies (as from the sandbox) a kernel is reached by the id in its viewer's page, and by nothing else."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "capability", groups=["trainers"]).status_code == 201
        page = open_page(trainer, "capability")
        base, kernel_id = str(page.url), kernel_of(page)
    assert httpx.get(f"{base}api/kernels/{kernel_id}").status_code == 200
    assert httpx.get(f"{base}api/kernels/{uuid.uuid4()}").status_code == 403
    assert httpx.get(f"{base}api/kernels").status_code == 404
    assert handshake(f"{base}api/kernels/{uuid.uuid4()}/channels") == 403
    assert handshake(f"{base}api/kernels/{kernel_id}/channels") == 101


def handshake(url: str) -> int:
    """The status of a websocket upgrade sent as the sandboxed page sends it: Origin null, no cookie."""
    parsed = httpx.URL(url)
    request = (
        f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Origin: null\r\n\r\n"
    )
    with socket.create_connection((parsed.host, parsed.port), timeout=10) as sock:
        sock.sendall(request.encode())
        return int(sock.recv(4096).split(b" ", 2)[1])


def test_trainer_b_cannot_replace_or_unpublish_trainer_a(dash_hub):
    """Only the owner or an admin replaces or unpublishes; others get 403 naming the owner, or not even that."""
    with gallery_login(dash_hub, "trainer1") as a:
        assert publish(a, "owned", groups=["trainers"]).status_code == 201
        assert publish(a, "hidden", groups=["learners"]).status_code == 201
    with gallery_login(dash_hub, "trainer2") as b:
        replaced = publish(b, "owned", groups=["trainers"])
        assert replaced.status_code == 403 and "trainer1" in replaced.json()["message"]
        deleted = b.client.delete(f"{GALLERY}api/dashboards/owned", headers=auth(b))
        assert deleted.status_code == 403 and "trainer1" in deleted.json()["message"]
        form = b.client.post(f"{GALLERY}unpublish/owned", data={"_xsrf": b.xsrf_form(GALLERY)})
        assert form.status_code == 403
        gallery = b.client.get(GALLERY).text
        assert 'data-slug="owned"' in gallery and 'action="/services/dashboards/unpublish/owned"' not in gallery
        taken = publish(b, "hidden", groups=["trainers"])  # not shared with trainer2: not even its owner is named
        assert taken.status_code == 403 and "trainer1" not in taken.json()["message"]
        assert b.client.delete(f"{GALLERY}api/dashboards/hidden", headers=auth(b)).status_code == 404
        assert b.client.get(f"{GALLERY}api/dashboards/owned", headers=auth(b)).json()["author"] == "trainer1"
    with gallery_login(dash_hub, "admin1") as admin:
        by_admin = publish(admin, "owned", groups=["trainers"], title="Fixed by an admin")
        assert by_admin.status_code == 201 and (by_admin.json()["author"], by_admin.json()["owner"]) == ("admin1", "trainer1")
    with gallery_login(dash_hub, "trainer1") as a:
        assert a.client.delete(f"{GALLERY}api/dashboards/owned", headers=auth(a)).status_code == 204
        assert a.client.delete(f"{GALLERY}api/dashboards/hidden", headers=auth(a)).status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [({"title": 123}, "title"), ({"groups": "learners"}, "groups"), ({"slug": ["x"]}, "slug"), ({"colour": "red"}, "colour")],
    ids=["title-int", "groups-str", "slug-list", "unknown-field"],
)
def test_publish_fields_are_type_checked(dash_hub, change, field):
    """A wrongly typed or unknown field is a 400 naming it, never a 500."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        body = {"notebook": slider_notebook().decode(), "title": "Typed", "groups": ["learners"], **change}
        response = trainer.client.post(f"{GALLERY}api/dashboards", json=body, headers=auth(trainer))
        assert response.status_code == 400, response.text
        assert field in response.json()["message"]


def test_no_voila_token_on_any_command_line(dash_hub):
    """Voilà's token reaches it in a 0600 file of its own uid: `ps -ewwo args` (untruncated) shows it nowhere."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "argv", groups=["admins"]).status_code == 201
    with gallery_login(dash_hub, "admin1") as admin:  # each test opens pages as other users: caps of 3 per user
        scratch = scratch_of(kernel_of(open_page(admin, "argv")))
    token_file = scratch / "token"
    token = token_file.read_text()
    assert len(token) >= 32 and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    args = subprocess.run(["ps", "-ewwo", "args"], check=True, capture_output=True, text=True).stdout
    voila = [line for line in args.splitlines() if " -m voila " in line]
    assert voila and not [line for line in voila if re.search(r"--(Voila\.)?token[= ]", line)]
    assert [line for line in args.splitlines() if token in line] == []


def test_a_dashboard_cannot_read_another_dashboards_connection_file(dash_hub):
    """A dashboard whose code opens another dashboard's kernel connection file is refused by the kernel uids."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        assert publish(trainer, "victim", groups=["trainers"]).status_code == 201
        victim_kernel = kernel_of(open_page(trainer, "victim"))
        [connection] = (scratch_of(victim_kernel) / "runtime").glob(f"*/kernel-{victim_kernel}.json")
        probe = code_notebook(
            "import os\n"
            "try:\n"
            f"    key = open({str(connection)!r}).read()\n"
            "    print('PROBE: READ', len(key))\n"
            "except PermissionError as exc:\n"
            "    print('PROBE: DENIED', type(exc).__name__)\n"
            "print('PROBE uid', os.getuid())"
        )
        assert publish(trainer, "prober", probe, groups=["trainers"]).status_code == 201
    with gallery_login(dash_hub, "trainer2") as other:
        response = open_page(other, "prober")
        assert response.status_code == 200, response.text[-500:]
        page = response.text
    assert "PROBE: DENIED PermissionError" in page and "PROBE: READ" not in page
    prober_uid = int(re.search(r"PROBE uid (\d+)", page).group(1))
    assert prober_uid != connection.stat().st_uid and prober_uid >= 64000 and connection.stat().st_uid >= 64000


def test_the_store_is_private_to_the_service(dash_hub):
    """The store and its versions are 0750/0640, owned by the service: not readable by other local accounts."""
    store = dash_hub.workdir / "dashboards"
    notebooks = list(store.glob("versions/*/*/dashboard.ipynb"))
    assert notebooks
    for path in (store, *(p.parent for p in notebooks)):
        assert (stat.S_IMODE(path.stat().st_mode), path.stat().st_uid) == (0o750, 0), path
    assert {stat.S_IMODE(p.stat().st_mode) for p in notebooks} == {0o640}


def test_oversized_unauthenticated_post_is_refused_before_it_is_read(dash_hub):
    """A 64 MiB POST without credentials gets its 4xx after its headers, while the body is still unsent."""
    host, port = "127.0.0.1", int(dash_hub.url.rsplit(":", 1)[1])
    head = (
        f"POST {GALLERY}api/dashboards HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {64 * 2**20}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head + b"{" + b" " * 1023)  # 1 KiB of the 64 MiB, then wait for the answer
        answer = sock.recv(4096)
    assert time.monotonic() - started < 5
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:200]


def test_a_user_holds_at_most_their_cap_of_kernels(dash_hub):
    """A viewer who opens more dashboards than max_kernels_per_user (3 here) gets 429, and no server, for the next one."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        for n in range(4):
            assert publish(trainer, f"many-{n}", groups=["companies"]).status_code == 201
    with gallery_login(dash_hub, "company1") as company:
        pages = [open_page(company, f"many-{n}") for n in range(4)]
        assert [p.status_code for p in pages] == [200, 200, 200, 429]
        assert "Too many dashboards open" in pages[3].text
    args = subprocess.run(["ps", "-ewwo", "args"], check=True, capture_output=True, text=True).stdout
    assert f"{GALLERY}d/many-2/v/" in args and f"{GALLERY}d/many-3/v/" not in args  # a refused viewer starts no server
