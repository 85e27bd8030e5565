"""The models and datasets catalogue in the hub: checked at start, served to sessions, logged.

At start the catalogue files are validated and every entry's files checked on disk
(:mod:`aifnb_data.locations`); a card missing a field, an unknown group, a location outside the
roots, a symlink, a file open to others: the hub does not start, and the message names the
entry and the field.

Sessions and jobs ask the hub with their token (``/hub/api/aifnb/data``): the user is the
token's owner and the groups are the hub's, so the answer cannot be talked into more. Each
resolution (``POST .../NAME/access``) appends a line to the access log, which only the hub
writes. An in-process API handler, not a service: it needs the hub's own view of the user's
groups and nothing else, and a service would need its own process, port and OAuth client for
three small requests. (JupyterHub logs that ``extra_handlers`` is deprecated in favour of
services; the handler uses only the stable ``APIHandler`` API.)
"""

from __future__ import annotations

from traitlets.config import Config

from aifnb_data.access import AccessRefused, DataAccessError, UnknownEntry, allowed, resolve, visible
from aifnb_data.access_log import JOB_ID, PURPOSE, PURPOSE_RULE, AccessEvent, now, record_access
from aifnb_data.cards import Catalogue, CatalogueError
from aifnb_data.client import entry_record
from aifnb_data.locations import LocationError, check_catalogue
from aifnb_slurm.slurm import SlurmCommandError, run_slurm
from aifnb_slurm.validate import InvalidValue, check

from .settings import Settings, SettingsError
from .unix_groups import unix_group


def unix_groups_of(settings: Settings) -> dict[str, str]:
    """Each hub group's Unix group (settings ``groups.NAME.unix_group``, default ``aifnb-NAME``)."""
    return {name: unix_group(settings, name) for name in settings.groups}


def load_data_catalogue(settings: Settings) -> Catalogue:
    """The settings' catalogue, validated and its files checked; :class:`SettingsError` naming
    the entry and field otherwise, so the hub does not start with it."""
    section = settings.data_catalogue
    try:
        catalogue = section.catalogue()
        for item in catalogue:
            unknown = sorted(set(item.entry.groups) - set(settings.groups))
            if unknown:
                raise CatalogueError(f"data catalogue: entry {item.entry.name!r}: groups: unknown group(s) {', '.join(unknown)}")
        check_catalogue(catalogue, unix_groups_of(settings))
    except CatalogueError as exc:
        raise SettingsError(str(exc)) from None
    return catalogue


def make_handlers() -> tuple[type, type]:
    """The API handler classes (made here: JupyterHub's handler base imports the hub's whole app)."""
    from jupyterhub.apihandlers.base import APIHandler
    from tornado import web

    class _CatalogueHandler(APIHandler):
        def initialize(self, catalogue: Catalogue, unix_groups: dict[str, str], access_log: str) -> None:
            self.catalogue = catalogue
            self.unix_groups = unix_groups
            self.access_log = access_log

        def user_groups(self) -> tuple[str, list[str]]:
            """The token's user and the hub's record of their groups (never the request's word)."""
            user = self.current_user
            if user is None or getattr(user, "kind", None) != "user":
                raise web.HTTPError(403, "the data catalogue answers users' tokens only")
            # Any token of the user will do: JupyterHub lets every token read its owner's name and groups,
            # which are all the answer depends on.
            return user.name, [g.name for g in user.groups]

        async def check_job_owner(self, user: str, job_id: str) -> None:
            """The access log names a job only if Slurm says it is the user's: a use is logged right
            after submission, while the job is held in the queue, so a job id that is not there, or is
            someone else's, is refused (403) instead of written into the record."""
            base = job_id.split("_", 1)[0]
            try:
                out = await run_slurm(["squeue", "-h", "-r", "-j", base, "-o", "%u"], timeout=30)
            except SlurmCommandError as exc:
                if "Invalid job id" not in exc.stderr:
                    self.log.error("data catalogue: cannot check job %s: %s", base, exc)
                    raise web.HTTPError(503, f"the owner of job {base} cannot be checked now; try again") from None
                out = ""
            if set(out.split()) != {user}:
                self.log.warning("data catalogue: %s named job %s, which is not theirs in the queue", user, job_id)
                raise web.HTTPError(403, f"job_id {job_id}: not one of your jobs in the queue")

        def fail(self, exc: Exception) -> web.HTTPError:
            """The HTTP error of a refusal: 404 unknown, 403 not shared, 503 files not servable, 400 bad input."""
            status = 404 if isinstance(exc, UnknownEntry) else 403 if isinstance(exc, AccessRefused) else 400
            if isinstance(exc, LocationError):
                self.log.error("data catalogue: %s", exc)
                status = 503
            return web.HTTPError(status, str(exc))

    class EntriesHandler(_CatalogueHandler):
        """``GET /hub/api/aifnb/data``: the entries the user may use; ``.../NAME``: one, with its card."""

        async def get(self, name: str | None = None) -> None:
            _, groups = self.user_groups()
            if name is None:
                self.write({"entries": [entry_record(item) for item in visible(self.catalogue, groups)]})
                return
            try:
                item = allowed(self.catalogue, name, groups)
            except (DataAccessError, InvalidValue) as exc:
                raise self.fail(exc) from None
            self.write(entry_record(item))

    class AccessHandler(_CatalogueHandler):
        """``POST /hub/api/aifnb/data/NAME/access`` with ``{"purpose", "job_id"}``: resolve and log."""

        async def post(self, name: str) -> None:
            user, groups = self.user_groups()
            body = self.get_json_body() or {}
            try:
                if not isinstance(body, dict) or set(body) - {"purpose", "job_id"}:
                    raise InvalidValue("body", str(body)[:60], "a JSON object with purpose and job_id only")
                purpose = check("purpose", body.get("purpose", "session"), PURPOSE, PURPOSE_RULE)
                job_id = check("job_id", body.get("job_id", ""), JOB_ID, "a Slurm job id (123 or 123_4) or empty")
                item = resolve(self.catalogue, name, groups, self.unix_groups)
            except (DataAccessError, InvalidValue, CatalogueError) as exc:
                self.log.info("data catalogue: %s refused %r: %s", user, name[:64], exc)
                raise self.fail(exc) from None
            if job_id:
                await self.check_job_owner(user, job_id)
            record = entry_record(item)
            record_access(
                self.access_log,
                AccessEvent(
                    time=now(),
                    user=user,
                    entry=item.entry.name,
                    kind=item.entry.kind.value,
                    purpose=purpose,
                    job_id=job_id,
                    location=record["location"] or item.entry.endpoint or "",
                ),
            )
            self.write(record)

    return EntriesHandler, AccessHandler


def apply_data_catalogue(c: Config, s: Settings, catalogue: Catalogue) -> None:
    """Serve ``catalogue`` at ``/hub/api/aifnb/data`` (JupyterHub adds the hub's prefix)."""
    options = {"catalogue": catalogue, "unix_groups": unix_groups_of(s), "access_log": str(s.data_catalogue.access_log)}
    entries, access = make_handlers()
    c.JupyterHub.extra_handlers = [
        *c.JupyterHub.get("extra_handlers", []),
        (r"/api/aifnb/data", entries, options),
        (r"/api/aifnb/data/([^/]+)", entries, options),
        (r"/api/aifnb/data/([^/]+)/access", access, options),
    ]
