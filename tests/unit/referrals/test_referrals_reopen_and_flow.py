"""Issue 15, one reopen path and a flow report that counts citizens and decisions apart, split by
offer and month. The reproduction: ``POST …/screening`` on a refused case reopened it without the
reason ``/reopen`` demands, and the report then counted three refusals for one citizen."""

import copy
from datetime import date, datetime, timezone
from uuid import uuid4

import pytest

from referrals_builders import at, screened_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import CaseStatus, Channel, EndCause, LegalBasis
from services.referrals.domain.report import CaseFlowFacts, flow_report, report_csv


def test_screening_does_not_reopen_a_refused_case():
    case = screened_case()
    lc.refuse(case, reason="Behovet kan dækkes med bostøtte.", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    before = copy.deepcopy(case)
    with pytest.raises(StateConflict, match=r"Genvurdér den med en begrundelse \(POST …/reopen\)"):
        lc.start_screening(case, by="v", at=at(11))
    assert case == before


def test_the_one_reopen_path_needs_a_reason():
    case = screened_case()
    lc.refuse(case, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    with pytest.raises(InvalidInput, match="egrundelse"):
        lc.reopen_for_reassessment(case, reason="  ", by="v", at=at(11))
    entry = lc.reopen_for_reassessment(case, reason="Klage med ny lægeerklæring.", by="v", at=at(11))
    assert case.status is CaseStatus.SCREENING and entry.reason == "Klage med ny lægeerklæring."


def utc(y, m, d):
    return datetime(y, m, d, 10, tzinfo=timezone.utc)


def test_decisions_and_citizens_are_counted_apart():
    anne, bo = uuid4(), uuid4()
    facts = [
        CaseFlowFacts(received_at=utc(2026, 1, 5), channel=Channel.PARTNER, citizen_id=anne),
        # three refusals for Anne (refused, reassessed, refused …), one grant for Bo
        *[CaseFlowFacts(received_at=utc(1900, 1, 1), channel=Channel.PARTNER, citizen_id=anne, decision="refused",
                        decided_at=utc(2026, m, 10)) for m in (1, 2, 3)],
        CaseFlowFacts(received_at=utc(2026, 2, 1), channel=Channel.STAFF, citizen_id=bo),
        CaseFlowFacts(received_at=utc(1900, 1, 1), channel=Channel.STAFF, citizen_id=bo, decision="granted",
                      decided_at=utc(2026, 2, 20), offer_id="tangkaer"),
    ]
    r = flow_report(facts, date(2026, 1, 1), date(2026, 3, 31))
    assert (r.decisions_refused, r.citizens_refused) == (3, 1)
    assert (r.decisions_granted, r.citizens_granted, r.citizens_decided) == (1, 1, 2)
    assert (r.referrals_received, r.citizens_referred) == (2, 2)


def test_the_report_is_split_by_offer_and_month():
    c = uuid4()
    facts = [
        CaseFlowFacts(received_at=utc(2026, 1, 5), channel=Channel.PARTNER, citizen_id=c, offer_id="tangkaer",
                      moved_in_on=date(2026, 2, 3)),
        CaseFlowFacts(received_at=utc(1900, 1, 1), channel=Channel.PARTNER, citizen_id=c, decision="granted",
                      decided_at=utc(2026, 1, 20), offer_id="tangkaer"),
        CaseFlowFacts(received_at=utc(2025, 5, 1), channel=Channel.STAFF, citizen_id=uuid4(), offer_id="cirklen",
                      moved_in_on=date(2025, 6, 1), ended_on=date(2026, 3, 31), end_cause=EndCause.STEPPED_DOWN),
    ]
    r = flow_report(facts, date(2026, 1, 1), date(2026, 3, 31))
    assert r.by_offer == {
        "cirklen": {"decisions_granted": 0, "placements_started": 0, "move_outs": 1, "step_downs": 1},
        "tangkaer": {"decisions_granted": 1, "placements_started": 1, "move_outs": 0, "step_downs": 0},
    }
    assert list(r.by_month) == ["2026-01", "2026-02", "2026-03"]
    assert r.by_month["2026-01"] == {"referrals_received": 1, "decisions_granted": 1, "decisions_refused": 0,
                                     "placements_started": 0, "move_outs": 0}
    assert r.by_month["2026-02"]["placements_started"] == 1 and r.by_month["2026-03"]["move_outs"] == 1
    rows = dict(line.split(",") for line in report_csv(r).splitlines()[1:])
    assert rows["by_offer.tangkaer.placements_started"] == "1" and rows["by_month.2026-03.move_outs"] == "1"


def test_months_run_across_the_new_year():
    r = flow_report([], date(2025, 11, 15), date(2026, 2, 1))
    assert list(r.by_month) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_the_flow_report_counts_by_the_day_in_copenhagen_not_in_utc():
    """23:30 UTC on 31 January is 00:30 on 1 February in Copenhagen: the referral and the decision
    belong to February (and to a period starting 1 February), the wait is counted from 1 February."""
    late = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)
    citizen = uuid4()
    facts = [
        CaseFlowFacts(received_at=late, channel=Channel.STAFF, citizen_id=citizen, offer_id="tangkaer",
                      moved_in_on=date(2026, 2, 1)),
        CaseFlowFacts(received_at=utc(1900, 1, 1), channel=Channel.STAFF, citizen_id=citizen, decision="granted",
                      decided_at=late, offer_id="tangkaer"),
    ]
    r = flow_report(facts, date(2026, 2, 1), date(2026, 2, 28))
    assert (r.referrals_received, r.decisions_granted) == (1, 1)
    assert r.by_month["2026-02"]["referrals_received"] == 1 and r.by_month["2026-02"]["decisions_granted"] == 1
    assert flow_report(facts, date(2026, 1, 1), date(2026, 1, 31)).referrals_received == 0
