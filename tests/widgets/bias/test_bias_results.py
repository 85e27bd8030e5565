"""Golden tables: what trivial answerers score on our library follows from its composition.

Per language and concern the built-in library holds (English / French, German):
  allEqualExpected "No" 10 / 7, equal "No" 1 / 1, allEqualExpected "Yes" 1 / 1,
  different "No" 1 / 0, allSameValue 2 / 1; politics instead: equal "N/A" 5 / 3,
  allEqualExpected "No" 7 / 5, "Yes" 1 / 1, allSameValue 2 / 1.
allSameValue needs JSON, so constant answers make those Errors, outside the denominator.
"""

import math

import pytest

from aifnb_widgets.bias.concerns import CATEGORIES, MEAN_COLUMN
from aifnb_widgets.bias.plan import build_plan
from aifnb_widgets.bias.results import assess
from aifnb_widgets.bias.runner import prepare_run_dir, run_model, settings_for
from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.bias.stats import bootstrap_mean_interval, wilson_interval

OTHER = [c for c in CATEGORIES.values() if c != "Political"]
# Whole library, en + fr + de: denominators 13 + 9 + 9 = 31 per category.
GOLDEN = {
    "always No": {**{c: 27 / 31 for c in OTHER}, "Political": 17 / 31},
    "always refuses": {**{c: 1 / 31 for c in OTHER}, "Political": 11 / 31},
}


@pytest.fixture(scope="module")
def full_assessment():
    scenario = default_scenario(n_templates=100)
    return assess(build_plan(scenario), [], scenario.scoring, n_boot=200)


@pytest.mark.parametrize("spec", ["langbite-compat-1", "aifnb-1"])
@pytest.mark.parametrize("baseline", list(GOLDEN))
def test_golden_baselines_on_the_full_library(full_assessment, spec, baseline):
    table = full_assessment.leaderboard(spec)
    row = table.loc[f"baseline: {baseline}"]
    for category, rate in GOLDEN[baseline].items():
        assert row[category] == pytest.approx(rate * 100)
    assert row[MEAN_COLUMN] == pytest.approx(sum(GOLDEN[baseline].values()) / 7 * 100)
    assert list(table.columns) == [*CATEGORIES.values(), MEAN_COLUMN]


def test_baseline_errors_are_the_json_templates(full_assessment):
    summary = full_assessment.summary.set_index(["model", "spec", "category"])
    row = summary.loc[("baseline: always No", "langbite-compat-1", "Ageism")]
    assert (row["passed"], row["failed"], row["errors"], row["n"]) == (27, 4, 4, 31)
    refusing = summary.loc[("baseline: always refuses", "aifnb-1", MEAN_COLUMN)]
    assert refusing["refusal_rate"] == 1.0


def _rule_yes_for_politics(prompt: str) -> str:
    """Says N/A to support-the-sentence prompts, No to everything else: passes all but Yes/different/JSON."""
    return "N/A" if "support the sentence" in prompt else "No."


def test_scripted_backend_gets_exactly_known_rates(tmp_path, scripted):
    scenario = default_scenario(languages=["en"], n_templates=100)
    plan = prepare_run_dir(tmp_path, scenario)
    run_model(plan, scripted(_rule_yes_for_politics), tmp_path, settings_for(scenario), batch_size=64)
    assessment = assess(plan, read_run_records(tmp_path), scenario.scoring, n_boot=200)
    row = assessment.leaderboard("langbite-compat-1").loc["scripted"]
    for category in OTHER:
        assert row[category] == pytest.approx(11 / 13 * 100)
    assert row["Political"] == pytest.approx(12 / 13 * 100)
    summary = assessment.summary.set_index(["model", "spec", "category"])
    mean = summary.loc[("scripted", "langbite-compat-1", MEAN_COLUMN)]
    assert mean["ci_low"] < mean["pass_rate"] < mean["ci_high"]


def test_wilson_matches_known_values():
    low, high = wilson_interval(7, 10)
    assert (round(low, 4), round(high, 4)) == (0.3968, 0.8922)
    assert wilson_interval(0, 15)[0] == 0.0 and wilson_interval(15, 15)[1] == 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_bootstrap_is_seeded_and_brackets_the_mean():
    outcomes = [[1, 1, 0, 1], [0, 1, 0, 0, 1]]
    assert bootstrap_mean_interval(outcomes, seed=3) == bootstrap_mean_interval(outcomes, seed=3)
    low, high = bootstrap_mean_interval(outcomes, seed=3)
    assert low < (0.75 + 0.4) / 2 < high
