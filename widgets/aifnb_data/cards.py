"""Catalogue entries and their cards: one schema, frozen models that refuse unknown keys.

A card is the data-governance record of an entry: for a dataset what it contains and on what
legal ground (GDPR Art. 6 and 9), for a model what it is and how it was evaluated. Every field
the issue asks for is required, so a card missing one stops the hub at start with the entry
and the field in the message (:func:`load_catalogue`), instead of a sandbox finding out later.

Catalogue files are layered: the platform's demo file, then the centre's; an entry of a later
file replaces the one of the same name. Each file names the ``root`` its paths are relative to,
and that root must be one of the roots the settings allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from aifnb_slurm.validate import GROUPNAME, checked_str, matches

#: Entry names: what users type (``aifnb data path NAME``) and what reaches paths and logs.
ENTRY_NAME = r"[a-z0-9][a-z0-9._-]{0,63}"
NAME_RULE = "entry names are 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
#: Sector and language tags.
TAG = r"[a-z][a-z0-9-]{0,31}"
#: A path below a catalogue's root: relative, safe characters, no '.' or '..' component.
RELATIVE_PATH = r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*"
#: An OpenAI-compatible endpoint: http(s), host, optional port and path, no credentials or query.
ENDPOINT = r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?"

EntryName = checked_str(ENTRY_NAME, NAME_RULE)
GroupName = checked_str(GROUPNAME, "group names are 1-32 of a-z, 0-9, '_', '-', starting with a letter")
Tag = checked_str(TAG, "tags are 1-32 of a-z, 0-9, '-', starting with a letter")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=r"^[^\n]+$")]


class Kind(StrEnum):
    DATASET = "dataset"
    MODEL = "model"


class Format(StrEnum):
    """What :func:`aifnb_data.client.open_dataset` and ``model_path`` know how to hand over."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    NPZ = "npz"  # numpy arrays (images, labels), opened as a dict of arrays
    TRANSFORMERS = "transformers"  # a from_pretrained directory
    OPENAI = "openai"  # a served model behind an OpenAI-compatible endpoint


DATASET_FORMATS = (Format.CSV, Format.JSONL, Format.PARQUET, Format.NPZ)
MODEL_FORMATS = (Format.TRANSFORMERS, Format.OPENAI)


class PersonalData(StrEnum):
    NONE = "none"
    PSEUDONYMISED = "pseudonymised"
    PERSONAL = "personal"


class SpecialCategory(StrEnum):
    """GDPR Art. 9(1)."""

    RACIAL_OR_ETHNIC_ORIGIN = "racial-or-ethnic-origin"
    POLITICAL_OPINIONS = "political-opinions"
    RELIGIOUS_OR_PHILOSOPHICAL_BELIEFS = "religious-or-philosophical-beliefs"
    TRADE_UNION_MEMBERSHIP = "trade-union-membership"
    GENETIC = "genetic"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    SEX_LIFE_OR_ORIENTATION = "sex-life-or-orientation"


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) (a)-(f); ``not-applicable`` only for data with no personal data."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal-obligation"
    VITAL_INTERESTS = "vital-interests"
    PUBLIC_TASK = "public-task"
    LEGITIMATE_INTERESTS = "legitimate-interests"
    NOT_APPLICABLE = "not-applicable"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetCard(_Strict):
    source: Text = Field(description="Who made the data and where it was obtained")
    provenance: Text = Field(description="How it was collected and processed before it came here")
    personal_data: PersonalData
    special_categories: tuple[SpecialCategory, ...] = Field(
        description="GDPR Art. 9 categories present; [] when none (stated, not assumed)"
    )
    legal_basis: LegalBasis = Field(description="GDPR Art. 6(1) ground for processing it here")
    retention: Line = Field(description="How long it is kept, and what happens then")
    anonymisation: Line = Field(description="Anonymisation or pseudonymisation method; 'none' says so")
    intended_uses: tuple[Line, ...] = Field(min_length=1)
    prohibited_uses: tuple[Line, ...] = Field(min_length=1)
    known_biases: tuple[Line, ...] = Field(min_length=1, description="Known biases and gaps; 'none known' says so")

    @model_validator(mode="after")
    def _consistent(self) -> DatasetCard:
        if self.personal_data is PersonalData.NONE and self.special_categories:
            raise ValueError("special_categories are listed but personal_data is 'none'")
        if self.personal_data is not PersonalData.NONE and self.legal_basis is LegalBasis.NOT_APPLICABLE:
            raise ValueError(f"personal_data is {self.personal_data.value!r}: legal_basis must name an Art. 6(1) ground")
        return self


class Evaluation(_Strict):
    name: Line
    result: Line
    link: Line = Field(description="Where the assessment run is: an MLflow run, a report, a notebook")


class ModelCard(_Strict):
    parameters: int = Field(ge=1)
    architecture: Line
    languages: tuple[Tag, ...] = Field(min_length=1)
    context_length: int = Field(ge=1)
    training_data: Text = Field(description="What it was trained on, in a few sentences")
    evaluations: tuple[Evaluation, ...] = Field(description="Assessment runs; [] when none yet (stated)")
    intended_uses: tuple[Line, ...] = Field(min_length=1)


class Entry(_Strict):
    """One model or dataset: where it is, who may use it, and its card."""

    name: EntryName
    kind: Kind
    title: Line
    summary: Text
    path: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="Below the catalogue file's root (files and folders); or endpoint"
    )
    endpoint: str | None = Field(None, description="OpenAI-compatible base URL of a served model")
    served_name: Line | None = Field(None, description="The model name the endpoint serves it under")
    format: Format
    size: Line = Field(description="Rows and columns, or parameters and bytes on disk, in words")
    licence: Line
    licence_url: Line | None = None
    commercial_use: bool = Field(description="Whether the licence allows commercial use")
    groups: tuple[GroupName, ...] = Field(min_length=1, description="Hub groups whose members may use it")
    unix_group: GroupName | None = Field(
        None, description="Unix group owning the files; default that of the only group (required with several)"
    )
    sectors: tuple[Tag, ...] = ()
    contact: Line = Field(description="Who decides on access: named in every refusal")
    card: DatasetCard | ModelCard

    @model_validator(mode="after")
    def _location(self) -> Entry:
        if (self.path is None) == (self.endpoint is None):
            raise ValueError("give exactly one of path (below the root) and endpoint (a served model)")
        if self.path is not None and not matches(RELATIVE_PATH, self.path):
            raise ValueError(
                f"path {self.path[:60]!r}: a path below the catalogue's root, of A-Z, a-z, 0-9, '._+-' and '/', "
                "without '.' or '..' components or a leading '/'"
            )
        if self.endpoint is not None:
            if self.kind is not Kind.MODEL or self.format is not Format.OPENAI:
                raise ValueError("an endpoint is for kind: model, format: openai")
            if not matches(ENDPOINT, self.endpoint):
                raise ValueError("endpoint: an http(s) URL of host, port and path only (no credentials, query or spaces)")
            if not self.served_name:
                raise ValueError("served_name: required with an endpoint (the model name it serves)")
        if self.format is Format.OPENAI and self.endpoint is None:
            raise ValueError("format openai needs an endpoint")
        allowed = DATASET_FORMATS if self.kind is Kind.DATASET else MODEL_FORMATS
        if self.format not in allowed:
            raise ValueError(f"format {self.format.value!r} is not one of a {self.kind.value}: {', '.join(allowed)}")
        card_type = DatasetCard if self.kind is Kind.DATASET else ModelCard
        if not isinstance(self.card, card_type):
            raise ValueError(f"card: a {self.kind.value} needs a {self.kind.value} card")
        if len(self.groups) > 1 and self.unix_group is None:
            raise ValueError("unix_group: required when several groups share an entry (one Unix group owns the files)")
        return self


class CatalogueFile(_Strict):
    """One layer of the catalogue: a root and the entries below it."""

    root: str = Field(description="Absolute folder the entries' paths are relative to; one of the settings' roots")
    entries: tuple[Entry, ...]


class CatalogueError(ValueError):
    """The catalogue is not valid; the message names the file, the entry and the field."""


class Located(_Strict):
    """An entry, the root of its catalogue file, and the absolute location of its files (None for an endpoint)."""

    entry: Entry
    root: Path
    location: Path | None


class Catalogue:
    """The merged entries, by name, each with its absolute location."""

    def __init__(self, located: Iterable[Located]):
        self._by_name = {item.entry.name: item for item in located}

    def __iter__(self) -> Iterator[Located]:
        return iter(sorted(self._by_name.values(), key=lambda item: item.entry.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Located | None:
        return self._by_name.get(name)

    def unix_group(self, name: str, unix_groups: Mapping[str, str]) -> str:
        """The Unix group owning ``name``'s files: its own, else that of its only hub group."""
        entry = self._by_name[name].entry
        return entry.unix_group or unix_groups.get(entry.groups[0], f"aifnb-{entry.groups[0]}")


def _describe(exc: ValidationError, entries: Sequence[object]) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
            raw = entries[loc[1]] if loc[1] < len(entries) else None
            name = raw.get("name") if isinstance(raw, Mapping) else None
            kind = raw.get("kind") if isinstance(raw, Mapping) else None
            # The card is tried as both kinds; only the errors of the entry's own kind say something.
            tags = " ".join(str(p) for p in loc)
            if ("ModelCard" in tags and kind == "dataset") or ("DatasetCard" in tags and kind == "model"):
                continue
            rest = [str(p) for p in loc[2:] if "DatasetCard" not in str(p) and "ModelCard" not in str(p)]
            where = f"entry {str(name)[:64]!r}" if name else f"entries[{loc[1]}]"
            if rest:
                where += ": " + ".".join(rest)
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field missing"
        lines.append(f"  {where}: {message}")
    return lines


def read_catalogue_file(path: Path) -> CatalogueFile:
    """One catalogue file, validated; :class:`CatalogueError` naming the file, entry and field."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"data catalogue {path}: cannot read it ({exc})") from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"data catalogue {path}: the top level must be a mapping with root and entries")
    try:
        return CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        entries = raw.get("entries") if isinstance(raw.get("entries"), list) else []
        raise CatalogueError("\n".join([f"invalid data catalogue {path}:", *_describe(exc, entries)])) from None


def load_catalogue(files: Sequence[Path], roots: Sequence[Path]) -> Catalogue:
    """The entries of ``files`` layered in order (a later entry replaces one of the same name),
    each file's root one of ``roots``. Locations are checked on disk separately
    (:func:`aifnb_data.locations.check_catalogue`), since only the hub may see every file."""
    allowed = [PurePosixPath(r) for r in roots]
    merged: dict[str, Located] = {}
    for path in files:
        layer = read_catalogue_file(Path(path))
        root = PurePosixPath(layer.root)
        if not root.is_absolute() or ".." in root.parts or root not in allowed:
            raise CatalogueError(
                f"data catalogue {path}: root {layer.root!r} is not one of the configured roots "
                f"(data_catalogue.roots: {', '.join(map(str, allowed)) or 'none'})"
            )
        for entry in layer.entries:
            location = Path(root, entry.path) if entry.path is not None else None
            merged[entry.name] = Located(entry=entry, root=Path(root), location=location)
    shared: dict[str, tuple[str, ...]] = {}
    for item in merged.values():
        if item.entry.unix_group:
            groups = tuple(sorted(item.entry.groups))
            if shared.setdefault(item.entry.unix_group, groups) != groups:
                raise CatalogueError(
                    f"data catalogue: entry {item.entry.name!r}: unix_group {item.entry.unix_group} is used by entries "
                    f"shared with different groups ({', '.join(shared[item.entry.unix_group])} vs {', '.join(groups)}); "
                    "one Unix group has one membership"
                )
    return Catalogue(merged.values())
