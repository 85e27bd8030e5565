"""Files on disk: below the root, no symlinks on the way or out of a folder, the entry's group, closed to others."""

from __future__ import annotations

import grp
import os
from pathlib import Path

import pytest

from aifnb_data.cards import load_catalogue
from aifnb_data.locations import LocationError, check_catalogue
from tests.data.conftest import entry


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def _catalogue(write_catalogue, root, *entries):
    return load_catalogue([write_catalogue(list(entries), root=root)], [root])


def _dataset(own_group: str) -> dict:
    """A one-group dataset whose Unix group is this process's (so the files need no chown)."""
    return entry("iris") | {"groups": ["learners"], "unix_group": own_group}


def test_a_closed_file_of_its_group_passes(write_catalogue, root, own_group):
    """The shape provisioning makes: mode 0640, the entry's group."""
    (root / "iris.csv").write_text("a\n1\n")
    (root / "iris.csv").chmod(0o640)
    check_catalogue(_catalogue(write_catalogue, root, _dataset(own_group)), {})


def test_missing_file(write_catalogue, root, own_group):
    """An entry whose file is not there is named, with the path."""
    with pytest.raises(LocationError, match=r"entry 'iris': .*/iris.csv does not exist"):
        check_catalogue(_catalogue(write_catalogue, root, _dataset(own_group)), {})


def test_readable_by_others_is_refused(write_catalogue, root, own_group):
    """A file others may read would let anyone past the groups: the hub refuses to serve it."""
    (root / "iris.csv").write_text("a\n")
    (root / "iris.csv").chmod(0o644)
    with pytest.raises(LocationError, match=r"grants access to others \(mode 0644\); chmod -R o= it"):
        check_catalogue(_catalogue(write_catalogue, root, _dataset(own_group)), {})


def test_symlink_as_the_location_is_refused(write_catalogue, root, own_group, tmp_path):
    """A symlink named like the entry, pointing anywhere (here out of the root), is refused."""
    secret = tmp_path / "secret.csv"
    secret.write_text("x\n")
    secret.chmod(0o640)
    (root / "iris.csv").symlink_to(secret)
    with pytest.raises(LocationError, match=r"iris.csv is a symlink"):
        check_catalogue(_catalogue(write_catalogue, root, _dataset(own_group)), {})


def test_symlinked_folder_on_the_way_is_refused(write_catalogue, root, own_group, tmp_path):
    """A symlinked folder between the root and the file is refused too."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "iris.csv").write_text("x\n")
    (outside / "iris.csv").chmod(0o640)
    (root / "sub").symlink_to(outside)
    with pytest.raises(LocationError, match=r"/sub is a symlink"):
        check_catalogue(_catalogue(write_catalogue, root, _dataset(own_group) | {"path": "sub/iris.csv"}), {})


def test_symlink_escaping_a_model_folder_is_refused(write_catalogue, root, own_group, tmp_path):
    """Inside a model folder a symlink out of it (to /etc/passwd) is refused; one within it is fine."""
    model = root / "tiny-gpt2"
    model.mkdir(mode=0o750)
    model.chmod(0o750)
    (model / "config.json").write_text("{}")
    (model / "config.json").chmod(0o640)
    (model / "alias.json").symlink_to(model / "config.json")
    item = entry("tiny-gpt2") | {"groups": ["learners"], "unix_group": own_group}
    check_catalogue(_catalogue(write_catalogue, root, item), {})
    (model / "weights.bin").symlink_to("/etc/passwd")
    with pytest.raises(LocationError, match=r"weights.bin is a symlink out of the entry's folder \(to /etc/passwd\)"):
        check_catalogue(_catalogue(write_catalogue, root, item), {})


def test_open_file_inside_a_folder_is_refused(write_catalogue, root, own_group):
    """A file inside a model folder that others may read is refused, naming it."""
    model = root / "tiny-gpt2"
    model.mkdir()
    model.chmod(0o750)
    (model / "config.json").write_text("{}")
    (model / "config.json").chmod(0o644)
    item = entry("tiny-gpt2") | {"groups": ["learners"], "unix_group": own_group}
    with pytest.raises(LocationError, match=r"config.json grants access to others"):
        check_catalogue(_catalogue(write_catalogue, root, item), {})


def test_wrong_group_is_refused(write_catalogue, root, own_group):
    """A file of another group than the entry's (the hub group's Unix group by default) is refused."""
    (root / "iris.csv").write_text("a\n")
    (root / "iris.csv").chmod(0o640)
    other = next(g.gr_name for g in grp.getgrall() if g.gr_gid != os.getegid())
    item = entry("iris") | {"groups": ["learners"]}
    del item["unix_group"]
    with pytest.raises(LocationError, match=rf"not to its group {other}; chgrp -R {other} it"):
        check_catalogue(_catalogue(write_catalogue, root, item), {"learners": other})


def test_unknown_unix_group_is_named(write_catalogue, root, own_group):
    """A Unix group that does not exist is named with what to do."""
    (root / "iris.csv").write_text("a\n")
    (root / "iris.csv").chmod(0o640)
    item = _dataset(own_group) | {"unix_group": "aifnb-nosuchgroup"}
    with pytest.raises(LocationError, match=r"its Unix group aifnb-nosuchgroup does not exist"):
        check_catalogue(_catalogue(write_catalogue, root, item), {})
