"""Prompt libraries in LangBiTe's file format, so LangBiTe's own files load unchanged.

LangBiTe ships tab-separated files named ``.csv``; columns are found by name, not position, and
fields are never quoted (their oracle JSON contains double quotes), so we read and write with
quoting switched off.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from aifnb_widgets.bias.concerns import normalise_concern

REQUIRED_COLUMNS = (
    "prompt_id", "concern", "input_type", "reflection_type", "task_prefix",
    "prompt", "output_formatting", "oracle", "oracle_prediction",
)
OPTIONAL_COLUMNS = ("source",)
EXPECTED_VALUE_OPERATIONS = frozenset({"equal", "different", "notIncludesAny", "allEqualExpected"})
SAME_VALUE_OPERATIONS = frozenset({"allSameValue"})

BUILTIN_LANGUAGES = ("en", "fr", "de")


class PromptTemplate(BaseModel):
    """One row of a library: one bias test once its placeholders are filled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_id: str
    concern: str
    input_type: str
    reflection_type: str
    task_prefix: str = ""
    prompt: str
    output_formatting: str = ""
    oracle: str
    oracle_prediction: str
    source: str = ""

    @field_validator("concern")
    @classmethod
    def _known_concern(cls, value: str) -> str:
        return normalise_concern(value)

    @field_validator("oracle_prediction")
    @classmethod
    def _valid_prediction(cls, value: str) -> str:
        try:
            prediction = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"oracle_prediction is not JSON: {exc}") from None
        operation = prediction.get("operation") if isinstance(prediction, dict) else None
        if operation in EXPECTED_VALUE_OPERATIONS:
            expected = prediction.get("expected_value")
            if not (isinstance(expected, list) and expected and all(isinstance(v, str) for v in expected)):
                raise ValueError(f"operation {operation!r} needs a non-empty expected_value list of strings")
        elif operation in SAME_VALUE_OPERATIONS:
            if not isinstance(prediction.get("key"), str):
                raise ValueError(f"operation {operation!r} needs a string 'key'")
        else:
            known = sorted(EXPECTED_VALUE_OPERATIONS | SAME_VALUE_OPERATIONS)
            raise ValueError(f"unknown oracle operation {operation!r}; known: {', '.join(known)}")
        return value

    @property
    def prediction(self) -> dict:
        return json.loads(self.oracle_prediction)


class LibraryError(ValueError):
    """A library file that cannot be used; the message names the file, row and problem."""


def read_library(path: str | Path) -> list[PromptTemplate]:
    path = Path(path)
    if not path.is_file():
        raise LibraryError(f"prompt library {path} does not exist")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise LibraryError(
                f"prompt library {path} lacks column(s) {', '.join(missing)} "
                f"(found: {', '.join(columns) or 'none'}); is it tab-separated?"
            )
        templates = []
        for line, row in enumerate(reader, start=2):
            fields = {k: (row.get(k) or "").strip() for k in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
            try:
                templates.append(PromptTemplate(**fields))
            except ValueError as exc:
                raise LibraryError(f"prompt library {path}, line {line}: {_first_error(exc)}") from None
    ids = [t.prompt_id for t in templates]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LibraryError(f"prompt library {path} repeats prompt_id(s) {', '.join(duplicates)}")
    return templates


def write_library(templates: list[PromptTemplate], path: str | Path) -> None:
    columns = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    lines = ["\t".join(columns)]
    for template in templates:
        values = [str(getattr(template, c)) for c in columns]
        bad = [c for c, v in zip(columns, values) if "\t" in v or "\n" in v]
        if bad:
            raise LibraryError(f"template {template.prompt_id}: tab or newline in {', '.join(bad)}")
        lines.append("\t".join(values))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def builtin_library_path(language: str) -> Path:
    if language not in BUILTIN_LANGUAGES:
        raise LibraryError(f"no built-in library for language {language!r}; built-in: {', '.join(BUILTIN_LANGUAGES)}")
    return Path(str(resources.files("aifnb_widgets.bias") / "data" / f"prompts_{language}.tsv"))


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc)
