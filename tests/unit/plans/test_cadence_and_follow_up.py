from datetime import date
from uuid import uuid4

import pytest

from services.plans.domain.cadence import (
    EIGHT_WEEKS,
    FOURTEEN_DAYS,
    SEL_103_HALF_YEARLY,
    SEL_104_YEARLY,
    TWO_TO_THREE_MONTHS,
    Cadence,
    add_months,
    preset,
)
from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.followup import (
    SubjectKind,
    change_cadence,
    mark_announced,
    record_follow_up,
    schedule,
    to_announce,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),  # over the year end
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
    ],
)
def test_months_clamp_to_the_end_of_a_short_month(start, months, expected):
    assert add_months(start, months) == expected


def test_named_cadences_come_due_on_the_expected_day():
    start = date(2026, 11, 22)
    assert FOURTEEN_DAYS.due_on(start) == date(2026, 12, 6)
    assert EIGHT_WEEKS.due_on(start) == date(2027, 1, 17)
    assert SEL_103_HALF_YEARLY.due_on(start) == date(2027, 5, 22)
    assert SEL_104_YEARLY.due_on(start) == date(2027, 11, 22)


def test_a_two_to_three_month_window_is_due_after_two_and_late_after_three():
    start = date(2026, 11, 30)
    assert TWO_TO_THREE_MONTHS.due_on(start) == date(2027, 1, 30)
    assert TWO_TO_THREE_MONTHS.late_after(start) == date(2027, 2, 28)


@pytest.mark.parametrize(
    "kwargs",
    [dict(days=0), dict(months=0), dict(days=-14), dict(days=400), dict(months=13), dict(days=14, months=1),
     dict(months=3, latest_months=2), dict(days=14, latest_months=3), dict(months=3, latest_months=3)],
)
def test_impossible_cadences_are_refused(kwargs):
    with pytest.raises(PlanRuleViolation):
        Cadence(**kwargs)


def test_a_cadence_of_zero_weeks_is_refused_with_a_reason():
    with pytest.raises(PlanRuleViolation, match="nul"):
        Cadence.from_parts(weeks=0)


def test_from_parts_needs_exactly_one_unit():
    with pytest.raises(PlanRuleViolation):
        Cadence.from_parts(days=14, weeks=2)
    with pytest.raises(PlanRuleViolation):
        Cadence.from_parts()
    assert Cadence.from_parts(weeks=8).days == 56
    assert Cadence.from_parts(weeks=8).label == "8 weeks"


def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(PlanRuleViolation, match="14-days"):
        preset("fortnightly")
    assert preset("sel-104") is SEL_104_YEARLY


def _goal_schedule(anchor=date(2026, 11, 22), cadence=FOURTEEN_DAYS):
    return schedule(plan_id=uuid4(), subject=SubjectKind.GOAL, subject_id=uuid4(), cadence=cadence, anchor=anchor)


def test_a_follow_up_is_announced_once_per_due_date():
    s = _goal_schedule()
    assert to_announce([s], date(2026, 12, 5)) == []
    assert to_announce([s], date(2026, 12, 6)) == [s]
    announced = mark_announced(s)
    # The scheduler runs again later the same day and the next day: no second announcement.
    assert to_announce([announced], date(2026, 12, 6)) == []
    assert to_announce([announced], date(2026, 12, 20)) == []


def test_an_overdue_follow_up_that_was_never_announced_is_announced_late():
    s = _goal_schedule()
    assert to_announce([s], date(2027, 3, 1)) == [s]
    assert s.is_late(date(2026, 12, 7))


def test_recording_a_follow_up_moves_the_next_date_and_reopens_announcements():
    s = mark_announced(_goal_schedule())
    record, after = record_follow_up(s, follow_up_id=uuid4(), held_on=date(2026, 12, 8), outcome="Godt i gang",
                                     recorded_by="staff-1", written_with_citizen=True, today=date(2026, 12, 8))
    assert record.next_due_on == date(2026, 12, 22)  # counted from the day it was held, not the due day
    assert after.anchor == date(2026, 12, 8) and after.announced_for is None
    assert to_announce([after], date(2026, 12, 22)) == [after]


def test_a_follow_up_may_agree_another_next_date_but_not_one_in_the_past():
    s = _goal_schedule()
    _, after = record_follow_up(s, follow_up_id=uuid4(), held_on=date(2026, 12, 6), outcome="ok",
                                recorded_by="staff-1", written_with_citizen=False, today=date(2026, 12, 6),
                                next_due_on=date(2027, 1, 10))
    assert after.due_on == date(2027, 1, 10)
    with pytest.raises(PlanRuleViolation, match="efter denne"):
        record_follow_up(s, follow_up_id=uuid4(), held_on=date(2026, 12, 6), outcome="ok", recorded_by="x",
                         written_with_citizen=True, today=date(2026, 12, 6), next_due_on=date(2026, 12, 6))


@pytest.mark.parametrize(
    ("held_on", "outcome", "match"),
    [
        (date(2026, 12, 9), "ok", "før den er holdt"),  # in the future
        (date(2026, 11, 1), "ok", "ældre end den senest"),  # before the anchor
        (date(2026, 12, 6), "   ", "resultat"),
    ],
)
def test_follow_up_records_are_checked(held_on, outcome, match):
    with pytest.raises(PlanRuleViolation, match=match):
        record_follow_up(_goal_schedule(), follow_up_id=uuid4(), held_on=held_on, outcome=outcome,
                         recorded_by="x", written_with_citizen=True, today=date(2026, 12, 8))


def test_the_written_with_citizen_flag_must_be_answered():
    with pytest.raises(PlanRuleViolation, match="sammen med borgeren"):
        record_follow_up(_goal_schedule(), follow_up_id=uuid4(), held_on=date(2026, 12, 6), outcome="ok",
                         recorded_by="x", written_with_citizen=None, today=date(2026, 12, 8))


def test_changing_the_cadence_counts_from_the_same_anchor():
    s = mark_announced(_goal_schedule())
    changed = change_cadence(s, EIGHT_WEEKS)
    assert changed.due_on == date(2027, 1, 17)
    assert to_announce([changed], date(2027, 1, 17)) == [changed]


def test_announcements_are_ordered_by_due_date():
    early = _goal_schedule(anchor=date(2026, 10, 1))
    late = _goal_schedule(anchor=date(2026, 11, 1))
    assert to_announce([late, early], date(2026, 12, 31)) == [early, late]


def test_labels_say_the_rhythm_and_do_not_make_cadences_differ():
    assert Cadence(days=14).label == "14 days" and Cadence(days=56).label == "8 weeks"
    assert Cadence(months=12) == SEL_104_YEARLY and SEL_104_YEARLY.label.startswith("SEL § 104")
    assert Cadence(months=2, latest_months=3).label == "2–3 months"
