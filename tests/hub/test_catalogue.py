"""The notebook catalogue (notebooks/catalogue.yaml) and the static rules every notebook follows.

Nothing here executes a notebook (that is tests/notebooks/test_execute.py): these checks are fast
and run in the default tier.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from aifnb_hub.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    Audience,
    Catalogue,
    CatalogueError,
    Profile,
    Service,
    load_catalogue,
    parse_catalogue,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def notebooks_on_disk() -> list[str]:
    return sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


ON_DISK = notebooks_on_disk()
VALID = """
version: 1
notebooks:
  - path: courses/a.ipynb
    title: A
    summary: One line.
    audience: [learner]
    service: Upskill
    profile: cpu
    duration_minutes: 10
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# -- schema ----------------------------------------------------------------------------------
def test_shipped_catalogue_loads(catalogue):
    assert DEFAULT_CATALOGUE_PATH == NOTEBOOKS / "catalogue.yaml"
    assert catalogue.root == NOTEBOOKS.resolve()
    assert len(catalogue) >= 1
    for entry in catalogue:
        assert isinstance(entry.service, Service)
        assert isinstance(entry.profile, Profile)
        assert all(isinstance(a, Audience) for a in entry.audience)


def test_env_var_points_at_another_file(tmp_path, monkeypatch):
    f = tmp_path / "cat.yaml"
    f.write_text(VALID)
    monkeypatch.setenv("AIFNB_CATALOGUE", str(f))
    cat = load_catalogue()
    assert cat.paths() == ["courses/a.ipynb"]
    assert cat.file("courses/a.ipynb") == tmp_path.resolve() / "courses/a.ipynb"
    e = cat.get("courses/a.ipynb")
    assert e.dashboard is False and e.ci_parameters == {} and e.prerequisites == [] and e.sector is None


def test_unknown_key_in_entry_is_rejected_and_named(tmp_path):
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(VALID + "    colour: blue\n", root=tmp_path)
    msg = str(err.value)
    assert "unknown key 'colour'" in msg
    assert "courses/a.ipynb" in msg


def test_unknown_top_level_key_is_rejected_and_named(tmp_path):
    with pytest.raises(CatalogueError, match="unknown key 'notebook_list'"):
        parse_catalogue(VALID + "notebook_list: []\n", root=tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("service: Upskill", "service: Teach", "service"),
        ("profile: cpu", "profile: cpu-course", "profile"),
        ("audience: [learner]", "audience: [student]", "audience"),
        ("audience: [learner]", "audience: []", "audience"),
        ("duration_minutes: 10", "duration_minutes: 0", "duration_minutes"),
        ("path: courses/a.ipynb", "path: ../a.ipynb", "path"),
        ("path: courses/a.ipynb", "path: courses/a.py", "path"),
        ("summary: One line.", "summary: ''", "summary"),
        ("profile: cpu", "profile: cpu\n    sector: agriculture", "sector"),
        ("profile: cpu", "profile: cpu\n    ci_parameters: {not an id: 1}", "ci_parameters"),
    ],
)
def test_invalid_values_are_rejected(tmp_path, old, new, needle):
    with pytest.raises(CatalogueError, match=needle):
        parse_catalogue(VALID.replace(old, new), root=tmp_path)


def test_duplicate_paths_and_unknown_prerequisites_are_rejected(tmp_path):
    entry = VALID.split("notebooks:\n", 1)[1]
    with pytest.raises(CatalogueError, match="listed twice"):
        parse_catalogue(VALID + entry, root=tmp_path)
    with pytest.raises(CatalogueError, match="prerequisite"):
        parse_catalogue(VALID + "    prerequisites: [courses/missing.ipynb]\n", root=tmp_path)
    ok = parse_catalogue(VALID + "    prerequisites: [Basic Python]\n", root=tmp_path)
    assert ok.get("courses/a.ipynb").prerequisites == ["Basic Python"]


def test_missing_file_and_bad_yaml_raise_catalogue_error(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.yaml")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        parse_catalogue("notebooks: [", root=tmp_path)


def test_select_filters(tmp_path):
    cat = parse_catalogue(
        VALID
        + """  - path: sandboxes/b.ipynb
    title: B
    summary: Another line.
    audience: [company, trainer]
    service: Build & Test
    sector: finance
    profile: gpu
    duration_minutes: 45
    dashboard: true
""",
        root=tmp_path,
    )
    assert [e.path for e in cat.dashboards()] == ["sandboxes/b.ipynb"]
    assert [e.path for e in cat.select(service="Upskill")] == ["courses/a.ipynb"]
    assert [e.path for e in cat.select(audience="trainer", sector="finance", profile="gpu")] == ["sandboxes/b.ipynb"]
    assert cat.get("sandboxes/b.ipynb").needs_gpu


# -- catalogue <-> files on disk ---------------------------------------------------------------
def test_every_notebook_on_disk_is_in_the_catalogue(catalogue):
    missing = sorted(set(ON_DISK) - set(catalogue.paths()))
    assert not missing, f"notebooks not listed in notebooks/catalogue.yaml: {missing}"


def test_every_catalogue_entry_exists_on_disk(catalogue):
    absent = [p for p in catalogue.paths() if not catalogue.file(p).is_file()]
    assert not absent, f"catalogue names notebooks that do not exist: {absent}"


# -- rules for every notebook -----------------------------------------------------------------
def _read(rel: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / rel, as_version=4)


def _parameters_cell(nb) -> nbformat.NotebookNode:
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected exactly one cell tagged 'parameters', found {len(tagged)}"
    cell = tagged[0]
    assert cell.cell_type == "code", "the 'parameters' cell must be a code cell"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert cell is first_code, "the 'parameters' cell must be the first code cell"
    return cell


def parameter_names(nb) -> dict[str, object]:
    """Names and literal values of the parameters cell; fails on anything but `NAME = literal`."""
    tree = ast.parse(_parameters_cell(nb).source)
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            raise AssertionError(f"parameters cell line {node.lineno}: only `NAME = literal` assignments allowed")
        try:
            values[target] = ast.literal_eval(value)
        except ValueError:
            raise AssertionError(
                f"parameters cell line {node.lineno}: {target} is not a literal (derive it in the next cell)"
            ) from None
    assert values, "the parameters cell assigns nothing"
    return values


@pytest.mark.parametrize("rel", ON_DISK)
def test_notebook_is_valid_nbformat_with_cell_ids(rel):
    nb = _read(rel)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), "use nbformat 4.5 (cell ids)"
    assert all(c.get("id") for c in nb.cells), "every cell needs an id"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("rel", ON_DISK)
def test_notebook_has_one_literal_parameters_cell_first(rel):
    params = parameter_names(_read(rel))
    assert "METRICS_PATH" in params, "notebooks write metrics to METRICS_PATH (default '')"


@pytest.mark.parametrize("rel", ON_DISK)
def test_notebook_is_committed_without_outputs(rel):
    raw = json.loads((NOTEBOOKS / rel).read_text(encoding="utf-8"))
    dirty = [
        i
        for i, c in enumerate(raw["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"cells with outputs or execution counts (strip them): {dirty}"


def test_ci_parameters_name_real_parameters(catalogue):
    bad = {}
    for entry in catalogue:
        if not entry.ci_parameters or not catalogue.file(entry).is_file():
            continue
        known = parameter_names(_read(entry.path))
        unknown = sorted(set(entry.ci_parameters) - set(known))
        if unknown:
            bad[entry.path] = unknown
    assert not bad, f"ci_parameters that are not in the notebook's parameters cell: {bad}"
