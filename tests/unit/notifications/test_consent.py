from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from services.notifications.domain.consent import (
    ConsentRecord,
    category_of,
    decide,
    deliverable,
    record_given,
    record_revoked,
)

from .builders import CITIZEN, NOW

ORG = "SOR:1234567"
FOLLOW_UP = "tovholder.plans.follow-up-due.v1"
NOTICE = "tovholder.health.hospital-notice-registered.v1"
OTHER_CITIZEN = UUID(int=99)


def consent(category="plan", org=ORG, citizen=CITIZEN, given=NOW - timedelta(days=1), revoked=None, kind="organisation"):
    return ConsentRecord("c1", citizen, kind, org, category, given, revoked)


def ask(event_type=FOLLOW_UP, consents=(), at=NOW, data=None, org=ORG):
    return decide(event_type=event_type, event_data=data or {}, citizen_id=CITIZEN, partner_org=org, consents=consents, at=at)


def test_categories_follow_plans_consent_categories():
    assert category_of(FOLLOW_UP) == "plan"
    assert category_of("tovholder.plans.safety-rating-changed.v1") == "safety-plan"
    assert category_of("tovholder.plans.fit-recorded.v1") == "fit"
    assert category_of(NOTICE) == "health"
    assert category_of("tovholder.plans.consent-given.v1") is None
    assert category_of("tovholder.referrals.visitation-decided.v1") is None
    assert category_of("nonsense") is None
    assert deliverable([FOLLOW_UP, "tovholder.notifications.task-created.v1"]) == {FOLLOW_UP}


def test_consent_covering_org_and_category_allows():
    decision = ask(consents=[consent()])
    assert decision.allowed and decision.basis == "consent c1"


def test_nothing_without_consent_and_the_reason_says_so():
    decision = ask()
    assert not decision.allowed and ORG in decision.reason and "no consent" in decision.reason


def test_consent_for_another_org_category_citizen_or_a_group_does_not_count():
    for other in (consent(org="SOR:999"), consent(category="fit"), consent(citizen=OTHER_CITIZEN), consent(kind="group")):
        assert not ask(consents=[other]).allowed


def test_revocation_applies_to_everything_at_or_after_it():
    revoked = consent(revoked=NOW)
    assert ask(consents=[revoked], at=NOW - timedelta(seconds=1)).allowed
    decision = ask(consents=[revoked], at=NOW)
    assert not decision.allowed and "revoked" in decision.reason


def test_consent_given_later_does_not_cover_earlier_moment():
    future = consent(given=NOW + timedelta(hours=1))
    assert "in force" in ask(consents=[future]).reason


def test_hospital_notice_with_recorded_legal_basis_needs_no_consent():
    decision = ask(NOTICE, data={"legal_basis": "retssikkerhedsloven § 12 c"})
    assert decision.allowed and decision.basis == "retssikkerhedsloven § 12 c"
    assert not ask(NOTICE).allowed  # no basis recorded → consent needed
    assert not ask(FOLLOW_UP, data={"legal_basis": "retssikkerhedsloven § 12 c"}).allowed  # basis does not cover plans


def test_never_delivered_types():
    assert not ask("tovholder.plans.consent-given.v1", consents=[consent()]).allowed


def test_read_model_updates_are_order_safe():
    given = record_given(None, consent_id="c1", citizen_id=CITIZEN, recipient_kind="organisation", recipient_id=ORG,
                         category="plan", given_at=NOW)
    revoked = record_revoked(given, consent_id="c1", citizen_id=CITIZEN, recipient_kind="organisation", recipient_id=ORG,
                             category="plan", given_at=NOW, revoked_at=NOW + timedelta(days=1))
    assert revoked.revoked_at == NOW + timedelta(days=1)
    later = record_revoked(revoked, consent_id="c1", citizen_id=CITIZEN, recipient_kind="organisation", recipient_id=ORG,
                           category="plan", given_at=NOW, revoked_at=NOW + timedelta(days=5))
    assert later.revoked_at == NOW + timedelta(days=1)  # a late revocation cannot extend the consent
    replayed = record_given(later, consent_id="c1", citizen_id=CITIZEN, recipient_kind="organisation", recipient_id=ORG,
                            category="plan", given_at=NOW)
    assert replayed.revoked_at == NOW + timedelta(days=1)
    revoked_first = record_revoked(None, consent_id="c2", citizen_id=CITIZEN, recipient_kind="organisation",
                                   recipient_id=ORG, category="plan", given_at=NOW, revoked_at=NOW)
    assert not revoked_first.in_force(NOW)
