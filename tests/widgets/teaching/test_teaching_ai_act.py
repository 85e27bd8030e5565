"""AI Act facts used by course 5: timeline consistency and the Art. 51(2) threshold."""

import datetime as dt

import pytest

from aifnb_widgets.teaching.ai_act import (
    SYSTEMIC_RISK_FLOP,
    TIMELINE,
    in_force_on,
    presumed_systemic_risk,
    training_flops,
)


def test_timeline_dates():
    dates = [m.date for m in TIMELINE]
    assert dates == sorted(dates)
    published, in_force = TIMELINE[0].date, TIMELINE[1].date
    assert in_force == published + dt.timedelta(days=20), "entry into force: twentieth day after publication"
    by_provision = {m.provision: m.date for m in TIMELINE}
    assert by_provision["Art. 113, point (a)"] == dt.date(2025, 2, 2)
    assert by_provision["Art. 113, point (b)"] == dt.date(2025, 8, 2)
    assert by_provision["Art. 113, second paragraph"] == dt.date(2026, 8, 2)
    assert by_provision["Art. 113, point (c)"] == dt.date(2027, 8, 2)


def test_timeline_has_the_art_111_transitional_deadlines():
    """Issue 16, item 6: systems already on the market (Art. 111(1)-(3)) were missing from the timeline."""
    by_provision = {m.provision: m.date for m in TIMELINE}
    assert by_provision["Art. 111(1)"] == dt.date(2030, 12, 31)
    assert by_provision["Art. 111(2)"] == dt.date(2030, 8, 2)
    assert by_provision["Art. 111(3)"] == dt.date(2027, 8, 2)
    assert "public authorities" in next(m.what for m in TIMELINE if m.provision == "Art. 111(2)")


def test_in_force_on():
    assert in_force_on(dt.date(2024, 1, 1)) == []
    assert len(in_force_on(dt.date(2025, 8, 2))) == 4
    assert len(in_force_on(dt.date(2031, 1, 1))) == len(TIMELINE)


def test_training_flops_and_threshold():
    assert training_flops(7e9, 2e12) == pytest.approx(8.4e22)
    assert not presumed_systemic_risk(training_flops(7e9, 2e12))
    assert presumed_systemic_risk(training_flops(4e11, 1.5e13))
    assert not presumed_systemic_risk(SYSTEMIC_RISK_FLOP), "the presumption needs *more than* 10^25"
    with pytest.raises(ValueError):
        training_flops(-1, 1)
