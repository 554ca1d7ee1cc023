"""Issue 15, drift and statutory clocks. The reproduction: a § 107 (temporary) stay with follow-ups
every 180 days up to 2030 gave no warning anywhere ("watch for drift from § 107 to § 85")."""

from datetime import date, datetime, timedelta, timezone

import pytest

from referrals_builders import at, make_offer, new_case, placed_case, screened_case
from services.referrals.domain import clocks
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.clocks import DriftReason, VisitationRules
from services.referrals.domain.model import Destination, LegalBasis
from services.referrals.domain.report import StayFacts, flow_report

TEMP = make_offer(offer_id="cirklen-107", name="Cirklen", botilbud_id="cirklen", legal_basis=LegalBasis.SEL_107,
                  step=6, approved_places=8, occupied=1)
RULES = VisitationRules()


def temporary_stay():
    case, _ = placed_case(TEMP, moved_in_on=date(2026, 2, 1))
    return case


def follow_up(case, held: date):
    lc.record_follow_up(case, held_on=held, next_follow_up_date=held + timedelta(days=180), by="v",
                        at=datetime(held.year, held.month, held.day, 12, tzinfo=timezone.utc))


def test_follow_ups_every_180_days_to_2030_drift_after_three_and_past_two_years():
    case = temporary_stay()
    held = date(2026, 2, 1)
    seen = {}
    while held < date(2030, 1, 1):
        held += timedelta(days=180)
        follow_up(case, held)
        for d in clocks.drift_of(case, held, RULES):
            seen.setdefault(d.reason, (held, d))
    assert set(seen) == {DriftReason.NO_MOVEMENT, DriftReason.PAST_PLANNED_PERIOD}
    first_held, no_movement = seen[DriftReason.NO_MOVEMENT]
    third = date(2026, 2, 1) + timedelta(days=3 * 180)
    assert first_held == third and no_movement.since == third  # the third follow-up (26 July 2027)
    assert "3 opfølgninger" in no_movement.message and "uden en plan for udflytning" in no_movement.message
    _, past = seen[DriftReason.PAST_PLANNED_PERIOD]
    assert past.since == date(2028, 2, 1) and "den planlagte periode på 2 år sluttede 2028-02-01" in past.message


def test_a_move_out_plan_is_movement_and_only_temporary_stays_drift():
    case = temporary_stay()
    for held in (date(2026, 5, 1), date(2026, 8, 1), date(2026, 11, 1)):
        follow_up(case, held)
    assert [d.reason for d in clocks.drift_of(case, date(2026, 11, 1), RULES)] == [DriftReason.NO_MOVEMENT]
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2027, 3, 1), by="v",
                     at=at(2, 11))
    assert clocks.drift_of(case, date(2026, 11, 2), RULES) == []
    long_term, _ = placed_case(moved_in_on=date(2020, 2, 1), received_at=datetime(2020, 1, 5, tzinfo=timezone.utc),
                               start=date(2020, 2, 1))
    assert clocks.drift_of(long_term, date(2026, 11, 1), RULES) == []


def test_the_period_and_the_follow_ups_are_settings_and_each_reason_is_signalled_once():
    case = temporary_stay()
    follow_up(case, date(2026, 5, 1))
    one = VisitationRules(temporary_stay_years=1, follow_ups_without_movement=1)
    assert [d.reason for d in clocks.drift_to_signal(case, date(2026, 5, 1), one)] == [DriftReason.NO_MOVEMENT]
    clocks.mark_drift_signalled(case, clocks.drift_to_signal(case, date(2026, 5, 1), one))
    assert clocks.drift_to_signal(case, date(2026, 5, 1), one) == []
    assert [d.reason for d in clocks.drift_to_signal(case, date(2027, 2, 1), one)] == [DriftReason.PAST_PLANNED_PERIOD]
    with pytest.raises(ValueError):
        VisitationRules(follow_ups_without_movement=0)


def test_planned_end_of_a_stay_from_29_february():
    assert clocks.planned_end(date(2028, 2, 29), 2) == date(2030, 2, 28)


def test_the_flow_report_has_a_line_for_drifting_temporary_stays():
    stays = [
        StayFacts(moved_in_on=date(2023, 1, 1), ended_on=None),  # past its 2 years on 31 Dec 2026
        StayFacts(moved_in_on=date(2026, 1, 1), ended_on=None,
                  follow_ups_held=(date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 1))),  # no movement
        StayFacts(moved_in_on=date(2026, 1, 1), ended_on=None, follow_ups_held=(date(2026, 3, 1),) * 3,
                  move_out_planned=True),
        StayFacts(moved_in_on=date(2020, 1, 1), ended_on=date(2026, 6, 1)),  # ended before the period's end
    ]
    r = flow_report([], date(2026, 1, 1), date(2026, 12, 31), stays=stays)
    assert r.temporary_stays_drifting == 2
    assert flow_report([], date(2026, 1, 1), date(2026, 12, 31), stays=stays,
                       rules=VisitationRules(temporary_stay_years=5, follow_ups_without_movement=4)).temporary_stays_drifting == 0


# Statutory clocks, in working days with Danish holidays


def test_the_decision_deadline_counts_working_days_past_easter():
    # Received Wednesday 1 April 2026; Easter: Maundy Thursday 2, Good Friday 3, Easter Monday 6 April.
    case = new_case(received_at=datetime(2026, 4, 1, 10, tzinfo=timezone.utc))
    [d] = clocks.deadlines_of(case, date(2026, 4, 1), VisitationRules(decision_working_days=3))
    assert d.kind == "decision" and d.due_on == date(2026, 4, 9)  # 7, 8, 9 April
    assert (d.working_days_left, d.time_left, d.overdue) == (3, "3 arbejdsdage tilbage", False)
    [late] = clocks.deadlines_of(case, date(2026, 4, 13), VisitationRules(decision_working_days=3))
    assert (late.working_days_left, late.time_left, late.overdue) == (-2, "overskredet med 2 arbejdsdage", True)
    [today] = clocks.deadlines_of(case, date(2026, 4, 9), VisitationRules(decision_working_days=3))
    assert today.time_left == "i dag" and today.working_days_left == 0


def test_the_complaint_deadline_moves_off_a_closed_day():
    assert clocks.complaint_deadline(date(2026, 11, 26)) == date(2026, 12, 24) + timedelta(days=4)  # juleaften → 28 Dec
    assert clocks.complaint_deadline(date(2026, 3, 2)) == date(2026, 3, 30)
    case = screened_case()
    lc.refuse(case, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    [d] = clocks.deadlines_of(case, date(2026, 1, 10), RULES)
    assert d.kind == "complaint" and d.due_on == date(2026, 2, 9) and "4 uger" in d.title


def test_a_temporary_stay_shows_its_follow_up_and_the_end_of_its_planned_period():
    case = temporary_stay()
    kinds = [(d.kind, d.due_on) for d in clocks.deadlines_of(case, date(2026, 3, 1), RULES)]
    assert kinds == [("follow-up", case.placement.follow_up_date), ("temporary-stay-end", date(2028, 2, 1))]


def test_a_deadline_on_a_saturday_is_overdue_on_sunday_with_no_working_day_between():
    d = clocks._deadline("follow-up", "Næste opfølgning senest", date(2026, 11, 28), date(2026, 11, 29))
    assert (d.overdue, d.working_days_left, d.time_left) == (True, 0, "overskredet")
