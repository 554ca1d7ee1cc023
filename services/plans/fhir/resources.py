"""Plans' data as FHIR R4 resources (pure: no I/O; every resource is built through its
``fhir.resources`` model, so what leaves here validates).

- ``CarePlan`` (id = the plan id): Borgerens Plan as its current version leaves it — ``meta.versionId``
  is the plan version, ``goal`` the goals, ``activity`` the goals' actions, ``note`` the entries about
  the plan as a whole; ``careTeam`` the citizen's network.
- ``Goal`` (id = the goal id): ``description.text`` is the goal **in the citizen's own words**, as
  written (never rephrased); ``expressedBy`` is the citizen when it was written with them; the
  sub-goals are ``target``s, the entries ``note``s — a citizen's perspective or comment is authored by
  the Patient, a staff observation by the staff member, so the two are never mixed up.
- ``CareTeam`` (id = the citizen id: one network per citizen): the network members with their roles;
  the tovholder is the member with role ``nurse-consultant``.
- ``Consent`` (id = the consent id): recipient organisation (SOR) and category, in force or revoked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.goal import Goal

from services.plans.domain import plan as plan_rules
from services.plans.domain.consent import ConsentRecord
from tovholder.fhir import PLAN_CHANGE_SYSTEM, SOR_SYSTEM, botilbud_ref, meta, patient_ref, practitioner_ref, validated

GOAL_KIND_SYSTEM = "urn:tovholder:goal-kind"
NETWORK_ROLE_SYSTEM = "urn:tovholder:network-role"
ENTRY_KIND_SYSTEM = "urn:tovholder:plan-entry-kind"
CONSENT_CATEGORY_SYSTEM = "urn:tovholder:consent-category"
EXTERNAL_SYSTEM = "urn:tovholder:external-partner"

CAREPLAN_STATUSES = ("active", "completed")
GOAL_STATUSES = ("active", "on-hold", "completed", "cancelled")
CARETEAM_STATUSES = ("active",)
CONSENT_STATUSES = ("active", "inactive")

GOAL_LIFECYCLE = {"active": "active", "paused": "on-hold", "achieved": "completed", "dropped": "cancelled"}
GOAL_KIND_NAMES = {"develop": "Udvikle", "maintain": "Fastholde", "harm-reduction": "Skadesreduktion"}
ROLE_NAMES = {"coordinator": "Netværkskoordinator", "makker": "Makker", "nurse-consultant": "Sygeplejekonsulent (tovholder)",
              "rehabilitation-leader": "Rehabiliteringsleder", "medication-partner": "Medicinmakker", "other": "Andet"}
CATEGORY_NAMES = {"plan": "Borgerens plan", "health": "Helbred", "safety-plan": "Tryghedsplan", "fit": "FIT-målinger"}


def careplan_status(plan_status: str) -> str:
    return "active" if plan_status == "open" else "completed"


def _author(author: plan_rules.Author, citizen_id: Any) -> dict[str, Any]:
    if author.role == plan_rules.AuthorRole.CITIZEN:
        return {"authorReference": patient_ref(citizen_id)}
    if author.id == "system":
        return {"authorString": "Tovholder"}
    return {"authorReference": practitioner_ref(author.id)}


def _note(entry: plan_rules.Entry, citizen_id: Any) -> dict[str, Any]:
    """An entry, its text verbatim; who wrote it (the citizen's words are the Patient's) and its kind."""
    return {"text": entry.text, "time": entry.written_at.isoformat(), **_author(entry.author, citizen_id),
            "extension": [{"url": ENTRY_KIND_SYSTEM, "valueCode": entry.kind.value}]}


def _performer(action: plan_rules.Action, citizen_id: Any) -> dict[str, Any]:
    who = action.responsible
    if who.kind == plan_rules.ActorKind.CITIZEN:
        return patient_ref(citizen_id)
    if who.kind == plan_rules.ActorKind.STAFF:
        return practitioner_ref(who.ref)
    return {"display": who.ref}


def careplan(*, plan_id: Any, citizen_id: Any, botilbud_id: str, plan_status: str, opened_at: datetime,
             version: plan_rules.PlanVersion) -> CarePlan:
    activities = [{"detail": validated_detail(action, goal, citizen_id)} for goal in version.goals for action in goal.actions]
    return validated(CarePlan, {
        "resourceType": "CarePlan", "id": str(plan_id), "meta": {**meta(version.created_at, version.number),
                                                                  "tag": [{"system": PLAN_CHANGE_SYSTEM, "code": version.change}]},
        "status": careplan_status(plan_status), "intent": "plan", "title": "Borgerens Plan",
        "subject": patient_ref(citizen_id), "created": opened_at.isoformat(),
        "author": botilbud_ref(botilbud_id), "careTeam": [{"reference": f"CareTeam/{citizen_id}"}],
        "goal": [{"reference": f"Goal/{g.goal_id}"} for g in version.goals],
        "activity": activities, "note": [_note(e, citizen_id) for e in version.entries],
    })


def validated_detail(action: plan_rules.Action, goal: plan_rules.Goal, citizen_id: Any) -> dict[str, Any]:
    return {"status": "completed" if action.done_on else "scheduled", "description": action.text,
            "scheduledPeriod": {"end": action.due_on.isoformat()}, "goal": [{"reference": f"Goal/{goal.goal_id}"}],
            "performer": [_performer(action, citizen_id)]}


def goal(goal: plan_rules.Goal, *, citizen_id: Any, version: plan_rules.PlanVersion) -> Goal:
    targets = [{"detailString": s.text, **({"dueDate": s.smart.time_bound.isoformat()}
                                            if s.smart and s.smart.time_bound else {})} for s in goal.sub_goals]
    return validated(Goal, {
        "resourceType": "Goal", "id": str(goal.goal_id), "meta": meta(version.created_at, version.number),
        "lifecycleStatus": GOAL_LIFECYCLE[goal.status.value],
        **({"achievementStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                                              "code": "achieved"}]}} if goal.status.value == "achieved" else {}),
        "category": [{"coding": [{"system": GOAL_KIND_SYSTEM, "code": goal.kind.value,
                                  "display": GOAL_KIND_NAMES.get(goal.kind.value)}]}],
        "description": {"text": goal.text},  # the citizen's own words, as written
        "subject": patient_ref(citizen_id),
        "expressedBy": patient_ref(citizen_id) if goal.written_with_citizen else None,
        "target": targets, "note": [_note(e, citizen_id) for e in goal.entries],
    })


def careteam(*, citizen_id: Any, botilbud_id: str | None, members: Iterable[dict[str, Any]],
             last_updated: datetime) -> CareTeam:
    """``members``: plans' network view of each member (``services.network_view``)."""
    def participant(m: dict[str, Any]) -> dict[str, Any]:
        if m.get("kind") == "external":
            who = {"display": " · ".join(x for x in (m.get("name"), m.get("organisation")) if x),
                   "identifier": {"system": EXTERNAL_SYSTEM, "value": m["staff_id"]}}
        else:
            who = practitioner_ref(m["staff_id"], m.get("name"))
        return {"role": [{"coding": [{"system": NETWORK_ROLE_SYSTEM, "code": m["role"],
                                      "display": ROLE_NAMES.get(m["role"])}]}],
                "member": who, "period": {"start": m["added_at"].isoformat()}}

    return validated(CareTeam, {
        "resourceType": "CareTeam", "id": str(citizen_id), "meta": meta(last_updated), "status": "active",
        "name": "Borgerens netværk", "subject": patient_ref(citizen_id),
        "participant": [participant(m) for m in members],
        "managingOrganization": [botilbud_ref(botilbud_id)] if botilbud_id else None,
    })


def consent(record: ConsentRecord, *, citizen_id: Any) -> Consent:
    revoked = record.revoked_at is not None
    actor = ({"identifier": {"system": SOR_SYSTEM, "value": record.recipient_id.removeprefix("SOR:")}}
             if record.recipient_id.startswith("SOR:") else {})
    if record.recipient_name or not actor:
        actor["display"] = record.recipient_name or f"{record.recipient_kind} {record.recipient_id}"
    return validated(Consent, {
        "resourceType": "Consent", "id": str(record.consent_id), "meta": meta(record.revoked_at or record.given_at),
        "status": "inactive" if revoked else "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": patient_ref(citizen_id), "dateTime": record.given_at.isoformat(),
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {
            "type": "permit",
            "period": {"start": record.given_at.isoformat(), **({"end": record.revoked_at.isoformat()} if revoked else {})},
            "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                            "code": "IRCP", "display": "information recipient"}]},
                       "reference": actor}],
            "code": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": record.category,
                                  "display": CATEGORY_NAMES.get(record.category)}]}],
        },
    })
