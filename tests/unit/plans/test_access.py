from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.access import Action, Relation, Viewer, decide, relation
from services.plans.domain.consent import ConsentRecord

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
CITIZEN_ID = str(uuid4())
NETWORK = {"orion-koordinator-1", "orion-sygeplejekonsulent-1"}

CITIZEN = Viewer(CITIZEN_ID, "citizen")
OTHER_CITIZEN = Viewer(str(uuid4()), "citizen")
MEMBER = Viewer("orion-koordinator-1", "coordinator", botilbud="orion")
COLLEAGUE = Viewer("orion-koordinator-2", "coordinator", botilbud="orion")
ELSEWHERE = Viewer("cirklen-koordinator-1", "coordinator", botilbud="cirklen")
PARTNER = Viewer("p", "partner", org="SOR:1234567")
ADMIN = Viewer("admin-1", "admin")
VISITATION = Viewer("visitation-1", "visitation")


def check(viewer, action, consents=(), empty=False):
    return decide(viewer, action, citizen_id=CITIZEN_ID, network=NETWORK, botilbud_id="orion", consents=consents,
                  at=NOW, network_is_empty=empty)


def test_relations():
    rel = lambda v: relation(v, citizen_id=CITIZEN_ID, network=NETWORK, botilbud_id="orion")  # noqa: E731
    assert [rel(v) for v in (CITIZEN, OTHER_CITIZEN, MEMBER, COLLEAGUE, ELSEWHERE, PARTNER, ADMIN, VISITATION)] == [
        Relation.CITIZEN, Relation.OTHER, Relation.NETWORK, Relation.BOTILBUD_STAFF, Relation.OTHER,
        Relation.PARTNER, Relation.OTHER, Relation.OTHER]


@pytest.mark.parametrize("viewer", [CITIZEN, MEMBER])
def test_the_citizen_and_the_network_read_the_plan(viewer):
    assert check(viewer, Action.READ_PLAN)


@pytest.mark.parametrize("viewer", [OTHER_CITIZEN, COLLEAGUE, ELSEWHERE, PARTNER, ADMIN, VISITATION])
def test_nobody_else_reads_the_plan_without_consent(viewer):
    decision = check(viewer, Action.READ_PLAN)
    assert not decision and decision.reason


def test_only_the_citizen_comments_as_the_citizen_and_only_the_network_records_fit():
    assert check(CITIZEN, Action.COMMENT_PLAN) and not check(MEMBER, Action.COMMENT_PLAN)
    assert check(MEMBER, Action.RECORD_FIT) and not check(CITIZEN, Action.RECORD_FIT)


def test_staff_outside_the_network_cannot_change_the_plan():
    decision = check(COLLEAGUE, Action.WRITE_PLAN)
    assert not decision and "netværk" in decision.reason and "network" in decision.en


def test_all_staff_at_the_botilbud_read_the_tryghedsplan_and_rate_but_not_other_homes():
    assert check(COLLEAGUE, Action.READ_SAFETY) and check(COLLEAGUE, Action.RATE_SAFETY)
    assert not check(ELSEWHERE, Action.READ_SAFETY)
    assert not check(COLLEAGUE, Action.WRITE_TRYGHEDSPLAN)


def test_botilbud_staff_prepare_the_move_in_only_while_the_network_is_empty():
    for action in (Action.CHANGE_NETWORK, Action.READ_PLAN):
        assert check(COLLEAGUE, action, empty=True)
        assert not check(COLLEAGUE, action, empty=False)
        assert not check(ELSEWHERE, action, empty=True)
    assert not check(COLLEAGUE, Action.WRITE_PLAN, empty=True)


def test_a_partner_reads_exactly_the_consented_category_until_revoked():
    consent = ConsentRecord(consent_id=uuid4(), recipient_kind="organisation", recipient_id="SOR:1234567",
                            category="safety-plan", given_at=NOW - timedelta(days=1), given_by="s")
    assert check(PARTNER, Action.READ_SAFETY, [consent])
    assert not check(PARTNER, Action.READ_PLAN, [consent])
    assert not check(PARTNER, Action.READ_FIT, [consent])
    revoked = ConsentRecord(**{**consent.__dict__, "revoked_at": NOW - timedelta(minutes=1), "revoked_by": "c"})
    assert not check(PARTNER, Action.READ_SAFETY, [revoked])
    other_org = Viewer("q", "partner", org="SOR:7654321")
    assert not check(other_org, Action.READ_SAFETY, [consent])


def test_a_partner_never_writes_even_with_consent():
    consent = ConsentRecord(consent_id=uuid4(), recipient_kind="organisation", recipient_id="SOR:1234567",
                            category="plan", given_at=NOW - timedelta(days=1), given_by="s")
    assert not check(PARTNER, Action.WRITE_PLAN, [consent])
    assert not check(PARTNER, Action.CHANGE_CONSENT, [consent])
