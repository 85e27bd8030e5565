"""Maturity scoring on hand-computed answers."""

import pytest

from aifnb_widgets.sandboxes.charts import maturity_radar
from aifnb_widgets.sandboxes.maturity.scoring import load_maturity_model, score_maturity


def test_no_answers_scores_zero_and_points_to_first_steps():
    result = score_maturity({})
    assert result.overall == 0 and result.overall_level == "Initial"
    assert {d.id: d.service for d in result.dimensions}["governance"] == "assess"


def test_dimension_score_is_mean_over_top_of_scale():
    result = score_maturity({"strategy_vision": "4", "strategy_use_cases": "2", "strategy_budget": "0"})
    strategy = result.as_dict()["strategy"]
    assert strategy == pytest.approx(100 * 6 / 12)
    assert result.overall == pytest.approx(strategy / 5)
    assert result.dimensions[0].level == "Defined"


def test_full_marks_get_each_dimension_s_last_next_step():
    model = load_maturity_model()
    result = score_maturity({q.id: "4" for q in model.as_questionnaire().questions})
    assert result.overall == 100 and result.overall_level == "Scaling"
    assert [d.next_step for d in result.dimensions] == [dim.next_steps[-1].text for dim in model.dimensions]
    assert {d.service_label for d in result.dimensions} == {"Scale & Run", "Build & Test"}


def test_five_dimensions():
    assert [d.id for d in load_maturity_model().dimensions] == ["strategy", "data", "skills", "infrastructure", "governance"]


def test_radar_closes_the_polygon():
    fig = maturity_radar({"a": 10, "b": 20, "c": 30})
    assert list(fig.data[0].r) == [10, 20, 30, 10]


def test_model_rejects_next_steps_naming_unknown_services():
    from pydantic import ValidationError

    from aifnb_widgets.sandboxes.maturity.scoring import MaturityModel

    raw = load_maturity_model().model_dump(mode="json")
    raw["dimensions"][0]["next_steps"][0]["service"] = "consulting"
    with pytest.raises(ValidationError, match="consulting"):
        MaturityModel.model_validate(raw)


def test_every_recommended_notebook_exists_in_the_catalogue():
    """Issue 16: the assessment recommended "advanced courses" that did not exist; now every link is a catalogue entry."""
    from aifnb_hub.catalogue import load_catalogue
    from aifnb_widgets.sandboxes.maturity.scoring import notebook_links

    catalogue = load_catalogue()
    links = notebook_links(load_maturity_model(), catalogue)
    assert links and all(catalogue.file(path).is_file() for path in links)
    assert all(step.notebooks for d in load_maturity_model().dimensions for step in d.next_steps)
    text = " ".join(step.text for d in load_maturity_model().dimensions for step in d.next_steps)
    assert "advanced courses" not in text


def test_an_unknown_notebook_is_refused_by_name():
    """A typo or a removed notebook fails loudly instead of becoming a dead link."""
    from aifnb_widgets.sandboxes.maturity.scoring import MaturityModel

    raw = load_maturity_model().model_dump(mode="json")
    raw["dimensions"][2]["next_steps"][1]["notebooks"] = ["courses/08-advanced-fine-tuning.ipynb"]
    with pytest.raises(ValueError, match="08-advanced-fine-tuning"):
        score_maturity({}, model=MaturityModel.model_validate(raw))


def test_results_carry_titles_minutes_and_relative_links():
    """The skills step for a mid-level company links course 4 and course 7 with the catalogue's titles."""
    result = score_maturity({"skills_technical": "3", "skills_business": "2", "skills_training": "2"})
    skills = next(d for d in result.dimensions if d.id == "skills")
    assert [nb.path for nb in skills.notebooks] == [
        "courses/04-responsible-ai-social-bias.ipynb",
        "courses/07-mlops-on-the-ai-factory.ipynb",
    ]
    assert (
        skills.notebooks[1].title.startswith("Course 7")
        and skills.notebooks[0].href() == "../courses/04-responsible-ai-social-bias.ipynb"
    )
