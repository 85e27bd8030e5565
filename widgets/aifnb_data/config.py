"""The ``data_catalogue`` section of the platform's settings: which catalogue files, which roots, which log.

The hub's settings schema embeds this model (one schema for the whole settings file), and the
session side reads the same section for the one case it resolves names itself: root on the
hub host, outside a hub session (an admin, CI). Sessions never do: they ask the hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aifnb_data.cards import Catalogue, CatalogueError, load_catalogue

#: The settings file the hub gave the session (the hub sets it; see aifnb_hub.apply).
SETTINGS_ENV = "AIFNB_SETTINGS"


class DataCatalogueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: tuple[Path, ...] = Field(
        (), description="Catalogue files, layered in order (a later entry replaces one of the same name); none: no catalogue"
    )
    roots: tuple[Path, ...] = Field((), description="Folders entries may live in; each catalogue file names one as its root")
    access_log: Path = Field(
        Path("/var/lib/aifnb/usage/data-access.jsonl"),
        description="JSON lines of every resolution of an entry (who, what, when, job id, purpose), written by the hub",
    )

    @field_validator("roots")
    @classmethod
    def _absolute(cls, roots: tuple[Path, ...]) -> tuple[Path, ...]:
        for root in roots:
            if not root.is_absolute() or ".." in root.parts:
                raise ValueError(f"{root}: roots are absolute paths without '..'")
        return roots

    def catalogue(self) -> Catalogue:
        """The layered catalogue (schema only; :func:`aifnb_data.locations.check_catalogue` checks the files)."""
        return load_catalogue(self.files, self.roots)


def from_settings_file(path: str | Path) -> tuple[DataCatalogueSettings, dict[str, str]]:
    """The ``data_catalogue`` section of a site settings file and its groups' Unix groups
    (``groups.NAME.unix_group``, default ``aifnb-NAME``). Used only outside a hub session."""
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read settings file {path}: {exc}") from None
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{path}: the top level must be a mapping of sections")
    try:
        section = DataCatalogueSettings.model_validate(raw.get("data_catalogue") or {})
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CatalogueError(f"{path}: data_catalogue: {where}") from None
    groups = raw.get("groups") if isinstance(raw.get("groups"), Mapping) else {}
    unix_groups = {
        str(name): str((g or {}).get("unix_group") or f"aifnb-{name}")
        for name, g in groups.items()
        if isinstance(g, Mapping | None)
    }
    return section, unix_groups
