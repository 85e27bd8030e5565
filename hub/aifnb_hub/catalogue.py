"""The notebook catalogue: one YAML file listing every shipped notebook, one schema.

The file (``notebooks/catalogue.yaml``) looks like::

    version: 1
    notebooks:
      - path: courses/01-working-on-the-ai-factory.ipynb   # relative to the catalogue's folder
        title: Working on the AI Factory
        summary: JupyterLab, GPUs and Slurm from a notebook.
        audience: [learner]
        service: Upskill
        sector: null              # finance | space | green economy | cybersecurity | null
        profile: cpu              # cpu | gpu
        duration_minutes: 30
        prerequisites: []         # free text, or paths of other catalogue entries
        dashboard: false          # true: renders under Voila
        ci_parameters: {SIZE: 64} # papermill overrides for tiny CI inputs

Unknown keys are errors (``extra="forbid"``), reported with the entry and the key named.
The hub home page, the dashboards gallery and the notebook tests all read it through
:func:`load_catalogue`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "CATALOGUE_ENV_VAR",
    "DEFAULT_CATALOGUE_PATH",
    "Audience",
    "Catalogue",
    "CatalogueError",
    "Entry",
    "Profile",
    "Sector",
    "Service",
    "default_catalogue_path",
    "load_catalogue",
]

#: Environment variable that points the loader at another catalogue file (e.g. on the hub,
#: where the notebooks are checked out somewhere else than the Python package).
CATALOGUE_ENV_VAR = "AIFNB_CATALOGUE"
#: The catalogue shipped in this repository (valid for editable installs and checkouts).
DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "notebooks" / "catalogue.yaml"


class Audience(StrEnum):
    LEARNER = "learner"
    COMPANY = "company"
    TRAINER = "trainer"


class Service(StrEnum):
    """The AI Factory service a notebook belongs to."""

    UPSKILL = "Upskill"
    ASSESS = "Assess"
    BUILD_AND_TEST = "Build & Test"
    SCALE_AND_RUN = "Scale & Run"


class Sector(StrEnum):
    FINANCE = "finance"
    SPACE = "space"
    GREEN_ECONOMY = "green economy"
    CYBERSECURITY = "cybersecurity"


class Profile(StrEnum):
    """Hardware profile a notebook needs; the hub maps it to its own profile slugs."""

    CPU = "cpu"
    GPU = "gpu"


OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\n]+$")]
Scalar = str | int | float | bool | None


class Entry(BaseModel):
    """One notebook in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    path: str = Field(description="Notebook path, POSIX, relative to the catalogue's folder (e.g. courses/x.ipynb).")
    title: OneLine
    summary: OneLine = Field(description="One line.")
    audience: list[Audience] = Field(min_length=1)
    service: Service
    sector: Sector | None = None
    profile: Profile
    duration_minutes: int = Field(gt=0, le=24 * 60)
    prerequisites: list[OneLine] = Field(default_factory=list)
    dashboard: bool = False
    ci_parameters: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _relative_notebook_path(cls, value: str) -> str:
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts or "\\" in value:
            raise ValueError(f"must be a relative POSIX path inside the notebooks folder, got {value!r}")
        if p.suffix != ".ipynb":
            raise ValueError(f"must name a .ipynb file, got {value!r}")
        return str(p)

    @field_validator("audience")
    @classmethod
    def _unique_audience(cls, value: list[Audience]) -> list[Audience]:
        if len(set(value)) != len(value):
            raise ValueError("audience lists a value twice")
        return value

    @field_validator("ci_parameters")
    @classmethod
    def _identifier_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not key.isidentifier():
                raise ValueError(f"ci_parameters key {key!r} is not a Python identifier")
        return value

    @property
    def needs_gpu(self) -> bool:
        return self.profile is Profile.GPU


class Catalogue(BaseModel):
    """The whole catalogue. ``root`` (the folder the paths are relative to) is set by the loader."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(1, ge=1, le=1)
    notebooks: list[Entry] = Field(default_factory=list)

    _root: Path | None = PrivateAttr(default=None)

    @field_validator("notebooks", mode="before")
    @classmethod
    def _empty_list(cls, value: Any) -> Any:
        return [] if value is None else value  # "notebooks:" with nothing under it yet

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        seen: set[str] = set()
        for entry in self.notebooks:
            if entry.path in seen:
                raise ValueError(f"notebook {entry.path!r} is listed twice")
            seen.add(entry.path)
        for entry in self.notebooks:
            for prereq in entry.prerequisites:
                if prereq.endswith(".ipynb") and prereq not in seen:
                    raise ValueError(f"{entry.path}: prerequisite {prereq!r} is not in the catalogue")
        return self

    # -- access -------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("catalogue has no root folder; load it with load_catalogue()")
        return self._root

    def __iter__(self) -> Iterator[Entry]:  # type: ignore[override]
        return iter(self.notebooks)

    def __len__(self) -> int:
        return len(self.notebooks)

    def paths(self) -> list[str]:
        return [e.path for e in self.notebooks]

    def get(self, path: str) -> Entry:
        for entry in self.notebooks:
            if entry.path == path:
                return entry
        raise KeyError(path)

    def file(self, entry: Entry | str) -> Path:
        """Absolute path of an entry's notebook file."""
        rel = entry.path if isinstance(entry, Entry) else entry
        return self.root / rel

    def dashboards(self) -> list[Entry]:
        return [e for e in self.notebooks if e.dashboard]

    def select(
        self,
        *,
        service: Service | str | None = None,
        audience: Audience | str | None = None,
        sector: Sector | str | None = None,
        profile: Profile | str | None = None,
        dashboard: bool | None = None,
    ) -> list[Entry]:
        """Entries matching every given filter (``None`` = any)."""
        out = []
        for e in self.notebooks:
            if service is not None and e.service != Service(service):
                continue
            if audience is not None and Audience(audience) not in e.audience:
                continue
            if sector is not None and e.sector != Sector(sector):
                continue
            if profile is not None and e.profile != Profile(profile):
                continue
            if dashboard is not None and e.dashboard != dashboard:
                continue
            out.append(e)
        return out


class CatalogueError(ValueError):
    """The catalogue file is missing, not YAML, or does not match the schema."""


def default_catalogue_path() -> Path:
    env = os.environ.get(CATALOGUE_ENV_VAR)
    return Path(env) if env else DEFAULT_CATALOGUE_PATH


def _describe(errors: list[dict[str, Any]], raw: Any) -> list[str]:
    lines = []
    for err in errors:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if len(loc) >= 2 and loc[0] == "notebooks" and isinstance(loc[1], int):
            try:
                name = raw["notebooks"][loc[1]].get("path", f"entry {loc[1]}")
            except (AttributeError, IndexError, KeyError, TypeError):
                name = f"entry {loc[1]}"
            rest = ".".join(str(p) for p in loc[2:])
            where = f"notebooks[{loc[1]}] ({name})" + (f".{rest}" if rest else "")
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {str(loc[-1])!r}")
        else:
            lines.append(f"{where}: {err['msg']}")
    return lines


def parse_catalogue(text: str, root: Path, source: str = "<string>") -> Catalogue:
    """Parse catalogue YAML text; paths are relative to ``root``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: top level must be a mapping with 'version' and 'notebooks'")
    try:
        cat = Catalogue.model_validate(raw)
    except ValidationError as exc:
        detail = "\n  ".join(_describe(exc.errors(), raw))
        raise CatalogueError(f"{source}: {exc.error_count()} error(s)\n  {detail}") from exc
    cat._root = Path(root).resolve()
    return cat


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Load and validate the catalogue (default: ``$AIFNB_CATALOGUE`` or the shipped file)."""
    p = Path(path) if path is not None else default_catalogue_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"cannot read catalogue {p}: {exc}") from exc
    return parse_catalogue(text, root=p.parent, source=str(p))


def markdown_table(catalogue: Catalogue) -> str:
    """The catalogue as the README's content table, so the README cannot drift from it."""
    rows = ["| notebook | for | service | sector | profile | minutes | dashboard |", "|---|---|---|---|---|---|---|"]
    for e in catalogue:
        audience = ", ".join(a.value for a in e.audience)
        sector = e.sector.value if e.sector else ""
        rows.append(
            f"| [{e.title}](notebooks/{e.path}) — {e.summary} | {audience} | {e.service.value} | {sector} "
            f"| {e.profile.value} | {e.duration_minutes} | {'yes' if e.dashboard else ''} |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(load_catalogue()), end="")
