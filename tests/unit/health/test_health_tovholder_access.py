from datetime import datetime, timedelta, timezone

import pytest

from services.health.domain.access import (
    Action,
    Actor,
    CitizenContext,
    Consent,
    knows_of,
    may,
    may_pass_on,
    reads_health_data,
    why_not,
)
from services.health.domain.errors import HealthRuleViolation
from tovholder.consent import Recipient
from services.health.domain.tovholder import ContactKind, ExternalContact, choose_tovholder, validate_contact

NOW = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
CITIZEN = CitizenContext("cit-1", "orion", "nurse-a", frozenset({"coord-net", "nurse-net"}))


class TestChooseTovholder:
    def test_choice_among_the_botilbuds_nurse_consultants(self):
        choice = choose_tovholder(current_sub=None, chosen_sub="nurse-b", botilbud_id="orion", nurse_consultants_of_botilbud={"nurse-a", "nurse-b"})
        assert choice.changed and choice.previous_sub is None

    def test_choosing_the_same_again_is_no_change(self):
        choice = choose_tovholder(current_sub="nurse-a", chosen_sub="nurse-a", botilbud_id="orion", nurse_consultants_of_botilbud={"nurse-a"})
        assert not choice.changed

    def test_nurse_from_another_botilbud_is_refused(self):
        with pytest.raises(HealthRuleViolation, match="ikke sygeplejekonsulent på botilbud orion"):
            choose_tovholder(current_sub=None, chosen_sub="nurse-x", botilbud_id="orion", nurse_consultants_of_botilbud={"nurse-a"})

    def test_blank_choice_is_refused(self):
        with pytest.raises(HealthRuleViolation, match="vælg"):
            choose_tovholder(current_sub=None, chosen_sub=" ", botilbud_id="orion", nurse_consultants_of_botilbud={"nurse-a"})


class TestExternalContact:
    def contact(self, **kw):
        base = dict(kind=ContactKind.PHONE, counterpart="gp", org="Lægehuset Ebeltoft", who="Dr. Holm",
                    what="Booked a spirometry", occurred_at=NOW - timedelta(hours=1), recorded_by="nurse-a")
        base.update(kw)
        return ExternalContact(**base)

    def test_valid(self):
        assert validate_contact(self.contact(), recorded_at=NOW).who == "Dr. Holm"

    @pytest.mark.parametrize("kw,match", [(dict(org=" "), "organisation"), (dict(what=""), "hvad kontakten"),
                                          (dict(what="x" * 501), "500"), (dict(occurred_at=NOW + timedelta(hours=1)), "fremtiden")])
    def test_invalid(self, kw, match):
        with pytest.raises(HealthRuleViolation, match=match):
            validate_contact(self.contact(**kw), recorded_at=NOW)


class TestAccess:
    @pytest.mark.parametrize(
        "actor,action,allowed",
        [
            (Actor("nurse-a", "nurse-consultant", "orion"), Action.WRITE, True),  # the tovholder
            (Actor("nurse-a", "nurse-consultant", "other"), Action.READ, True),  # tovholder, even if moved house
            (Actor("nurse-c", "nurse-consultant", "orion"), Action.WRITE, True),  # house nurse covers
            (Actor("nurse-z", "nurse-consultant", "other"), Action.READ, False),
            (Actor("coord-net", "coordinator", "orion"), Action.READ, True),  # network
            (Actor("coord-net", "coordinator", "orion"), Action.WRITE, False),
            (Actor("coord-other", "coordinator", "orion"), Action.READ, False),
            (Actor("coord-other", "coordinator", "orion"), Action.HEALTH_CHECK_MINUTES, True),
            (Actor("coord-other", "coordinator", "elsewhere"), Action.HEALTH_CHECK_MINUTES, False),
            (Actor("cit-1", "citizen"), Action.READ, True),
            (Actor("cit-1", "citizen"), Action.CHOOSE_TOVHOLDER, True),
            (Actor("cit-1", "citizen"), Action.DECLINE_HEALTH_CHECK, True),
            (Actor("cit-1", "citizen"), Action.WRITE, False),
            (Actor("cit-2", "citizen"), Action.READ, False),
            (Actor("p", "partner", org="SOR:1"), Action.READ, False),
            (Actor("root", "admin"), Action.READ, False),
            (Actor("v1", "visitation", "orion"), Action.READ, False),
            (Actor("coord-other", "coordinator", "orion"), Action.CHOOSE_TOVHOLDER, True),
            (Actor("coord-x", "coordinator", "elsewhere"), Action.CHOOSE_TOVHOLDER, False),
        ],
    )
    def test_matrix(self, actor, action, allowed):
        assert may(actor, action, CITIZEN) is allowed

    def test_unmatched_queue_is_for_visitation_only(self):
        assert may(Actor("v1", "visitation"), Action.UNMATCHED_QUEUE)
        assert not may(Actor("nurse-a", "nurse-consultant", "orion"), Action.UNMATCHED_QUEUE)

    def test_no_citizen_no_access(self):
        assert not may(Actor("nurse-a", "nurse-consultant", "orion"), Action.READ, None)

    def test_citizen_without_botilbud_is_not_open_to_everyone_without_one(self):
        homeless = CitizenContext("cit-9", None, None)
        assert not may(Actor("n", "nurse-consultant", None), Action.READ, homeless)

    def test_only_those_who_may_do_something_with_the_record_know_it_exists(self):
        assert knows_of(Actor("coord-other", "coordinator", "orion"), CITIZEN)  # records the tovholder choice
        assert knows_of(Actor("cit-1", "citizen"), CITIZEN)
        assert not knows_of(Actor("nurse-z", "nurse-consultant", "other"), CITIZEN)
        assert not knows_of(Actor("cit-2", "citizen"), CITIZEN)
        assert not knows_of(Actor("v1", "visitation"), CITIZEN)  # the unmatched queue is about no citizen
        assert [r for r in ("citizen", "nurse-consultant", "coordinator", "partner", "admin", "visitation")
                if reads_health_data(r)] == ["citizen", "nurse-consultant", "coordinator"]

    def test_reasons(self):
        assert "integration endpoints" in why_not(Actor("p", "partner"), Action.READ)
        assert "administratorer" in why_not(Actor("a", "admin"), Action.READ)
        assert "visitationen" in why_not(Actor("c", "coordinator"), Action.UNMATCHED_QUEUE)


class TestPassingOnByConsent:
    GIVEN = NOW - timedelta(days=10)

    def consent(self, *, recipient_kind="organisation", recipient_id="SOR:4567890", category="health", revoked_at=None):
        return Consent("consent-1", Recipient(recipient_kind, recipient_id), category, self.GIVEN, revoked_at)

    def test_consent_for_the_org_and_health_allows(self):
        assert may_pass_on([self.consent()], "SOR:4567890", NOW)

    @pytest.mark.parametrize("kw", [dict(recipient_id="SOR:1"), dict(category="plan"), dict(recipient_kind="group")])
    def test_other_org_category_or_group_does_not(self, kw):
        assert not may_pass_on([self.consent(**kw)], "SOR:4567890", NOW)

    def test_revoked_consent_stops_later_passing_on(self):
        revoked = self.consent(revoked_at=NOW - timedelta(days=1))
        assert not may_pass_on([revoked], "SOR:4567890", NOW)
        assert may_pass_on([revoked], "SOR:4567890", NOW - timedelta(days=2))

    def test_no_consent_before_it_was_given(self):
        assert not may_pass_on([self.consent()], "SOR:4567890", self.GIVEN - timedelta(seconds=1))

    def test_no_consents_no_passing_on(self):
        assert not may_pass_on([], "SOR:4567890", NOW)

    def test_the_decision_names_the_consent_and_the_hospital_notices_basis_opens_nothing(self):
        assert may_pass_on([self.consent()], "SOR:4567890", NOW).basis == "consent consent-1"
        refused = may_pass_on([], "SOR:4567890", NOW, legal_basis="retssikkerhedsloven § 12 c")
        assert not refused and "names no recipient" in refused.en and "giver ikke hjemmel" in refused.reason
