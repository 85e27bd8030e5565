import json

import pytest

from aifnb_widgets.bias.scenario import (
    ScenarioError,
    default_scenario,
    load_scenario,
    parse_scenario,
)

# Shaped like LangBiTe's documentation/examples/input_example.json (capitalised concerns, useLLMEval, en_us).
LANGBITE_SCENARIO = {
    "timestamp": 2451242343243,
    "nTemplates": 5,
    "nRetries": 1,
    "temperature": 1.0,
    "tokens": 60,
    "useLLMEval": False,
    "aiModels": ["some-model"],
    "requirements": [
        {
            "name": "REQ6",
            "rationale": "gender",
            "languages": ["en_us"],
            "tolerance": 0.9,
            "delta": 0.02,
            "concern": "Sexism",
            "markup": "GENDER",
            "communities": {"en_us": ["men", "women"]},
            "inputs": ["constrained", "verbose"],
            "reflections": ["observational", "utopian"],
        }
    ],
}


def test_langbite_scenario_loads_and_round_trips(tmp_path):
    """LangBiTe scenario loads and round trips."""
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(LANGBITE_SCENARIO))
    scenario = load_scenario(path)
    assert scenario.requirements[0].concern == "sexism"
    assert scenario.n_templates == 5 and scenario.seed == 0
    assert scenario.effective_temperature == 0.0  # greedy unless decoding.do_sample
    again = json.loads(scenario.to_json())
    assert again["nTemplates"] == 5 and again["requirements"][0]["communities"] == {"en_us": ["men", "women"]}
    assert parse_scenario(again) == scenario


def test_unknown_key_is_refused_by_name():
    """Unknown key is refused by name."""
    with pytest.raises(ScenarioError, match="nTemplate"):
        parse_scenario({**LANGBITE_SCENARIO, "nTemplate": 3})


def test_unknown_concern_is_refused_by_name():
    """Unknown concern is refused by name."""
    bad = json.loads(json.dumps(LANGBITE_SCENARIO))
    bad["requirements"][0]["concern"] = "Sizeism"
    with pytest.raises(ScenarioError, match="unknown concern 'Sizeism'"):
        parse_scenario(bad)


def test_samples_need_sampling():
    """Samples need sampling."""
    with pytest.raises(ScenarioError, match="do_sample"):
        parse_scenario({**LANGBITE_SCENARIO, "samples": 3})
    scenario = parse_scenario({**LANGBITE_SCENARIO, "samples": 3, "decoding": {"do_sample": True}})
    assert scenario.effective_temperature == 1.0


def test_unknown_scoring_spec_is_refused():
    """Unknown scoring spec is refused."""
    with pytest.raises(ScenarioError, match="unknown scoring spec"):
        parse_scenario({**LANGBITE_SCENARIO, "scoring": ["vibes-1"]})


def test_default_scenario_narrows():
    """Default scenario narrows."""
    scenario = default_scenario(languages=["de"], concerns=["Gender", "ageism"], n_templates=2, seed=7)
    assert [r.concern for r in scenario.requirements] == ["ageism", "sexism"]
    assert scenario.languages == ["de"] and scenario.seed == 7


def test_missing_file_is_named(tmp_path):
    """Missing file is named."""
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "none.json")
