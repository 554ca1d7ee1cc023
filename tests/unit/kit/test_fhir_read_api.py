"""The FHIR read API's pure parts: the usual search parameters, the mappings of plans' and referrals'
data (every resource validates with fhir.resources), the CarePlan delivery payload and the portal's
merged CapabilityStatement."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.plans.domain import plan as plan_rules
from services.plans.domain.consent import ConsentRecord
from services.plans.fhir import resources as plans_fhir
from services.portal.fhir_forward import merged
from services.referrals.domain.access import View
from services.referrals.fhir import resources as referrals_fhir
from tests.fhir_support import valid
from tovholder.errors import TovholderError
from tovholder.fhir import OWNERS, dump, event_as_fhir, search_params

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
CITIZEN = uuid.uuid4()
ME = SimpleNamespace(role="coordinator", sub="orion-k1")


def test_search_reads_patient_or_subject_statuses_last_updated_and_pages():
    s = search_params(patient=f"Patient/{CITIZEN}", status="active,on-hold", last_updated=["ge2026-11-30", "lt2026-12-02T00:00:00+01:00"],
                      count=2, offset=1)
    assert s.citizen_id(ME, "Goal") == CITIZEN
    assert s.statuses(("active", "on-hold", "completed")) == {"active", "on-hold"}
    assert s.updated(NOW) and not s.updated(NOW - timedelta(days=3))
    assert s.page([1, 2, 3, 4]) == ([2, 3], 4)
    assert search_params(subject=str(CITIZEN)).citizen_id(ME, "Goal") == CITIZEN
    own = SimpleNamespace(role="citizen", sub=str(CITIZEN))
    assert search_params().citizen_id(own, "Goal") == CITIZEN  # a citizen's own token needs no patient
    for bad in (lambda: search_params().citizen_id(ME, "Goal"),
                lambda: search_params(patient="Patient/x").citizen_id(ME, "Goal"),
                lambda: search_params(patient=str(CITIZEN), subject=str(uuid.uuid4())).citizen_id(ME, "Goal"),
                lambda: search_params(status="done").statuses(("active",)),
                lambda: search_params(last_updated=["yesterday"])):
        with pytest.raises(TovholderError) as error:
            bad()
        assert error.value.code == "invalid-search"


def a_version() -> plan_rules.PlanVersion:
    author = plan_rules.Author(str(CITIZEN), plan_rules.AuthorRole.CITIZEN)
    staff = plan_rules.Author("orion-k1", plan_rules.AuthorRole.STAFF)
    goal = plan_rules.Goal(
        goal_id=uuid.uuid4(), text="Jeg vil selv kunne handle ind", written_with_citizen=True,
        sub_goals=(plan_rules.SubGoal(uuid.uuid4(), "Lave en indkøbsliste", True),),
        actions=(plan_rules.Action(uuid.uuid4(), "Handle sammen om torsdagen",
                                   plan_rules.ResponsibleActor(plan_rules.ActorKind.STAFF, "orion-k1"),
                                   date(2026, 12, 10), True),),
        entries=(plan_rules.Entry(uuid.uuid4(), plan_rules.EntryKind.CITIZEN_PERSPECTIVE, "Det er svært i Netto",
                                  author, NOW, True),
                 plan_rules.Entry(uuid.uuid4(), plan_rules.EntryKind.STAFF_OBSERVATION, "Gik godt i dag", staff, NOW, False)))
    return plan_rules.PlanVersion(plan_id=uuid.uuid4(), citizen_id=CITIZEN, number=4, created_at=NOW, created_by=author,
                                  change="goal-added", goals=(goal,))


def test_borgerens_plan_maps_to_a_valid_careplan_and_goals_in_the_citizens_own_words():
    version = a_version()
    care = dump(plans_fhir.careplan(plan_id=version.plan_id, citizen_id=CITIZEN, botilbud_id="orion", plan_status="open",
                                    opened_at=NOW, version=version))
    valid(care, "CarePlan")
    assert care["meta"]["versionId"] == "4" and care["status"] == "active"
    goal = dump(plans_fhir.goal(version.goals[0], citizen_id=CITIZEN, version=version))
    valid(goal, "Goal")
    assert goal["description"]["text"] == "Jeg vil selv kunne handle ind"
    perspective, observation = goal["note"]
    assert perspective["authorReference"]["reference"] == f"Patient/{CITIZEN}"
    assert observation["authorReference"]["identifier"]["value"] == "orion-k1"


def test_network_and_consents_map_to_valid_careteam_and_consent():
    team = dump(plans_fhir.careteam(citizen_id=CITIZEN, botilbud_id="orion", last_updated=NOW, members=[
        {"staff_id": "orion-n1", "role": "nurse-consultant", "added_at": NOW, "name": "Nina", "kind": "staff"},
        {"staff_id": "ekstern:1", "role": "other", "added_at": NOW, "name": "Ole", "organisation": "Jobcenter",
         "kind": "external"}]))
    valid(team, "CareTeam")
    record = ConsentRecord(uuid.uuid4(), "organisation", "SOR:123", "plan", NOW, "borger", revoked_at=NOW + timedelta(days=1))
    consent = dump(plans_fhir.consent(record, citizen_id=CITIZEN))
    valid(consent, "Consent")
    assert consent["status"] == "inactive" and consent["provision"]["period"]["end"]


def test_a_case_maps_to_a_valid_service_request_and_episode_of_care():
    row = SimpleNamespace(id=uuid.uuid4(), citizen_id=CITIZEN, status="placed", requested_offer="SEL §108", requested_step=7,
                          referrer_org="SOR:123", referrer_name="PC", referrer_sub=None, reason="Brug for et hjem",
                          citizen_wishes="Tæt på min søster", received_at=NOW, updated_at=NOW, legal_basis="SEL §108",
                          step=7, offer_id="orion", botilbud_id="orion", moved_in_on=date(2026, 12, 1), start_date=None,
                          ended_on=None)
    valid(dump(referrals_fhir.service_request(row, View.REFERRER)), "ServiceRequest")
    history = [SimpleNamespace(status="granted", at=NOW - timedelta(days=2)), SimpleNamespace(status="placed", at=NOW)]
    episode = dump(referrals_fhir.episode_of_care(row, history))
    valid(episode, "EpisodeOfCare")
    assert [h["status"] for h in episode["statusHistory"]] == ["planned", "active"]


def test_a_plan_version_event_becomes_the_careplan_it_changed():
    goal_id = uuid.uuid4()
    care = event_as_fhir("tovholder.plans.plan-version-created.v1", {
        "citizen_id": str(CITIZEN), "plan_id": str(uuid.uuid4()), "version": 5, "change": "goal-changed",
        "goal_ids": [str(goal_id)], "created_at": NOW.isoformat(), "created_by": "orion-k1"})
    valid(care, "CarePlan")
    assert care["meta"]["versionId"] == "5" and care["extension"][0]["valueReference"]["reference"] == f"Goal/{goal_id}"


def test_the_portal_merges_the_services_statements_into_one():
    def statement(*types: str, **extra) -> dict:
        return {"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "resource": [
            {"type": t, "interaction": [{"code": "read"}]} for t in types], **extra}]}

    one = merged([statement("Task"), statement("Encounter", operation=[{"name": "process-message",
                  "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"}])],
                 base="https://portal.test/fhir/r4")
    valid(one, "CapabilityStatement")
    assert [r["type"] for r in one["rest"][0]["resource"]] == ["Encounter", "Task"]
    assert one["rest"][0]["operation"][0]["name"] == "process-message"
    assert set(OWNERS.values()) == {"referrals", "plans", "health", "notifications"}
