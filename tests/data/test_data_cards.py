"""The catalogue schema: complete cards, locations below a configured root, layered files."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifnb_data.cards import CatalogueError, load_catalogue
from aifnb_data.demo import BUILDERS, DEMO_CATALOGUE
from tests.data.conftest import entry, served_entry


def test_demo_catalogue_is_valid_and_every_entry_can_be_built():
    """The shipped demo file validates, and provisioning knows how to make each of its entries."""
    catalogue = load_catalogue([DEMO_CATALOGUE], [Path("/var/lib/aifnb/data")])
    assert {item.entry.name for item in catalogue} == set(BUILDERS)
    kinds = {item.entry.kind.value for item in catalogue}
    assert kinds == {"dataset", "model"}


DATASET_FIELDS = [
    "source",
    "provenance",
    "personal_data",
    "special_categories",
    "legal_basis",
    "retention",
    "anonymisation",
    "intended_uses",
    "prohibited_uses",
    "known_biases",
]
MODEL_FIELDS = ["parameters", "architecture", "languages", "context_length", "training_data", "evaluations"]


@pytest.mark.parametrize(
    ("name", "field"),
    [("iris", f) for f in DATASET_FIELDS] + [("tiny-gpt2", f) for f in MODEL_FIELDS],
    ids=[f"dataset-{f}" for f in DATASET_FIELDS] + [f"model-{f}" for f in MODEL_FIELDS],
)
def test_card_missing_a_required_field_names_entry_and_field(write_catalogue, tmp_path, name, field):
    """Every field the issue requires is required: its absence names the entry and the card field."""
    broken = entry(name)
    del broken["card"][field]
    with pytest.raises(CatalogueError) as caught:
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])
    assert f"entry '{name}': card.{field}: required field missing" in str(caught.value)


@pytest.mark.parametrize("field", ["licence", "commercial_use", "contact", "groups", "format", "size"])
def test_entry_missing_a_required_field_is_named(write_catalogue, tmp_path, field):
    """Licence, commercial use, contact, groups, format and size are required on every entry."""
    broken = entry("wine")
    del broken[field]
    with pytest.raises(CatalogueError, match=rf"entry 'wine': {field}: required field missing"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_unknown_key_is_refused(write_catalogue, tmp_path):
    """A misspelt card key stops the load instead of being ignored."""
    broken = entry("iris")
    broken["card"]["retension"] = "forever"
    with pytest.raises(CatalogueError, match=r"entry 'iris': card.retension: unknown key"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


@pytest.mark.parametrize(
    "path",
    ["../etc/passwd", "/etc/passwd", "a/../../b", "./iris.csv", "iris.csv\n", "with space.csv", ""],
    ids=["dotdot", "absolute", "inner-dotdot", "dot", "newline", "space", "empty"],
)
def test_paths_stay_below_the_root(write_catalogue, tmp_path, path):
    """A path that could leave the root, or that carries shell or line syntax, is refused."""
    broken = entry("iris")
    broken["path"] = path
    with pytest.raises(CatalogueError, match=r"entry 'iris': path"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_root_must_be_a_configured_root(write_catalogue, tmp_path):
    """A catalogue file whose root the settings do not list is refused, naming the roots."""
    path = write_catalogue([entry("iris")], root=Path("/etc"))
    with pytest.raises(CatalogueError, match=r"root '/etc' is not one of the configured roots"):
        load_catalogue([path], [tmp_path / "data"])


@pytest.mark.parametrize("name", ["../x", "Iris", "x" * 65, "a b", "-x"], ids=["dotdot", "upper", "long", "space", "dash"])
def test_forged_entry_names_are_refused(write_catalogue, tmp_path, name):
    """Entry names reach paths and logs: only the allow-list passes."""
    broken = entry("iris")
    broken["name"] = name
    with pytest.raises(CatalogueError, match=r"name: .* is not allowed"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_personal_data_needs_a_legal_basis(write_catalogue, tmp_path):
    """Personal data with legal_basis not-applicable is a contradiction the schema refuses."""
    broken = entry("credit-applications")
    broken["card"]["personal_data"] = "pseudonymised"
    with pytest.raises(CatalogueError, match=r"legal_basis must name an Art. 6\(1\) ground"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_special_categories_need_personal_data(write_catalogue, tmp_path):
    """Art. 9 categories cannot be listed for data said to hold no personal data."""
    broken = entry("breast-cancer-wisconsin")
    broken["card"]["special_categories"] = ["health"]
    with pytest.raises(CatalogueError, match=r"special_categories are listed but personal_data is 'none'"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_several_groups_need_one_unix_group(write_catalogue, tmp_path):
    """Files have one group: an entry shared with several hub groups must name the Unix group."""
    broken = entry("iris")
    del broken["unix_group"]
    with pytest.raises(CatalogueError, match=r"unix_group: required when several groups share an entry"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_dataset_with_a_model_card_is_refused(write_catalogue, tmp_path):
    """The card must be of the entry's kind: a dataset with a (complete) model card is refused."""
    broken = entry("iris")
    broken["card"] = entry("tiny-gpt2")["card"]
    with pytest.raises(CatalogueError, match=r"entry 'iris': card: a dataset needs a dataset card"):
        load_catalogue([write_catalogue([broken])], [tmp_path / "data"])


def test_endpoint_entries(write_catalogue, tmp_path):
    """A served model has an http(s) endpoint and a served name; credentials in the URL are refused."""
    served = served_entry()
    catalogue = load_catalogue([write_catalogue([served])], [tmp_path / "data"])
    assert catalogue.get("served").location is None
    leaky = served | {"endpoint": "http://user:secret@10.0.0.5/v1"}
    with pytest.raises(CatalogueError, match=r"endpoint: an http\(s\) URL"):
        load_catalogue([write_catalogue([leaky])], [tmp_path / "data"])


def test_later_file_replaces_an_entry_and_shared_unix_groups_agree(write_catalogue, tmp_path):
    """Layers: the centre's file replaces a demo entry by name; one Unix group cannot serve two memberships."""
    first = write_catalogue([entry("iris"), entry("wine")])
    centre = entry("iris") | {"title": "Iris, the centre's copy"}
    catalogue = load_catalogue([first, write_catalogue([centre])], [tmp_path / "data"])
    assert catalogue.get("iris").entry.title == "Iris, the centre's copy"
    assert len(catalogue) == 2
    narrower = entry("wine") | {"groups": ["learners", "admins"]}
    with pytest.raises(CatalogueError, match=r"unix_group aifnb-data-open is used by entries shared with different groups"):
        load_catalogue([first, write_catalogue([narrower])], [tmp_path / "data"])
