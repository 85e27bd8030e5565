"""Tiny notebooks built per test, and the platform's default settings, for the Scale & Run tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from aifnb_hub.settings import load_settings


def write_notebook(path: Path, parameters: str, *body: str) -> Path:
    """A notebook whose first code cell is tagged ``parameters``, then one cell per ``body``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in body]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    path.chmod(0o644)
    return path


#: Parameters of the doubling notebook: one of each type the validation knows.
DOUBLE_PARAMETERS = 'X = 1\nRATE = 0.5\nNAME = "run"\nVERBOSE = False\nSIZES = [1, 2]\nOUT = "doubled.txt"'


@pytest.fixture
def double_notebook(tmp_path) -> Path:
    return write_notebook(tmp_path / "double.ipynb", DOUBLE_PARAMETERS, "open(OUT, 'w').write(str(X * 2))")


@pytest.fixture(scope="session")
def settings():
    return load_settings()
