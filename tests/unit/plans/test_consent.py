import itertools
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.consent import (
    CONSENTABLE_CATEGORIES,
    Category,
    ConsentRecord,
    DecisionBasis,
    give,
    may_receive,
    revoke,
)
from services.plans.domain.errors import PlanRuleViolation, UnknownCategory

T0 = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
PSYCH = ("organisation", "SOR:1234567")  # e.g. a named psychiatric department
GP = ("organisation", "SOR:7654321")  # a GP practice
RELATIVES = ("group", "relatives")
RECIPIENTS = (PSYCH, GP, RELATIVES)
CATEGORIES = sorted(c.value for c in CONSENTABLE_CATEGORIES)


def given(recipient, category, at=T0):
    return give(consent_id=uuid4(), recipient_kind=recipient[0], recipient_id=recipient[1], category=category,
                at=at, by="staff-1", existing=[])


def decide(recipient, category, at, consents):
    return may_receive(recipient_kind=recipient[0], recipient_id=recipient[1], category=category, at=at,
                       consents=consents)


@pytest.mark.parametrize(("recipient", "category"), list(itertools.product(RECIPIENTS, CATEGORIES)))
def test_consent_matrix_covers_exactly_its_recipient_and_category_until_revoked(recipient, category):
    record = given(recipient, category)
    consents = [record]
    for other_recipient, other_category in itertools.product(RECIPIENTS, CATEGORIES):
        decision = decide(other_recipient, other_category, T0 + timedelta(hours=1), consents)
        expected = (other_recipient, other_category) == (recipient, category)
        assert decision.allowed is expected, (other_recipient, other_category)
    revoked = revoke(record, at=T0 + timedelta(days=1), by="citizen-1")
    # What was shared before the revocation stays lawful; nothing after it is.
    assert decide(recipient, category, T0 + timedelta(hours=23), [revoked]).allowed
    after = decide(recipient, category, T0 + timedelta(days=1), [revoked])
    assert not after.allowed and "trukket tilbage" in after.reason and "revoked" in after.en


def test_nothing_is_shared_without_consent_and_the_reason_says_so():
    decision = decide(PSYCH, "safety-plan", T0, [])
    assert not decision and decision.basis == DecisionBasis.NONE and "ikke givet samtykke" in decision.reason
    assert "no consent that covers" in decision.en  # a partner reads English


def test_consent_does_not_reach_back_before_it_was_given():
    record = given(RELATIVES, "plan", at=T0)
    decision = decide(RELATIVES, "plan", T0 - timedelta(seconds=1), [record])
    assert not decision and "ikke et samtykke i kraft" in decision.reason and "is in force at" in decision.en
    assert decide(RELATIVES, "plan", T0, [record]).allowed  # in force from the moment it is given


def test_consent_given_again_after_a_revocation_is_in_force_again():
    first = revoke(given(GP, "health"), at=T0 + timedelta(days=1), by="c")
    second = given(GP, "health", at=T0 + timedelta(days=3))
    consents = [first, second]
    assert decide(GP, "health", T0 + timedelta(hours=1), consents).allowed
    assert not decide(GP, "health", T0 + timedelta(days=2), consents).allowed
    decision = decide(GP, "health", T0 + timedelta(days=4), consents)
    assert decision.allowed and decision.consent_id == second.consent_id


def test_a_consent_in_force_cannot_be_given_twice_but_after_revocation_it_can():
    record = given(PSYCH, "fit")
    with pytest.raises(PlanRuleViolation, match="allerede"):
        give(consent_id=uuid4(), recipient_kind="organisation", recipient_id="SOR:1234567", category="fit",
             at=T0 + timedelta(hours=1), by="s", existing=[record])
    revoked = revoke(record, at=T0 + timedelta(hours=2), by="s")
    again = give(consent_id=uuid4(), recipient_kind="organisation", recipient_id="SOR:1234567", category="fit",
                 at=T0 + timedelta(hours=3), by="s", existing=[revoked])
    assert again.revoked_at is None


def test_revocation_rules():
    record = given(PSYCH, "plan")
    with pytest.raises(PlanRuleViolation, match="før det er givet"):
        revoke(record, at=T0 - timedelta(minutes=1), by="s")
    revoked = revoke(record, at=T0, by="s")  # revoked the same moment: never in force
    assert not decide(PSYCH, "plan", T0, [revoked]).allowed
    with pytest.raises(PlanRuleViolation, match="allerede tilbagekaldt"):
        revoke(revoked, at=T0 + timedelta(hours=1), by="s")


@pytest.mark.parametrize("category", ["medication", "", "PLAN", "safety_plan"])
def test_unknown_categories_are_refused_with_the_known_ones(category):
    with pytest.raises(UnknownCategory, match="safety-plan"):
        give(consent_id=uuid4(), recipient_kind="group", recipient_id="relatives", category=category, at=T0,
             by="s", existing=[])
    with pytest.raises(UnknownCategory):
        decide(RELATIVES, category, T0, [])


def test_section_12c_opens_no_onward_delivery_and_hospital_notices_cannot_be_consented_to():
    # § 12 c lets the hospital's notice reach the municipality; it names no organisation the
    # municipality may pass it on to (issue 10, hole 1: it used to be read as "any organisation").
    decision = decide(PSYCH, "hospital-notice", T0, [])
    assert not decision.allowed and decision.basis == DecisionBasis.NONE
    assert "retssikkerhedsloven § 12 c giver ikke hjemmel" in decision.reason
    assert "retssikkerhedsloven § 12 c names no recipient" in decision.en
    assert not decide(RELATIVES, "hospital-notice", T0, []).allowed
    with pytest.raises(UnknownCategory, match="hjemmel"):
        give(consent_id=uuid4(), recipient_kind="organisation", recipient_id="SOR:1", category="hospital-notice",
             at=T0, by="s", existing=[])


def test_recipients_are_checked():
    with pytest.raises(PlanRuleViolation, match="organisation eller en gruppe"):
        give(consent_id=uuid4(), recipient_kind="person", recipient_id="x", category="plan", at=T0, by="s",
             existing=[])
    with pytest.raises(PlanRuleViolation, match="ukendt gruppe"):
        give(consent_id=uuid4(), recipient_kind="group", recipient_id="neighbours", category="plan", at=T0, by="s",
             existing=[])
    with pytest.raises(PlanRuleViolation, match="hvilken organisation"):
        give(consent_id=uuid4(), recipient_kind="organisation", recipient_id=" ", category="plan", at=T0, by="s",
             existing=[])
    with pytest.raises(PlanRuleViolation, match="organisation eller en gruppe"):
        decide(("person", "x"), "plan", T0, [])


def test_an_organisation_id_must_match_exactly_and_a_group_is_not_an_organisation():
    record = given(PSYCH, "plan")
    assert not decide(("organisation", "SOR:12345678"), "plan", T0, [record]).allowed
    assert not decide(("group", "SOR:1234567"), "plan", T0, [record]).allowed


def test_naive_times_are_refused_rather_than_guessed():
    with pytest.raises(PlanRuleViolation, match="tidszone"):
        decide(PSYCH, "plan", datetime(2026, 11, 22, 10), [])


def test_times_in_other_zones_compare_by_instant():
    record = given(PSYCH, "plan", at=T0)
    copenhagen = timezone(timedelta(hours=1))
    assert not decide(PSYCH, "plan", datetime(2026, 11, 22, 10, 59, tzinfo=copenhagen), [record]).allowed
    assert decide(PSYCH, "plan", datetime(2026, 11, 22, 11, 0, tzinfo=copenhagen), [record]).allowed


def test_a_read_model_with_plain_strings_works_without_the_enums():
    # What the notifications service keeps from ConsentGivenV1/ConsentRevokedV1.
    record = ConsentRecord(consent_id=uuid4(), recipient_kind="group", recipient_id="relatives",
                           category="safety-plan", given_at=T0, given_by="s",
                           revoked_at=T0 + timedelta(days=2), revoked_by="c")
    assert decide(RELATIVES, Category.SAFETY_PLAN, T0 + timedelta(days=1), [record]).allowed
    assert not decide(RELATIVES, "safety-plan", T0 + timedelta(days=2), [record]).allowed
