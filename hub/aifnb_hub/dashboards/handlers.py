"""Gallery pages and the publish API, every request identified by the hub (OAuth cookie or token).

Publishing needs the ``custom:dashboards:publish`` scope, which the hub grants to the trainers
and admins groups only; the check is here, on the server, whatever the page shows.
"""

from __future__ import annotations

import base64
import binascii
import json
from http import HTTPStatus

from jupyterhub.services.auth import HubOAuthenticated
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, ValidationError
from tornado import web

from ..catalogue import Sector, Service
from . import ACCESS_SCOPE, PUBLISH_SCOPE
from .app import DashboardsApp, NotOwnerError
from .store import Dashboard, StoreError, is_admin

MESSAGES = {
    403: ("Not allowed", "You are not allowed to do this here."),
    404: ("Not found", "There is no such dashboard (it may have been unpublished)."),
    503: ("Busy, try again", "This dashboard has as many viewers as it can serve right now. Try again in a minute."),
}


class PublishRequest(BaseModel):
    """The JSON body of ``POST api/dashboards``: every field typed, no other field, so a wrong
    type is a 400 naming the field instead of an error deep in the store."""

    model_config = ConfigDict(extra="forbid", strict=True)

    notebook: str | dict
    title: str
    groups: list[str]
    description: str = ""
    slug: str = ""
    service: str = ""
    sector: str = ""
    source: str = ""
    thumbnail: str | None = None


def field_errors(exc: ValidationError) -> str:
    """'title: Input should be a valid string; …', one entry per bad field."""
    return "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False))


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    """Any page of the service: a logged-in hub user with access to the service."""

    hub_scopes = {ACCESS_SCOPE}

    @property
    def app(self) -> DashboardsApp:
        return self.settings["dashboards"]

    def set_default_headers(self) -> None:
        """No content sniffing: a file is only ever what its Content-Type says (never HTML by guess)."""
        super().set_default_headers()
        self.set_header("X-Content-Type-Options", "nosniff")

    def can_publish(self, user: dict) -> bool:
        return self.hub_auth.check_scopes({PUBLISH_SCOPE}, user) != set()

    def visible(self, slug: str) -> Dashboard:
        """The current dashboard if the user may open it; 404 or 403 otherwise."""
        dashboard = self.app.store.get(slug)
        if dashboard is None:
            raise web.HTTPError(404)
        if not dashboard.visible_to(self.current_user):
            raise web.HTTPError(
                403,
                "This dashboard is not shared with any of your groups. Ask its trainer to share it.",
                reason="Not shared with you",
            )
        return dashboard

    def write_error(self, status_code: int, **kwargs) -> None:
        heading, text = MESSAGES.get(status_code, (HTTPStatus(status_code).phrase, "Something went wrong."))
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, web.HTTPError) and error.log_message:
            heading, text = error.reason or heading, error.log_message
        self.finish(
            self.app.render(
                "message.html",
                status=status_code,
                heading=heading,
                text=text,
                retry=self.request.path if status_code == 503 else "",
                user=None,
            )
        )


class GalleryHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        user = self.current_user
        service, sector = self.get_argument("service", ""), self.get_argument("sector", "")
        shown = [
            d
            for d in self.app.store.all()
            if d.visible_to(user)
            and (not service or (d.service and d.service.value == service))
            and (not sector or (d.sector and d.sector.value == sector))
        ]
        self.finish(
            self.app.render(
                "gallery.html",
                user=user,
                dashboards=shown,
                services=[s.value for s in Service],
                sectors=[s.value for s in Sector],
                chosen_service=service,
                chosen_sector=sector,
                can_publish=self.can_publish(user),
                may_change=lambda d: is_admin(user) or d.owner == user["name"],
                xsrf_form_html=Markup(self.xsrf_form_html()),
            )
        )


class ThumbnailHandler(BaseHandler):
    @web.authenticated
    def get(self, slug: str) -> None:
        dashboard = self.visible(slug)
        path = self.app.store.version_dir(slug, dashboard.version) / dashboard.thumbnail
        kind = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg"}[path.suffix[1:]]
        self.set_header("Content-Type", kind)
        # Opened on its own, an SVG is a document on the hub's origin: no scripts, and sandboxed anyway.
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.set_header("Cache-Control", "private, max-age=86400")
        self.finish(path.read_bytes())


class OpenHandler(BaseHandler):
    """The stable link of a dashboard: sends the viewer to its current version."""

    @web.authenticated
    def get(self, slug: str) -> None:
        dashboard = self.visible(slug)
        self.redirect(self.app.runners.base_url(slug, dashboard.version))


class PublishFormHandler(BaseHandler):
    """The gallery's publish form (multipart, cookie and XSRF checked)."""

    @property
    def hub_scopes(self) -> set[str]:
        return {PUBLISH_SCOPE}

    @web.authenticated
    async def post(self) -> None:
        files = self.request.files
        if "notebook" not in files:
            raise web.HTTPError(400, "choose a notebook file")
        thumbnail = files["thumbnail"][0]["body"] if files.get("thumbnail") and files["thumbnail"][0]["body"] else None
        try:
            await self.app.publish(
                self.current_user,
                files["notebook"][0]["body"],
                title=self.get_body_argument("title"),
                description=self.get_body_argument("description", ""),
                groups=[g.strip() for g in self.get_body_argument("groups").split(",") if g.strip()],
                service=self.get_body_argument("service", ""),
                sector=self.get_body_argument("sector", ""),
                thumbnail=thumbnail,
            )
        except StoreError as exc:
            raise web.HTTPError(400, str(exc)) from None
        except NotOwnerError as exc:
            raise web.HTTPError(403, str(exc), reason="Not yours") from None
        self.redirect(self.app.prefix)


class UnpublishFormHandler(BaseHandler):
    @property
    def hub_scopes(self) -> set[str]:
        return {PUBLISH_SCOPE}

    @web.authenticated
    def post(self, slug: str) -> None:
        try:
            if not self.app.unpublish(self.current_user, slug):
                raise web.HTTPError(404)
        except NotOwnerError as exc:
            raise web.HTTPError(403, str(exc), reason="Not yours") from None
        self.redirect(self.app.prefix)


class APIHandler(BaseHandler):
    """JSON API for the ``aifnb-publish`` command and the widget (token in the Authorization header)."""

    @property
    def hub_scopes(self) -> set[str]:
        return {ACCESS_SCOPE} if self.request.method == "GET" else {PUBLISH_SCOPE}

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = kwargs.get("exc_info", (None, None))[1]
        message = (
            reason.log_message if isinstance(reason, web.HTTPError) and reason.log_message else HTTPStatus(status_code).phrase
        )
        self.finish({"status": status_code, "message": message})

    def model(self, d: Dashboard) -> dict:
        return {**d.model_dump(mode="json"), "url": f"{self.app.prefix}d/{d.slug}/"}


class DashboardListAPIHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish({"dashboards": [self.model(d) for d in self.app.store.all() if d.visible_to(self.current_user)]})

    @web.authenticated
    async def post(self) -> None:
        try:
            body = PublishRequest.model_validate_json(self.request.body or b"{}")
        except ValidationError as exc:
            raise web.HTTPError(400, f"bad publish request: {field_errors(exc)}") from None
        notebook = body.notebook.encode() if isinstance(body.notebook, str) else json.dumps(body.notebook).encode()
        try:
            thumbnail = base64.b64decode(body.thumbnail, validate=True) if body.thumbnail else None
        except binascii.Error:
            raise web.HTTPError(400, "bad publish request: thumbnail: not base64") from None
        fields = body.model_dump(exclude={"notebook", "thumbnail"})
        try:
            dashboard = await self.app.publish(self.current_user, notebook, thumbnail=thumbnail, **fields)
        except StoreError as exc:
            raise web.HTTPError(400, f"bad publish request: {exc}") from None
        except NotOwnerError as exc:
            raise web.HTTPError(403, str(exc)) from None
        self.set_status(201)
        self.finish(self.model(dashboard))


class DashboardAPIHandler(APIHandler):
    @web.authenticated
    def get(self, slug: str) -> None:
        self.finish(self.model(self.visible(slug)))

    @web.authenticated
    def delete(self, slug: str) -> None:
        try:
            if not self.app.unpublish(self.current_user, slug):
                raise web.HTTPError(404, f"no dashboard {slug}")
        except NotOwnerError as exc:
            raise web.HTTPError(403, str(exc)) from None
        self.set_status(204)
        self.finish()
