"""Plans' FHIR R4 routes (``/fhir/r4``): CarePlan, Goal, CareTeam, Consent — read and search."""

from __future__ import annotations

from services.plans.fhir import reads
from services.plans.fhir import resources as fr
from tovholder.fhir import COUNT_PARAM, LAST_UPDATED_PARAM, PATIENT_PARAM, SUBJECT_PARAM, status_param
from tovholder.fhir_api import Served, resource_router


def _params(statuses: tuple[str, ...]) -> tuple:
    return (PATIENT_PARAM, SUBJECT_PARAM, status_param(statuses), LAST_UPDATED_PARAM, COUNT_PARAM)


router = resource_router("plans", "Tovholder plans: Borgerens Plan, the network and the citizen's consents", [
    Served("CarePlan", reads.read_careplan, reads.search_careplans,
           "Borgerens Plan as its current version leaves it (meta.versionId: the plan version)",
           _params(fr.CAREPLAN_STATUSES), id_param="plan_id"),
    Served("Goal", reads.read_goal, reads.search_goals,
           "A goal of Borgerens Plan, in the citizen's own words (description.text)", _params(fr.GOAL_STATUSES), id_param="goal_id"),
    Served("CareTeam", reads.read_careteam, reads.search_careteams,
           "The citizen's network and each member's role (CareTeam/<citizen_id>)", _params(fr.CARETEAM_STATUSES), id_param="citizen_id"),
    Served("Consent", reads.read_consent, reads.search_consents,
           "The citizen's consents: to which organisation, which category, in force or revoked",
           _params(fr.CONSENT_STATUSES), id_param="consent_id"),
])
