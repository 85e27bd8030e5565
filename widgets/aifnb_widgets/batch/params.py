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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from aifnb_spawners.profiles import OptionError

#: The literal types a parameter may have, by the name messages use.
TYPE_NAMES: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str", list: "list"}
#: Most parameter sets one sweep may hold (one Slurm array task each).
MAX_SWEEP = 1000


class ParameterError(OptionError):
    """A parameter the notebook does not declare, or a value of the wrong type."""


def _type_name(value: Any) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


def parameters_cell(notebook: dict[str, Any]) -> str:
    """Source of the first code cell tagged ``parameters``; '' when the notebook has none."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return ""


def declared_parameters(notebook_path: str | Path) -> dict[str, Any]:
    """Names and literal default values of the notebook's ``parameters`` cell.

    Assignments whose value is not a literal (``X = f()``) are declared with value ``None``:
    their names are accepted and their type is not checked.
    """
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    declared: dict[str, Any] = {}
    for node in ast.parse(parameters_cell(notebook)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    declared[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    declared[target.id] = None
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
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise ParameterError(name, f"the notebook's parameters cell does not declare it (declared: {known})")
        if not _matches(declared[name], value):
            raise ParameterError(name, f"expected {_type_name(declared[name])}, got {_type_name(value)} {value!r:.60}")
        checked[name] = list(value) if isinstance(value, tuple) else value
    json.dumps(checked)  # anything _matches accepts is JSON; this guards nested list items
    return checked


def parse_value(declared: Mapping[str, Any], name: str, text: str) -> Any:
    """A command-line value read as the type the notebook declares for ``name``.

    Strings stay as typed; numbers, booleans and lists are read as YAML (``3``, ``0.5``,
    ``true``, ``[1, 2]``), so ``-p EPOCHS 3`` gives an int and ``-p NAME 3`` a str.
    """
    if name not in declared:
        return text  # check_parameters names it
    default = declared[name]
    if isinstance(default, str):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ParameterError(name, f"{text[:60]!r} is not a valid {_type_name(default)}") from None


def load_sweep(path: str | Path) -> list[dict[str, Any]]:
    """Parameter sets of a sweep file (see :func:`sweep_sets`)."""
    return sweep_sets(yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path))


def sweep_sets(raw: Any, source: str = "the sweep") -> list[dict[str, Any]]:
    """Parameter sets of parsed sweep YAML: a list of mappings, or a mapping of name to a list
    of values (every combination, in file order)."""
    if isinstance(raw, Mapping) and raw and all(isinstance(v, list) and v for v in raw.values()):
        sets = [dict(zip(raw, combo)) for combo in itertools.product(*raw.values())]
    elif isinstance(raw, list) and raw and all(isinstance(item, Mapping) for item in raw):
        sets = [dict(item) for item in raw]
    else:
        raise ParameterError("sweep", f"{source} must hold a list of parameter mappings or a mapping of names to non-empty lists")
    if len(sets) > MAX_SWEEP:
        raise ParameterError("sweep", f"{len(sets)} parameter sets; at most {MAX_SWEEP} per sweep")
    return sets
