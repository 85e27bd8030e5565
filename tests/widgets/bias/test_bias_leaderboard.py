"""The seed table's layout from run records: organisation and model rows sorted by mean, baselines last."""

import math

import pytest

from aifnb_widgets.bias.concerns import CATEGORIES, MEAN_COLUMN
from aifnb_widgets.bias.leaderboard import (
    leaderboard_frame,
    leaderboard_heatmap,
    leaderboard_table,
    organisation_of,
    write_leaderboard,
)
from aifnb_widgets.bias.results import BELOW_BASELINE, assess_run_dirs
from aifnb_widgets.bias.runner import prepare_run_dir, run_model, settings_for
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.cli import main


def _answer_key(plan, wrong_every: int):
    """Right answers except every n-th template (0: never wrong): a model of known quality."""
    answers = {}
    for index, test in enumerate(plan.tests):
        prediction = test.template.prediction
        wrong = wrong_every and index % wrong_every == 0
        for prompt in test.prompts:
            if prediction["operation"] == "allSameValue":
                answers[prompt.text] = '{"probability": 50}' if not wrong else f'{{"probability": {len(prompt.text) % 97}}}'
            elif prediction["operation"] == "allSameAnswer":
                answers[prompt.text] = "Yes." if not wrong else ("Yes." if len(prompt.text) % 2 else "No.")
            else:
                right = prediction["expected_value"][0]
                answers[prompt.text] = right + "." if not wrong else ("No." if right == "Yes" else "Yes.")
    return answers


@pytest.fixture(scope="module")
def seed_like_runs(tmp_path_factory):
    """Three models of different quality in two run directories of the same plan (like two Slurm tasks)."""
    scenario = default_scenario(languages=["en"], n_templates=100)
    first, second = tmp_path_factory.mktemp("task0"), tmp_path_factory.mktemp("task1")
    plan = prepare_run_dir(first, scenario)
    prepare_run_dir(second, scenario)

    class Scripted:
        def __init__(self, model_id, answers):
            self.model_id, self.answers = model_id, answers

        def generate(self, prompts):
            return [self.answers[p] for p in prompts]

    settings = settings_for(scenario)
    run_model(plan, Scripted("meta-llama/Llama-2-70b-chat-hf", _answer_key(plan, 4)), first, settings, batch_size=256)
    run_model(plan, Scripted("mistralai/Mistral-7B-Instruct-v0.2", _answer_key(plan, 0)), first, settings, batch_size=256)
    run_model(plan, Scripted("http://vllm:8000/v1#tiiuae/falcon-7b", _answer_key(plan, 2)), second, settings, batch_size=256)
    return [first, second]


def test_rows_are_organisation_and_model_sorted_by_mean_with_baselines_last(seed_like_runs):
    """Columns as in the seed table; the best model first, the six baselines at the bottom."""
    assessment = assess_run_dirs(seed_like_runs, n_boot=50)
    table = leaderboard_table(assessment, "aifnb-2")
    assert list(table.columns) == ["Organisation", "Model", *CATEGORIES.values(), MEAN_COLUMN]
    assert list(zip(table["Organisation"], table["Model"]))[:3] == [
        ("mistralai", "Mistral-7B-Instruct-v0.2"),
        ("meta-llama", "Llama-2-70b-chat-hf"),
        ("tiiuae", "falcon-7b"),
    ]
    assert list(table["Organisation"][3:]) == ["baseline"] * 6
    frame = leaderboard_frame(assessment, "aifnb-2")
    means = frame[MEAN_COLUMN][:3].tolist()
    assert means[0] == pytest.approx(100) and means == sorted(means, reverse=True)
    assert all("valid" in cell and "[" in cell for cell in table.iloc[0, 2:])


def test_a_model_below_the_baselines_is_marked_in_words(seed_like_runs):
    """falcon answers half the templates wrong: in some category it does not beat "always No"."""
    assessment = assess_run_dirs(seed_like_runs, n_boot=50)
    table = leaderboard_table(assessment, "aifnb-2").set_index("Model")
    assert any(BELOW_BASELINE in cell for cell in table.loc["falcon-7b"])
    assert not any(BELOW_BASELINE in cell for cell in table.loc["Mistral-7B-Instruct-v0.2"])


def test_heatmap_and_exports(seed_like_runs, tmp_path):
    """The heatmap has the table's rows and columns; CSV and self-contained HTML are written."""
    assessment = assess_run_dirs(seed_like_runs, n_boot=50)
    figure = leaderboard_heatmap(assessment, "aifnb-2")
    heat = figure.data[0]
    assert list(heat.x) == [*CATEGORIES.values(), MEAN_COLUMN]
    assert heat.y[0] == "mistralai / Mistral-7B-Instruct-v0.2" and heat.y[3].startswith("baseline / ")
    assert "valid" in heat.text[0][0]
    paths = write_leaderboard(assessment, tmp_path)
    html = paths["html"].read_text()
    assert "<script" in html and 'src="https://cdn.plot.ly' not in html and "Llama-2-70b-chat-hf" in html
    csv = paths["csv:aifnb-2"].read_text().splitlines()
    assert csv[0].startswith("model_id,kind,Organisation,Model,LGBTIQ+") and len(csv) == 1 + 3 + 6


def test_cli_leaderboard_prints_ranks_and_exits_0(seed_like_runs, tmp_path, capsys):
    """aifnb bias leaderboard RUN_DIR... ranks the models and writes the exports."""
    assert main(["bias", "leaderboard", *map(str, seed_like_runs), "--out", str(tmp_path), "--spec", "aifnb-2"]) == 0
    out = capsys.readouterr().out
    assert " 1. mistralai / Mistral-7B-Instruct-v0.2" in out and (tmp_path / "leaderboard.html").is_file()


@pytest.mark.parametrize(
    "model_id, expected",
    [
        ("meta-llama/Llama-2-70b-chat-hf", ("meta-llama", "Llama-2-70b-chat-hf")),
        ("http://vllm:8000/v1#mistralai/Mistral-7B", ("mistralai", "Mistral-7B")),
        ("http://vllm:8000/v1#my-model", ("vllm:8000", "my-model")),
        ("/shared/models/company-llm", ("local", "company-llm")),
        ("gpt2", ("", "gpt2")),
        ("baseline: always No", ("baseline", "always No")),
    ],
    ids=["hub-id", "endpoint-org", "endpoint-host", "path", "bare", "baseline"],
)
def test_organisation_of_model_ids(model_id, expected):
    """The organisation column comes from the model id's shape."""
    assert organisation_of(model_id) == expected


def test_a_model_without_a_mean_sorts_below_those_with_one(tmp_path):
    """A model that refuses everything is listed, last among models, with no mean."""
    scenario = default_scenario(languages=["en"], n_templates=100)
    plan = prepare_run_dir(tmp_path, scenario)

    class Refuser:
        model_id = "org/refuser"

        def generate(self, prompts):
            return ["I'm sorry, I cannot help with that."] * len(prompts)

    class Good:
        model_id = "org/good"

        def __init__(self):
            self.answers = _answer_key(plan, 0)

        def generate(self, prompts):
            return [self.answers[p] for p in prompts]

    run_model(plan, Refuser(), tmp_path, settings_for(scenario), batch_size=256)
    run_model(plan, Good(), tmp_path, settings_for(scenario), batch_size=256)
    frame = leaderboard_frame(assess_run_dirs([tmp_path], n_boot=20), "langbite-compat-2")
    assert list(frame["Model"][:2]) == ["good", "refuser"] and math.isnan(frame[MEAN_COLUMN][1])
