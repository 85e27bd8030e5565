"""Platform groups become Unix groups, and Slurm partitions admit only the groups of their profiles."""

from __future__ import annotations

from aifnb_hub.settings import Settings, load_settings
from aifnb_hub.unix_groups import partition_groups, unix_group


def test_each_partition_admits_only_its_profiles_groups():
    """The shipped profiles: every group may use cpu, learners may not use gpu."""
    allowed = partition_groups(load_settings())
    assert allowed["cpu"] == ["aifnb-admins", "aifnb-companies", "aifnb-learners", "aifnb-trainers"]
    assert allowed["gpu"] == ["aifnb-admins", "aifnb-companies", "aifnb-trainers"]


def test_site_unix_group_names_are_used():
    """A centre's own Unix group name replaces the aifnb-<group> default."""
    raw = load_settings().model_dump(mode="json")
    raw["groups"]["learners"]["unix_group"] = "p200000-learn"
    settings = Settings.model_validate(raw)
    assert unix_group(settings, "learners") == "p200000-learn"
    assert "p200000-learn" in partition_groups(settings)["cpu"]
