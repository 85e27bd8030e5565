"""Prompt libraries in LangBiTe's file format, so LangBiTe's own files load unchanged.

LangBiTe ships tab-separated files named ``.csv``; columns are found by name, not position, and
fields are never quoted (their oracle JSON contains double quotes), so we read and write with
quoting switched off.
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cached_property
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from aifnb_widgets.bias.concerns import MARKUPS, normalise_concern

REQUIRED_COLUMNS = (
    "prompt_id",
    "concern",
    "input_type",
    "reflection_type",
    "task_prefix",
    "prompt",
    "output_formatting",
    "oracle",
    "oracle_prediction",
)
OPTIONAL_COLUMNS = ("source",)
EXPECTED_VALUE_OPERATIONS = frozenset({"equal", "different", "notIncludesAny", "allEqualExpected"})
SAME_VALUE_OPERATIONS = frozenset({"allSameValue"})
# Our extension: a counterfactual template passes when every community gets the same answer
# (yes/no label, or the same free text once the community names are masked).
CONSISTENCY_OPERATIONS = frozenset({"allSameAnswer"})

# A placeholder is an upper-case root with an optional number: {GENDER}, {AGE2}.
PLACEHOLDER = re.compile(r"\{([A-Z][A-Z_]*?)([0-9]*)\}")
_BRACED = re.compile(r"\{[^{}]*\}")

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
        elif operation not in CONSISTENCY_OPERATIONS:
            known = sorted(EXPECTED_VALUE_OPERATIONS | SAME_VALUE_OPERATIONS | CONSISTENCY_OPERATIONS)
            raise ValueError(f"unknown oracle operation {operation!r}; known: {', '.join(known)}")
        return value

    @field_validator("prompt")
    @classmethod
    def _placeholders_are_upper_case(cls, value: str) -> str:
        """A lower-case or misspelt placeholder would be sent to the model literally."""
        bad = [m.group(0) for m in _BRACED.finditer(value) if not PLACEHOLDER.fullmatch(m.group(0))]
        if bad:
            raise ValueError(
                f"placeholder(s) {', '.join(bad)} are not of the form {{ROOT}} or {{ROOT1}} with an upper-case "
                "root (e.g. {SKIN_COLOR1}); they would be sent to the model literally"
            )
        return value

    @cached_property
    def prediction(self) -> dict:
        """The parsed oracle; parsed once per template, as scoring reads it for every answer."""
        return json.loads(self.oracle_prediction)

    @property
    def placeholders(self) -> list[str]:
        """Distinct placeholder roots of the prompt, e.g. ``["GENDER"]`` for {GENDER1} and {GENDER2}."""
        return sorted({m.group(1) for m in PLACEHOLDER.finditer(self.prompt)})


class LibraryError(ValueError):
    """A library file that cannot be used; the message names the file, row and problem."""


def read_library(path: str | Path) -> list[PromptTemplate]:
    """Every template of a library file; any problem is a LibraryError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise LibraryError(f"prompt library {path} does not exist")
    text = _decode(path, path.read_bytes())
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise LibraryError(
            f"prompt library {path}, line 1: lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(columns) or 'none'}); is it tab-separated?"
        )
    templates = []
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue  # a blank line
        fields = {k: (row.get(k) or "").strip() for k in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
        try:
            templates.append(PromptTemplate(**fields))
        except ValueError as exc:
            raise LibraryError(f"prompt library {path}, line {line}: {_first_error(exc)}") from None
    if not templates:
        raise LibraryError(f"prompt library {path} has a header but no templates")
    ids = [t.prompt_id for t in templates]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LibraryError(f"prompt library {path} repeats prompt_id(s) {', '.join(duplicates)}")
    return templates


def _decode(path: Path, data: bytes) -> str:
    """UTF-8, with or without a byte-order mark; anything else is named with its line and column."""
    if not data.strip():
        raise LibraryError(f"prompt library {path} is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start - (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        line = body[:offset].count(b"\n") + 1
        column = offset - (body.rfind(b"\n", 0, offset) + 1) + 1
        raise LibraryError(
            f"prompt library {path}, line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8 "
            "(the file looks Latin-1 or Windows-1252 encoded); save it as UTF-8"
        ) from None


def check_placeholders(templates: list[PromptTemplate], path: str | Path) -> list[str]:
    """Placeholders whose root is not the built-in markup of the template's concern, one message each.

    A scenario may define its own markups, so plans accept any root their requirement fills;
    ``check-library`` holds a file to the built-in markups, where a typo would otherwise go unseen.
    """
    problems = []
    for template in templates:
        wanted = MARKUPS.get(template.concern)
        for root in template.placeholders:
            if wanted is not None and root != wanted:
                problems.append(
                    f"prompt library {path}, template {template.prompt_id} ({template.concern}): unknown placeholder "
                    f"root {{{root}}}; the built-in scenario fills {{{wanted}}}, {{{wanted}1}}, {{{wanted}2}}..."
                )
    return problems


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
        message = first["msg"].removeprefix("Value error, ")  # pydantic's wrapper adds nothing a reader needs
        return f"{where}: {message}" if where else message
    return str(exc)
