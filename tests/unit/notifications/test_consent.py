from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.domain.consent import (
    category_of,
    decide,
    deliverable,
    legal_basis_without_consent,
)
from tovholder import consent as kit

from .builders import NOW

ORG = "SOR:1234567"
FOLLOW_UP = "tovholder.plans.follow-up-due.v1"
NOTICE = "tovholder.health.hospital-notice-registered.v1"


def consent(category="plan", org=ORG, given=NOW - timedelta(days=1), revoked=None, kind="organisation"):
    return kit.Consent("c1", kit.Recipient(kind, org), category, given, revoked)


def ask(event_type=FOLLOW_UP, consents=(), at=NOW, data=None, org=ORG):
    return decide(event_type=event_type, event_data=data or {}, partner_org=org, consents=consents, at=at)


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
    # The partner's delivery log reads the English (``en``); the citizen and staff read ``reason``, in Danish.
    decision = ask()
    assert not decision.allowed and ORG in decision.en and "no consent" in decision.en
    assert ORG in decision.reason and "ikke givet samtykke" in decision.reason


def test_consent_for_another_org_category_citizen_or_a_group_does_not_count():
    for other in (consent(org="SOR:999"), consent(category="fit"), consent(kind="group")):
        assert not ask(consents=[other]).allowed


def test_revocation_applies_to_everything_at_or_after_it():
    revoked = consent(revoked=NOW)
    assert ask(consents=[revoked], at=NOW - timedelta(seconds=1)).allowed
    decision = ask(consents=[revoked], at=NOW)
    assert not decision.allowed and "revoked" in decision.en and "trukket tilbage" in decision.reason


def test_consent_given_later_does_not_cover_earlier_moment():
    future = consent(given=NOW + timedelta(hours=1))
    assert "in force" in ask(consents=[future]).en


SECTION_12C = {"legal_basis": "retssikkerhedsloven § 12 c"}


def test_section_12c_on_a_hospital_notice_opens_no_delivery_to_any_partner():
    # § 12 c brings the notice to the municipality; it names no partner to pass it on to.
    for org in (ORG, "SOR:1234567", "SOR:9999999"):
        decision = ask(NOTICE, data=SECTION_12C, org=org)
        assert not decision.allowed and decision.basis is None
        assert org in decision.en and "§ 12 c names no recipient" in decision.en
        assert org in decision.reason and "§ 12 c giver ikke hjemmel" in decision.reason
        assert legal_basis_without_consent(NOTICE, org) is None


def test_hospital_notice_reaches_a_partner_under_the_citizens_health_consent_to_that_organisation():
    decision = ask(NOTICE, data=SECTION_12C, consents=[consent(category="health")])
    assert decision.allowed and decision.basis == "consent c1"
    assert not ask(NOTICE, data=SECTION_12C, consents=[consent(category="health")], org="SOR:9999999").allowed
    assert not ask(NOTICE, data=SECTION_12C, consents=[consent(category="plan")]).allowed
    assert not ask(NOTICE, data=SECTION_12C, consents=[consent(category="health", revoked=NOW)]).allowed


def test_a_legal_basis_opens_delivery_only_to_the_recipients_it_names():
    named = kit.Recipient.organisation("SOR:1111111")
    bases = {"testloven § 1": kit.LegalBasis("testloven § 1", frozenset({"health"}), frozenset({named}), "test")}
    allowed = kit.decide(consents=[], legal_basis="testloven § 1", recipient=named, category="health", at=NOW,
                         bases=bases)
    assert allowed.allowed and allowed.grounds is kit.Grounds.LEGAL_BASIS and allowed.basis == "testloven § 1"
    for recipient, category in ((kit.Recipient.organisation(ORG), "health"), (named, "plan"),
                                (kit.Recipient("group", "SOR:1111111"), "health")):
        assert not kit.decide(consents=[], legal_basis="testloven § 1", recipient=recipient, category=category,
                              at=NOW, bases=bases).allowed
    # A basis not recorded on the information does not apply to it.
    assert not kit.decide(consents=[], legal_basis=None, recipient=named, category="health", at=NOW,
                          bases=bases).allowed


def test_every_legal_basis_in_the_table_cites_the_law_and_says_whom_it_names():
    assert kit.LEGAL_BASES, "the table of legal bases is empty"
    for reference, basis in kit.LEGAL_BASES.items():
        assert basis.reference == reference and "§" in reference and basis.description
        assert all(r.kind in (kit.ORGANISATION, kit.GROUP) for r in basis.recipients)


def test_an_unknown_legal_basis_is_named_in_the_refusal_and_opens_nothing():
    decision = ask(NOTICE, data={"legal_basis": "lov om noget andet § 7"})
    assert not decision.allowed and "not a legal basis" in decision.en and "er ikke en hjemmel" in decision.reason


def test_the_moment_of_delivery_must_carry_a_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        ask(at=NOW.replace(tzinfo=None))


def test_never_delivered_types():
    assert not ask("tovholder.plans.consent-given.v1", consents=[consent()]).allowed
