import csv
import io
from datetime import date, datetime, timezone

import pytest

from referrals_builders import at, new_case, placed_case, screened_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.model import Channel, Destination, EndCause, LegalBasis, Referrer
from services.referrals.domain.report import CaseFlowFacts, facts_of, flow_report, report_csv


def f(received, **kw):
    return CaseFlowFacts(received_at=datetime.fromisoformat(received).replace(tzinfo=timezone.utc),
                         channel=kw.pop("channel", Channel.PARTNER), **kw)


def test_counts_and_waiting_times_within_the_period():
    facts = [
        f("2026-01-01", decision="granted", decided_at=datetime(2026, 1, 10, tzinfo=timezone.utc), moved_in_on=date(2026, 1, 11)),
        f("2026-01-02", channel=Channel.STAFF, decision="refused", decided_at=datetime(2026, 1, 5, tzinfo=timezone.utc)),
        f("2025-12-01", decision="granted", decided_at=datetime(2025, 12, 20, tzinfo=timezone.utc), moved_in_on=date(2026, 1, 30)),
        f("2025-06-01", moved_in_on=date(2025, 7, 1), ended_on=date(2026, 1, 31), end_cause=EndCause.STEPPED_DOWN,
          destination=Destination.OFFER),
        f("2025-06-01", moved_in_on=date(2025, 7, 1), ended_on=date(2026, 1, 15), end_cause=EndCause.MOVED_OUT,
          destination=Destination.OWN_HOME),
        f("2026-02-01", moved_in_on=date(2026, 2, 2)),  # outside the period
    ]
    r = flow_report(facts, date(2026, 1, 1), date(2026, 1, 31))
    assert (r.referrals_received, r.referrals_from_partners, r.referrals_from_staff) == (2, 1, 1)
    assert (r.decisions_granted, r.decisions_refused) == (1, 1)
    assert r.placements_started == 2
    # waits: 10 days (Jan 1 → Jan 11) and 60 days (Dec 1 → Jan 30)
    assert r.waiting_days_median == 35 and r.waiting_days_p90 == pytest.approx(55)
    assert (r.move_outs, r.move_outs_to_own_home, r.move_outs_to_other_offer, r.move_outs_elsewhere) == (2, 1, 1, 0)
    assert r.step_downs == 1 and r.ended_by_cause["moved_out"] == 1


def test_period_bounds_are_inclusive_and_empty_periods_have_no_waiting_times():
    facts = [f("2026-01-31", moved_in_on=date(2026, 1, 31))]
    assert flow_report(facts, date(2026, 1, 31), date(2026, 1, 31)).placements_started == 1
    empty = flow_report(facts, date(2027, 1, 1), date(2027, 12, 31))
    assert empty.referrals_received == 0 and empty.waiting_days_median is None and empty.waiting_days_p90 is None
    with pytest.raises(ValueError):
        flow_report(facts, date(2026, 2, 1), date(2026, 1, 1))


def test_facts_of_real_cases():
    placed, _ = placed_case()
    lc.end_placement(placed, ended_on=date(2026, 6, 1), destination=Destination.OWN_HOME, to_step=3, by="v", at=at(1, 6))
    refused = screened_case()
    lc.refuse(refused, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    staff = new_case(referrer=Referrer(channel=Channel.STAFF, sub="v1"))
    r = flow_report([facts_of(c) for c in (placed, refused, staff)], date(2026, 1, 1), date(2026, 12, 31))
    assert (r.referrals_received, r.referrals_from_staff) == (3, 1)
    assert (r.decisions_granted, r.decisions_refused, r.placements_started, r.step_downs) == (1, 1, 1, 1)
    assert r.waiting_days_median == 27  # Jan 5 → Feb 1


def test_reopened_refusal_does_not_count_as_refused():
    case = screened_case()
    lc.refuse(case, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    lc.reopen_for_reassessment(case, reason="klage", by="v", at=at(12))
    assert facts_of(case).decision is None


def test_csv_has_one_row_per_metric():
    r = flow_report([f("2026-01-01")], date(2026, 1, 1), date(2026, 1, 31))
    rows = list(csv.reader(io.StringIO(report_csv(r))))
    assert rows[0] == ["metric", "value"]
    d = dict(rows[1:])
    assert d["period_from"] == "2026-01-01" and d["referrals_received"] == "1"
    assert d["waiting_days_median"] == ""  # no data, not "None"
    assert d["ended_by_cause.stepped_down"] == "0"
