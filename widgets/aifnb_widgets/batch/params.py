"""A notebook's ``parameters`` cell as the contract for what a batch job may override.

The cell's literals are the only declaration a notebook has of its inputs, so a value is refused
before submission when its name is not in the cell or its type differs from the literal's
(an int is accepted where a float is declared). Papermill would otherwise inject anything and
the mistake would surface minutes later, in a queue, as a failed job.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from aifnb_slurm.profiles import OptionError
from aifnb_widgets.batch.layout import NOTEBOOK_LIMIT, BatchError, read_regular

#: The literal types a parameter may have, by the name messages use.
TYPE_NAMES: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str", list: "list"}
#: Most parameter sets one sweep may hold (one Slurm array task each).
MAX_SWEEP = 1000
#: Largest sweep YAML read, in bytes: 1000 parameter sets of a few values each fit in far less.
MAX_SWEEP_BYTES = 256 * 1024
#: Largest YAML value given on the command line or in a form field, in bytes.
MAX_VALUE_BYTES = 64 * 1024
#: Deepest nesting of YAML collections accepted (a parameter is at most a list of lists).
MAX_YAML_DEPTH = 16


class ParameterError(OptionError):
    """A parameter the notebook does not declare, or a value of the wrong type."""


def _type_name(value: Any) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


def parameters_cell(notebook: dict[str, Any]) -> str:
    """Source of the first code cell tagged ``parameters``; '' when the notebook has none."""
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            continue
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata", {}).get("tags") or []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return ""


def declared_parameters(notebook_path: str | Path) -> dict[str, Any]:
    """Names and literal default values of the notebook's ``parameters`` cell (see
    :func:`declared_in`); the file is read as the caller, regular files only."""
    try:
        source = read_regular(notebook_path, NOTEBOOK_LIMIT)
    except BatchError as exc:
        raise ParameterError("notebook", str(exc)) from None
    return declared_in(source, str(notebook_path))


def declared_in(source: str, where: str = "the notebook") -> dict[str, Any]:
    """Names and literal default values of the ``parameters`` cell of notebook JSON ``source``.

    Assignments whose value is not a literal (``X = f()``) are declared with value ``None``:
    their names are accepted and their type is not checked.
    """
    try:
        notebook = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ParameterError("notebook", f"{where} is not a notebook (invalid JSON: {exc.msg})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
        raise ParameterError("notebook", f"{where} is not a notebook (no list of cells)")
    try:
        body = ast.parse(parameters_cell(notebook)).body
    except (SyntaxError, TypeError) as exc:
        raise ParameterError("parameters", f"the parameters cell of {where} is not valid Python ({exc})") from None
    declared: dict[str, Any] = {}
    for node in body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    declared[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    declared[target.id] = None  # not a literal: named, its type unchecked
    return declared


def _matches(default: Any, value: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return type(default) is type(value)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return type(default) is type(value)


def check_parameters(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` as JSON-ready values; raises :class:`ParameterError` naming the first bad one."""
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if not isinstance(name, str):
            raise ParameterError(str(name)[:40], "parameter names are text, as in the notebook's parameters cell")
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise ParameterError(name, f"the notebook's parameters cell does not declare it (declared: {known})")
        if not _matches(declared[name], value):
            raise ParameterError(name, f"expected {_type_name(declared[name])}, got {_type_name(value)} {value!r:.60}")
        try:  # list items are not type-checked: a YAML date or .nan inside one is no JSON
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ParameterError(
                name, "holds a value JSON cannot carry (a date, NaN or infinity); use numbers, text, booleans and lists"
            ) from None
        checked[name] = list(value) if isinstance(value, tuple) else value
    return checked


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses anchors and aliases, and deep nesting.

    A few hundred bytes of nested aliases (a "billion laughs") expand into gigabytes when
    loaded; parameter values never need them, so they are refused while composing, before
    anything is expanded. Deep nesting would end in a RecursionError instead of a message.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _YamlRefused("YAML anchors and aliases (&name, *name) are not allowed; write the values out")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlRefused(f"YAML nested deeper than {MAX_YAML_DEPTH} levels is not allowed")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _YamlRefused(yaml.YAMLError):
    """YAML the loader refuses to compose (aliases, deep nesting)."""


def load_yaml(text: str, field: str, limit: int = MAX_VALUE_BYTES) -> Any:
    """``text`` parsed as YAML without anchors, aliases or deep nesting, at most ``limit`` bytes;
    :class:`ParameterError` naming ``field`` otherwise."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > limit:
        raise ParameterError(field, f"{size} bytes of YAML; at most {limit}")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except _YamlRefused as exc:
        raise ParameterError(field, str(exc)) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ParameterError(field, f"not valid YAML ({problem})") from None


def parse_value(declared: Mapping[str, Any], name: str, text: str) -> Any:
    """A command-line value read as the type the notebook declares for ``name``.

    Strings stay as typed; numbers, booleans and lists are read as YAML (``3``, ``0.5``,
    ``true``, ``[1, 2]``), so ``-p EPOCHS 3`` gives an int and ``-p NAME 3`` a str.
    """
    if name not in declared:
        return text  # check_parameters names it
    if isinstance(declared[name], str):
        return text
    return load_yaml(text, name)


def load_sweep(path: str | Path) -> list[dict[str, Any]]:
    """Parameter sets of a sweep file (see :func:`parse_sweep`): a regular file of at most
    :data:`MAX_SWEEP_BYTES`."""
    try:
        text = read_regular(path, MAX_SWEEP_BYTES)
    except BatchError as exc:
        raise ParameterError("sweep", str(exc)) from None
    return parse_sweep(text, str(path))


def parse_sweep(text: str, source: str = "the sweep") -> list[dict[str, Any]]:
    """Parameter sets of sweep YAML ``text`` (no aliases, size-capped; see :func:`sweep_sets`)."""
    return sweep_sets(load_yaml(text, "sweep", MAX_SWEEP_BYTES), source)


def sweep_size(raw: Any) -> int | None:
    """How many parameter sets parsed sweep YAML stands for, counted without building them
    (the product of the list lengths for a grid); None when it is neither shape."""
    if isinstance(raw, Mapping) and raw and all(isinstance(v, list) and v for v in raw.values()):
        return math.prod(len(v) for v in raw.values())
    if isinstance(raw, list) and raw and all(isinstance(item, Mapping) for item in raw):
        return len(raw)
    return None


def sweep_sets(raw: Any, source: str = "the sweep") -> list[dict[str, Any]]:
    """Parameter sets of parsed sweep YAML: a list of mappings, or a mapping of name to a list
    of values (every combination, in file order).

    The size is checked before anything is built: a grid of eight lists of ten values is
    10^8 combinations, written in a few lines.
    """
    size = sweep_size(raw)
    if size is None:
        raise ParameterError("sweep", f"{source} must hold a list of parameter mappings or a mapping of names to non-empty lists")
    if size > MAX_SWEEP:
        shape = " x ".join(str(len(v)) for v in raw.values()) + " = " if isinstance(raw, Mapping) else ""
        raise ParameterError("sweep", f"{shape}{size} parameter sets; at most {MAX_SWEEP} per sweep")
    if isinstance(raw, Mapping):
        return [dict(zip(raw, combo)) for combo in itertools.product(*raw.values())]
    return [dict(item) for item in raw]


def check_sweep(sweep: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a sweep given through the API that is empty or over :data:`MAX_SWEEP`."""
    if isinstance(sweep, (str, bytes)) or not isinstance(sweep, Sequence):
        raise ParameterError("sweep", "must be a list of parameter mappings")
    if not sweep:
        raise ParameterError("sweep", "holds no parameter set")
    if len(sweep) > MAX_SWEEP:
        raise ParameterError("sweep", f"{len(sweep)} parameter sets; at most {MAX_SWEEP} per sweep")
    for index, item in enumerate(sweep):
        if not isinstance(item, Mapping):
            raise ParameterError("sweep", f"item {index} is not a mapping of parameter names to values")
