"""The hub's own pages and API for the journey, as JupyterHub handlers (``extra_handlers``).

* ``/hub/aifnb/open/<catalogue path>``: one click from the home. The hub, not the link, decides
  the profile (``home.profiles`` and the user's groups) and builds the ``next`` URL (the user's
  own JupyterLab on that notebook), so no user-supplied URL is ever redirected to; a running
  session opens the notebook at once, otherwise JupyterHub's spawn-by-URL starts the profile.
* ``/hub/aifnb/workshop/<slug>``: starts a workshop's session (its profile and reservation).
* ``/hub/api/aifnb/progress``: sessions POST their results with their token (the user is the
  token's, never the body's; the body is capped before it is read); GET reads one's own, or a
  group's for its trainers and admins.
* ``/hub/aifnb/progress``: the trainers' table, learners x courses, with the group's workshops;
  ``/hub/aifnb/workshops`` (POST): its form declares or deletes a workshop of a group they teach.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

from jupyterhub import orm
from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers.base import BaseHandler
from jupyterhub.scopes import has_scope
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from pydantic import ValidationError
from tornado import web
from tornado.httputil import url_concat

from aifnb_slurm.profiles import OptionError, Workshop, open_workshop
from aifnb_slurm.validate import GROUPNAME, InvalidValue, matches

from .home import OPENED_ITEM, Journey, course_of, is_admin
from .progress import ProgressFull, parse_report

#: Custom scope a session's token carries to report its own user's progress (``!user`` filtered).
PROGRESS_SCOPE = "custom:aifnb:progress"
#: Largest progress report read; a report is about 80 bytes.
MAX_REPORT_BYTES = 4096
#: What the trainers' workshop form sends.
WORKSHOP_FIELDS = ("slug", "title", "group", "start", "end", "profile", "reservation")
#: The catalogue paths the open handler's route admits (anything else is the hub's 404).
NOTEBOOK_ROUTE = r"([a-z0-9][a-z0-9_-]*/[A-Za-z0-9_.-]+\.ipynb)"


def _groups(user: User) -> list[str]:
    return [g.name for g in user.groups]


class _JourneyPage(BaseHandler):
    def initialize(self, journey: Journey, content_dir: str) -> None:
        self.journey = journey
        self.content_dir = content_dir

    def lab_url(self, user: User, path: str = "") -> str:
        return url_path_join(user.url, "lab", "tree", self.content_dir, path)

    def spawn_url(self, user: User, options: dict[str, str], next_url: str) -> str:
        query = {f"opt-{key}": value for key, value in options.items()}
        return url_concat(url_path_join(self.hub.base_url, "spawn", user.escaped_name), {**query, "next": next_url})

    def pending_url(self, user: User, next_url: str) -> str:
        return url_concat(url_path_join(self.hub.base_url, "spawn-pending", user.escaped_name), {"next": next_url})


class OpenHandler(_JourneyPage):
    """Open a catalogue notebook in the user's session, starting the right profile if none runs."""

    @web.authenticated
    def get(self, path: str) -> None:
        user = self.current_user
        entry = self.journey.entry(path)
        if entry is None or not self.journey.visible(entry, _groups(user), is_admin(user)):
            raise web.HTTPError(404, f"{path} is not a notebook of the catalogue open to you")
        notebook = self.lab_url(user, entry.path)
        spawner = user.spawner
        if spawner.ready:
            target = notebook
        elif spawner.active:
            target = self.pending_url(user, notebook)
        else:
            profile = self.journey.profile_for(entry, _groups(user))
            if profile is None:
                raise web.HTTPError(
                    403,
                    f"{entry.title} needs a {entry.profile.value.upper()} session, and no such profile is open to "
                    "your groups; ask the Factory's admins",
                )
            target = self.spawn_url(user, {"profile": profile}, notebook)
        self.journey.store.add(user.name, course_of(entry), OPENED_ITEM, "open", True)
        self.redirect(target)


class WorkshopHandler(_JourneyPage):
    """Start (or rejoin) a workshop's session: its profile, its reservation, inside its window."""

    @web.authenticated
    def get(self, slug: str) -> None:
        user = self.current_user
        try:
            workshop = open_workshop(self.journey.workshops(), slug, _groups(user), datetime.now(UTC))
        except OptionError as exc:
            raise web.HTTPError(403, str(exc)) from None
        lab = self.lab_url(user)
        spawner = user.spawner
        if spawner.active:
            if (spawner.user_options or {}).get("workshop") != workshop.slug:
                raise web.HTTPError(
                    409,
                    f"Your session runs outside the workshop {workshop.title}: stop it on the home page, then start the workshop",
                )
            self.redirect(lab if spawner.ready else self.pending_url(user, lab))
            return
        self.redirect(self.spawn_url(user, {"workshop": workshop.slug}, lab))


class ProgressPage(_JourneyPage):
    """The trainers' view: the members of a group they teach x the courses, and its workshops."""

    @web.authenticated
    async def get(self) -> None:
        user = self.current_user
        teaches = self.journey.teaches(user.name, is_admin(user))
        if not teaches:
            raise web.HTTPError(403, "Progress is shown to the trainers of a group (groups.NAME.trainers) and to admins")
        group = self.get_argument("group", teaches[0])
        if group not in teaches:
            raise web.HTTPError(403, f"You do not teach the group {group[:40]!r}; yours: {', '.join(teaches)}")
        members = group_members(self.db, group)
        progress = {name: self.journey.store.courses(name) for name in members}
        courses = [e for e in self.journey.catalogue if e.service.value == "Upskill"]
        now = datetime.now(UTC)
        declared = {w.slug for w in self.journey.declared.all()} if self.journey.declared else set()
        workshops = []
        for w in self.journey.workshops():
            if w.group != group:
                continue
            started = []
            for name in members:
                member = self.users[name]
                if member.spawner.active and (member.spawner.user_options or {}).get("workshop") == w.slug:
                    started.append(name)
            workshops.append({"workshop": w, "open": w.is_open(now), "started": started, "declared": w.slug in declared})
        html = await self.render_template(
            "aifnb_progress.html",
            group=group,
            teaches=teaches,
            members=members,
            courses=[
                {"course": course_of(e), "title": e.title, "size": self.journey.sizes.get(course_of(e), (0, 0))} for e in courses
            ],
            progress=progress,
            workshops=workshops,
            profiles=[p.slug for p in self.journey.settings.profiles if group in p.groups],
            form_enabled=self.journey.declared is not None,
        )
        self.finish(html)


class WorkshopForm(_JourneyPage):
    """A trainer declares (or deletes) a workshop of a group they teach; admins of any group."""

    @web.authenticated
    def post(self, slug: str | None = None) -> None:
        user = self.current_user
        if self.journey.declared is None:
            raise web.HTTPError(404)
        teaches = self.journey.teaches(user.name, is_admin(user))
        if slug is not None:
            found = next((w for w in self.journey.declared.all() if w.slug == slug), None)
            if found is None or found.group not in teaches:
                raise web.HTTPError(404, f"no workshop {slug} declared here for a group you teach")
            self.journey.declared.remove(slug)
            self.redirect(url_concat(url_path_join(self.hub.base_url, "aifnb", "progress"), {"group": found.group}))
            return
        fields = {k: self.get_body_argument(k, "").strip() for k in WORKSHOP_FIELDS}
        if fields["group"] not in teaches:
            raise web.HTTPError(403, f"group: you do not teach {fields['group'][:40]!r}; yours: {', '.join(teaches)}")
        if not fields["reservation"]:
            fields.pop("reservation")
        try:
            workshop = Workshop.model_validate(fields)
            self.journey.settings.check_workshop(workshop)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise web.HTTPError(400, f"{'.'.join(map(str, error['loc']))}: {error['msg']}") from None
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        if any(w.slug == workshop.slug for w in self.journey.workshops()):
            raise web.HTTPError(409, f"slug: a workshop {workshop.slug} exists already; choose another")
        try:
            self.journey.declared.add(workshop)
        except ValueError as exc:
            raise web.HTTPError(409, str(exc)) from None
        self.redirect(url_concat(url_path_join(self.hub.base_url, "aifnb", "progress"), {"group": workshop.group}))


def group_members(db, group: str) -> list[str]:
    """Names of the hub group's members, sorted; none when the group has no member yet."""
    found = orm.Group.find(db, group)
    return sorted(u.name for u in found.users) if found else []


@web.stream_request_body
class ProgressAPI(APIHandler):
    """POST one result of the token's own user; GET one's own, or ``?group=NAME`` for its trainers."""

    def initialize(self, journey: Journey) -> None:
        self.journey = journey
        self.body_parts: list[bytes] = []
        self.body_size = 0

    async def prepare(self) -> None:
        await super().prepare()
        declared = self.request.headers.get("Content-Length", "0")
        if not matches(r"[0-9]{1,12}", declared) or int(declared) > MAX_REPORT_BYTES:
            raise web.HTTPError(413, f"a progress report is at most {MAX_REPORT_BYTES} bytes")

    def data_received(self, chunk: bytes) -> None:
        # A chunked body has no Content-Length to refuse up front: keep at most the cap, refuse in post().
        self.body_size += len(chunk)
        if self.body_size <= MAX_REPORT_BYTES:
            self.body_parts.append(chunk)

    def _own_user(self) -> User:
        """The token's user, when the token may report that user's progress."""
        user = self.current_user
        if not isinstance(user, User):
            raise web.HTTPError(403, "progress belongs to users: use a user's token")
        if not has_scope(f"{PROGRESS_SCOPE}!user={user.name}", self.parsed_scopes, db=self.db):
            raise web.HTTPError(403, f"this token lacks the scope {PROGRESS_SCOPE} for {user.name}")
        return user

    async def post(self) -> None:
        user = self._own_user()
        if self.body_size > MAX_REPORT_BYTES:
            raise web.HTTPError(413, f"a progress report is at most {MAX_REPORT_BYTES} bytes")
        try:
            body = json.loads(b"".join(self.body_parts) or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise web.HTTPError(400, "the body is not JSON: send {course, item, kind, passed}") from None
        try:
            course, item, kind, passed = parse_report(body)
        except InvalidValue as exc:
            raise web.HTTPError(400, str(exc)) from None
        try:
            saved = self.journey.store.add(user.name, course, item, kind, passed)
        except ProgressFull as exc:
            raise web.HTTPError(409, str(exc)) from None
        self.set_status(201)
        self.write(json.dumps(saved))

    async def get(self) -> None:
        user = self._own_user()
        group = self.get_argument("group", "")
        if not group:
            self.write(json.dumps({"user": user.name, "courses": _courses(self.journey, user.name)}))
            return
        if not matches(GROUPNAME, group):
            raise web.HTTPError(400, "group: 1-32 of a-z, 0-9, '_', '-', starting with a letter")
        teaches = self.journey.teaches(user.name, is_admin(user))
        if group not in teaches:
            raise web.HTTPError(403, f"you do not teach the group {group}")
        members = group_members(self.db, group)
        self.write(json.dumps({"group": group, "users": {name: _courses(self.journey, name) for name in members}}))


def _courses(journey: Journey, user: str) -> dict[str, dict]:
    return {name: asdict(p) for name, p in journey.store.courses(user).items()}


def handlers(journey: Journey, content_dir: str) -> list[tuple]:
    """The routes, relative to the hub's prefix (JupyterHub adds ``/hub``)."""
    page = {"journey": journey, "content_dir": content_dir}
    return [
        (rf"/aifnb/open/{NOTEBOOK_ROUTE}", OpenHandler, page),
        (r"/aifnb/workshop/([a-z0-9][a-z0-9-]{0,31})", WorkshopHandler, page),
        (r"/aifnb/progress", ProgressPage, page),
        (r"/aifnb/workshops", WorkshopForm, page),
        (r"/aifnb/workshops/([a-z0-9][a-z0-9-]{0,31})/delete", WorkshopForm, page),
        (r"/api/aifnb/progress", ProgressAPI, {"journey": journey}),
    ]
