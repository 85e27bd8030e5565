"""The submit form and the jobs panel, headless: their state is what the user would see."""

from __future__ import annotations

import pytest

from aifnb_widgets.batch import api
from aifnb_widgets.batch.layout import read_record, write_record
from aifnb_widgets.ui import jobs_panel
from aifnb_widgets.ui.batch_submit import SubmitForm
from aifnb_widgets.ui.jobs_panel import JobsPanel, file_link
from tests.widgets.batch.test_scale_jobs import USER, bias_home, home  # noqa: F401  (fixtures)


def form(settings, notebook, **kwargs):
    return SubmitForm(notebook, user="root", groups=["learners"], settings=settings, **kwargs)


def field(f, name):
    return next(w for w in f.fields.children if w.description == name)


def test_form_builds_one_field_per_parameter_and_dry_runs(settings, double_notebook):
    f = form(settings, double_notebook)
    assert [w.description for w in f.fields.children] == ["X", "RATE", "NAME", "VERBOSE", "SIZES", "OUT"]
    assert field(f, "SIZES").value == "[1, 2]" and field(f, "NAME").value == "run"
    field(f, "X").value = "5"
    field(f, "SIZES").value = "[3]"
    f.cpus.value = "3"
    f.sweep.value = "RATE: [0.1, 0.2]"
    f.dry_run.value = True
    submission = f.submit()
    assert submission.job_id is None
    assert submission.parameter_sets == [{"X": 5, "SIZES": [3], "RATE": 0.1}, {"X": 5, "SIZES": [3], "RATE": 0.2}]
    assert "dry run: 2 run(s)" in f.message.value and "--array=0-1" in f.script.value and "--cpus-per-task=3" in f.script.value


@pytest.mark.parametrize(("name", "text", "shown"), [("X", "two", "X: expected int"), ("VERBOSE", "1", "VERBOSE: expected bool")])
def test_form_refuses_bad_values_naming_the_parameter(settings, double_notebook, name, text, shown):
    f = form(settings, double_notebook)
    field(f, name).value = text
    assert f.submit() is None
    assert shown in f.message.value and not f.submit_button.disabled


def test_form_sets_a_parameter_from_the_data_catalogue_and_shows_a_refusal(settings, double_notebook, monkeypatch):
    """The Data field maps a parameter to a catalogue entry: the hub's path goes into the run's parameters; a refused
    entry or a field that is not 'PARAMETER: entry' is shown in the form, naming it, and nothing is submitted."""
    from aifnb_data.access import AccessRefused

    def for_job(name):
        if name != "iris":
            raise AccessRefused(f"dataset {name!r} is shared with companies only; ask data@example")
        return "/srv/data/iris.csv"

    monkeypatch.setattr(api.data_catalogue, "for_job", for_job)
    f = form(settings, double_notebook)
    f.dry_run.value = True
    f.data.value = "OUT: iris"
    assert f.submit().parameter_sets == [{"OUT": "/srv/data/iris.csv"}]
    f.data.value = "OUT: breast-cancer-wisconsin"
    assert f.submit() is None and "shared with companies only" in f.message.value
    f.data.value = "- iris"
    assert f.submit() is None and "PARAMETER: entry-name" in f.message.value


def test_form_refuses_resources_outside_the_profile(settings, double_notebook):
    f = form(settings, double_notebook)
    f.walltime.value = "12:00:00"
    assert f.submit() is None and "walltime" in f.message.value
    assert [slug for _, slug in f.profile.options] == ["cpu-course"]


def test_panel_renders_states_links_errors_and_buttons(home, monkeypatch):  # noqa: F811
    tmp_path, _ = home
    monkeypatch.setattr(jobs_panel, "home_of", lambda user: str(tmp_path))
    monkeypatch.setattr(jobs_panel, "list_jobs", api.list_jobs)
    panel = JobsPanel(user=USER)
    panel.refresh()
    assert {r["job"] for r in panel.rows} == {"20_0", "20_1", "20_2", "21", "22"}
    assert "updated" in panel.busy.value and "PENDING" in panel.table.value and "Priority" in panel.table.value
    panel.selected.value = "20_0"
    assert not panel.cancel_button.disabled
    panel.selected.value = "21"
    assert panel.cancel_button.disabled and not panel.resubmit_button.disabled


def test_refresh_failure_is_shown_not_raised(monkeypatch, home):  # noqa: F811
    tmp_path, _ = home
    monkeypatch.setattr(jobs_panel, "home_of", lambda user: str(tmp_path))

    def broken(user):
        raise RuntimeError("slurmctld unreachable")

    monkeypatch.setattr(jobs_panel, "list_jobs", broken)
    panel = JobsPanel(user=USER)
    panel.refresh_in_background().join(10)
    assert "slurmctld unreachable" in panel.busy.value


def test_links_are_relative_to_the_server_root(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    assert (
        file_link(tmp_path / "runs" / "a.ipynb", tmp_path, "executed")
        == '<a href="/user/ana/lab/tree/runs/a.ipynb" target="_blank">executed</a>'
    )
    assert file_link(None, tmp_path, "log") == ""


def test_form_refuses_a_yaml_alias_bomb_in_the_sweep_field(settings, double_notebook):
    """The sweep field is parsed like a sweep file: anchors and aliases are refused, nothing expands."""
    f = form(settings, double_notebook)
    f.sweep.value = 'a: &a ["x","x"]\nb: &b [*a,*a,*a,*a]\nRATE: [*b,*b,*b,*b]'
    f.dry_run.value = True
    assert f.submit() is None
    assert "sweep: YAML anchors and aliases" in f.message.value, f.message.value


def test_panel_shows_bias_tasks_with_their_kind_log_and_no_resubmit(bias_home, monkeypatch, tmp_path):  # noqa: F811
    """A bias task's row says kind bias and names its array; its log is the array's; Cancel works, Resubmit is off."""
    folders, cancelled = bias_home
    runs_home = folders[0].parents[2]
    log = tmp_path / "llms" / "logs" / "30_0.out"
    log.parent.mkdir(parents=True)
    log.write_text("aifnb: bias array task 30_0\n")
    for folder in folders[:2]:  # the tasks' job folder is this test's
        record = read_record(folder)
        write_record(folder, record.model_copy(update={"job_dir": str(tmp_path / "llms")}))
    monkeypatch.setattr(jobs_panel, "home_of", lambda user: str(runs_home))
    monkeypatch.setattr(jobs_panel, "list_jobs", api.list_jobs)
    panel = JobsPanel(user=USER)
    panel.refresh()
    row = panel.row("30_0")
    assert (row["kind"], row["notebook"], row["state"], row["log"]) == ("bias", "llms", "RUNNING", log)
    assert "<td>bias</td><td>llms</td>" in panel.table.value and "<th>kind</th>" in panel.table.value
    panel.selected.value = "30_0"
    assert not panel.cancel_button.disabled and panel.resubmit_button.disabled
    panel.selected.value = "31"
    assert not panel.resubmit_button.disabled
    panel.cancel("30_0")
    assert cancelled == ["30_0"] and "cancelled 30_0" in panel.message.value
