"""The published dashboards on disk: immutable version folders behind one symlink per dashboard.

A version is written completely into a staging folder on the same filesystem, renamed into
``versions/<slug>/<version>`` and only then made current by ``os.replace`` of the symlink
``current/<slug>``; a reader therefore sees the old version or the new one, never a mix. Old
versions stay on disk while a Voilà server still serves them (viewers with the page open).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import nbformat
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..catalogue import Sector, Service
from ..settings import GroupName
from .thumbnail import title_card

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
NOTEBOOK = "dashboard.ipynb"
META = "meta.json"
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
THUMBNAIL_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


class StoreError(ValueError):
    """A publish request the store refuses (bad notebook, slug, thumbnail); the message says why."""


class Dashboard(BaseModel):
    """What the gallery shows and the service checks; stored as meta.json inside each version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    version: str
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    author: str = Field(description="Who published this version")
    owner: str = Field(description="Who may replace or unpublish it (besides admins): its first publisher")
    groups: tuple[GroupName, ...] = Field(min_length=1)
    service: Service | None = None
    sector: Sector | None = None
    source: str | None = Field(None, description="Catalogue path when the notebook is a catalogued one")
    sha256: str
    thumbnail: str
    updated: datetime

    @model_validator(mode="before")
    @classmethod
    def _owner_of_old_versions(cls, data: object) -> object:
        """Versions stored before owners were recorded belong to their publisher."""
        if isinstance(data, dict) and "owner" not in data and "author" in data:
            return {**data, "owner": data["author"]}
        return data

    def visible_to(self, user: dict) -> bool:
        """Shared with one of the user's groups, or theirs; admins see every dashboard to manage them."""
        return is_admin(user) or user.get("name") == self.owner or bool(set(user.get("groups", ())) & set(self.groups))


def is_admin(user: dict) -> bool:
    """A hub admin or a member of the admins group: they manage every dashboard."""
    return bool(user.get("admin")) or "admins" in user.get("groups", ())


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48].strip("-")
    return slug or "dashboard"


def check_notebook(content: bytes) -> nbformat.NotebookNode:
    """Refuse what Voilà could not render, before anything is written."""
    if len(content) > MAX_NOTEBOOK_BYTES:
        raise StoreError(f"notebook larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # nbformat's kinds of 'malformed'
        raise StoreError(f"not a valid notebook: {str(exc).splitlines()[0]}") from None
    return nb


def thumbnail_type(data: bytes) -> str:
    """Only raster images from users: an uploaded SVG could carry scripts."""
    for magic, ext in THUMBNAIL_TYPES.items():
        if data.startswith(magic):
            return ext
    raise StoreError("thumbnail must be a PNG or JPEG image")


class DashboardStore:
    """Publishes, lists and removes dashboards under one root folder, private to the service (0750):
    a dashboard shared with one group is not readable by other local accounts, and Voilà servers
    get a copy of their notebook (:mod:`.runners`)."""

    def __init__(self, root: Path):
        self.root = root
        for sub in ("current", "versions", "staging"):
            (root / sub).mkdir(parents=True, exist_ok=True)
            (root / sub).chmod(0o750)
        root.chmod(0o750)

    def publish(
        self,
        notebook: bytes,
        *,
        slug: str,
        title: str,
        author: str,
        groups: list[str],
        owner: str | None = None,
        description: str = "",
        service: Service | str | None = None,
        sector: Sector | str | None = None,
        source: str | None = None,
        thumbnail: bytes | None = None,
    ) -> Dashboard:
        """Write a new version and make it current in one rename; the old one stays until retired."""
        check_notebook(notebook)
        version = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
        thumb_name = f"thumbnail.{thumbnail_type(thumbnail)}" if thumbnail else "thumbnail.svg"
        try:
            meta = Dashboard(
                slug=slug,
                version=version,
                title=title,
                description=description,
                author=author,
                owner=owner or author,
                groups=tuple(dict.fromkeys(groups)),
                service=service or None,
                sector=sector or None,
                source=source,
                sha256=hashlib.sha256(notebook).hexdigest(),
                thumbnail=thumb_name,
                updated=datetime.now(UTC),
            )
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        staging = Path(tempfile.mkdtemp(prefix=f"{slug}-", dir=self.root / "staging"))
        try:
            (staging / NOTEBOOK).write_bytes(notebook)
            (staging / thumb_name).write_bytes(thumbnail or title_card(meta.title, meta.service).encode())
            (staging / META).write_text(meta.model_dump_json(indent=2))
            for path in staging.iterdir():
                path.chmod(0o640)
            staging.chmod(0o750)
            versions = self.root / "versions" / slug
            versions.mkdir(exist_ok=True, mode=0o750)
            target = versions / version
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        link = self.root / "staging" / f"{slug}.{version}.link"
        link.symlink_to(os.path.relpath(target, self.root / "current"))
        os.replace(link, self.root / "current" / slug)
        return meta

    def unpublish(self, slug: str) -> bool:
        """Remove the dashboard from the gallery at once; its versions go with it."""
        link = self.root / "current" / slug
        if not link.is_symlink():
            return False
        link.unlink()
        shutil.rmtree(self.root / "versions" / slug, ignore_errors=True)
        return True

    def get(self, slug: str) -> Dashboard | None:
        try:
            return Dashboard.model_validate_json((self.root / "current" / slug / META).read_text())
        except (OSError, ValueError):
            return None

    def version_dir(self, slug: str, version: str) -> Path | None:
        path = self.root / "versions" / slug / version
        return path if re.fullmatch(r"[0-9T]+-[0-9a-f]+", version) and (path / META).is_file() else None

    def all(self) -> list[Dashboard]:
        found = (self.get(link.name) for link in sorted((self.root / "current").iterdir()))
        return sorted((d for d in found if d), key=lambda d: d.updated, reverse=True)

    def retire(self, slug: str, keep: set[str]) -> None:
        """Delete old versions of a dashboard that no Voilà server uses any more."""
        current = self.get(slug)
        keep = keep | ({current.version} if current else set())
        for path in (self.root / "versions" / slug).glob("*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
