"""What the home page shows one user: the Factory's services with the notebooks of each, the
user's progress per course, the SME pathway and the workshops open to their groups.

Built per request from the settings (services, profile and audience mappings, pathway, workshops:
all data), the catalogue and the progress store; JupyterHub calls :meth:`Journey.home` with the
current user through ``template_vars``, so the page works before any session exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from aifnb_slurm.profiles import Workshop, profiles_for
from aifnb_widgets.teaching.spec import course_names, load_course

from ..catalogue import Catalogue, Entry
from ..settings import Settings, SettingsError
from .progress import ProgressStore
from .workshops import WorkshopStore

#: Progress course of the SME pathway's steps (items are the steps' ids).
PATHWAY_COURSE = "sme-pathway"
#: Item of the record the hub writes when a notebook is opened from the home.
OPENED_ITEM = "notebook"


def course_of(entry: Entry | str) -> str:
    """The progress course name of a catalogue notebook: its file name without ``.ipynb``
    (``courses/01-working-on-the-ai-factory.ipynb`` reports as ``01-working-on-the-ai-factory``)."""
    return PurePosixPath(entry.path if isinstance(entry, Entry) else entry).stem


def is_admin(user: Any) -> bool:
    """A hub admin: the flag (OIDC's admin_groups sets it) or the platform's admins group (demo
    login grants the admin role through that group, which leaves the flag unset)."""
    return bool(user.admin) or any(g.name == "admins" for g in user.groups)


@dataclass(frozen=True)
class Journey:
    """The settings, catalogue and progress store the home, the links and the trainers' view share."""

    settings: Settings
    catalogue: Catalogue
    store: ProgressStore
    #: Workshops trainers declared on the hub's form (beside the settings' own); None: the form is off.
    declared: WorkshopStore | None = None
    #: Exercises and quiz questions per course (from the courses' declarations), for "2 of 4".
    sizes: dict[str, tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        declared = set(course_names())
        sizes = {}
        for entry in self.catalogue:
            if (course := course_of(entry)) in declared:
                spec = load_course(course)
                sizes[course] = (len(spec.exercises), len(spec.quiz))
        object.__setattr__(self, "sizes", sizes)
        known = set(self.catalogue.paths())
        for i, step in enumerate(self.settings.home.pathway):
            if step.path not in known:
                raise SettingsError(f"home.pathway.{i}.path: {step.path} is not in the catalogue")

    # -- who sees and starts what ------------------------------------------------------------
    def visible(self, entry: Entry, groups: Iterable[str], admin: bool = False) -> bool:
        """Whether a user in ``groups`` sees ``entry`` (its audience maps to one of their groups)."""
        if admin:
            return True
        groups = set(groups)
        audiences = self.settings.home.audiences
        return any(groups & set(audiences.get(a.value, ())) for a in entry.audience)

    def profile_for(self, entry: Entry, groups: Iterable[str]) -> str | None:
        """The first profile of ``home.profiles[entry.profile]`` the user's groups may start (unset:
        the profiles without GPUs for a cpu notebook, with GPUs for a gpu one)."""
        kind = entry.profile.value
        candidates = self.settings.home.profiles.get(kind) or [
            p.slug for p in self.settings.profiles if (p.gpus > 0) == (kind == "gpu")
        ]
        usable = {p.slug for p in profiles_for(self.settings.profiles, groups)}
        return next((slug for slug in candidates if slug in usable), None)

    def entry(self, path: str) -> Entry | None:
        return next((e for e in self.catalogue if e.path == path), None)

    def workshops(self) -> list[Workshop]:
        """The settings' workshops, then those declared on the hub."""
        return [*self.settings.workshops, *(self.declared.all() if self.declared else [])]

    def workshops_for(self, groups: Iterable[str], now: datetime) -> list[Workshop]:
        """Workshops of the user's groups that are open now or open later today."""
        groups = set(groups)
        return [
            w
            for w in self.workshops()
            if w.group in groups and (w.is_open(now) or (now < w.start and (w.start - now).total_seconds() < 86400))
        ]

    def teaches(self, user: str, admin: bool) -> list[str]:
        """The groups whose progress ``user`` may read: every group for an admin."""
        return [name for name, g in self.settings.groups.items() if admin or user in g.trainers]

    # -- the page --------------------------------------------------------------------------
    def home(self, user: Any) -> dict[str, Any]:
        """The template's ``journey`` variable for the hub's ``User`` (None on the login page)."""
        if user is None:
            return {}
        groups = [g.name for g in user.groups]
        progress = self.store.courses(user.name)
        now = datetime.now(UTC)
        services = []
        for key, service in self.settings.home.services.items():
            entries = []
            if service.catalogue:
                entries = [
                    self._entry_view(e, groups, progress)
                    for e in self.catalogue
                    if e.service.value == service.catalogue and self.visible(e, groups, is_admin(user))
                ]
            if entries or service.links or (service.summary and not service.catalogue):
                services.append(
                    {"id": key, "title": service.title, "summary": service.summary, "links": service.links, "entries": entries}
                )
        return {
            "services": services,
            "pathway": self._pathway(user, groups),
            "workshops": [
                {
                    "slug": w.slug,
                    "title": w.title,
                    "open": w.is_open(now),
                    "start": w.start,
                    "end": w.end,
                    "reservation": w.reservation,
                }
                for w in self.workshops_for(groups, now)
            ],
            "teaches": bool(self.teaches(user.name, is_admin(user))),
        }

    def _entry_view(self, e: Entry, groups: list[str], progress: dict) -> dict[str, Any]:
        course = progress.get(course_of(e))
        exercises, quiz = self.sizes.get(course_of(e), (0, 0))
        return {
            "exercises": exercises,
            "quiz": quiz,
            "path": e.path,
            "title": e.title,
            "summary": e.summary,
            "minutes": e.duration_minutes,
            "sector": e.sector.value if e.sector else "",
            "needs": e.profile.value,
            "profile": self.profile_for(e, groups),
            "dashboard": e.dashboard,
            "progress": course,
        }

    def _pathway(self, user: Any, groups: list[str]) -> list[dict[str, Any]]:
        if not (is_admin(user) or set(groups) & set(self.settings.home.pathway_groups)):
            return []
        done = self.store.passed(user.name, PATHWAY_COURSE)
        courses = self.store.courses(user.name)
        opened = {c for c, p in courses.items() if p.opened}
        finished = {c for c, p in courses.items() if p.finished}
        steps, next_found = [], False
        for step in self.settings.home.pathway:
            entry = self.catalogue.get(step.path)
            # Done: the step's own report (the maturity result), or its notebook ran to its end in a session.
            ran = course_of(entry) in finished
            state = "done" if step.id in done or ran else "started" if course_of(entry) in opened else "todo"
            is_next = state != "done" and not next_found
            next_found = next_found or is_next
            steps.append(
                {"id": step.id, "path": step.path, "title": entry.title, "text": step.text, "state": state, "next": is_next}
            )
        return steps
