"""Referrals' FHIR R4 routes (``/fhir/r4``): ServiceRequest (a referral), EpisodeOfCare (a placement),
Patient (the citizen: referrals holds who the citizen is)."""

from __future__ import annotations

from services.referrals.fhir import reads
from services.referrals.fhir import resources as fr
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM
from tovholder.fhir import COUNT_PARAM, LAST_UPDATED_PARAM, PATIENT_PARAM, SUBJECT_PARAM, SearchParam, status_param
from tovholder.fhir_api import Served, resource_router


def _params(statuses: tuple[str, ...]) -> tuple:
    return (PATIENT_PARAM, SUBJECT_PARAM, status_param(statuses), LAST_UPDATED_PARAM, COUNT_PARAM)


PATIENT_PARAMS = (
    SearchParam("_id", "token", "The citizen id (Patient/<citizen_id>, as every resource's subject/patient names it)"),
    SearchParam("identifier", "token", f"Partners: {CITIZEN_REFERENCE_SYSTEM}|<your reference for the citizen> "
                                       "(from POST /integration/v1/citizen-references or a delivery). No other "
                                       "system: a CPR number is never searched in a URL"),
    COUNT_PARAM,
)

router = resource_router("referrals", "Tovholder referrals: referrals, placements and the citizens they are about", [
    Served("ServiceRequest", reads.read_service_request, reads.search_service_requests,
           "A referral to a botilbud and where its case stands", _params(fr.SERVICE_REQUEST_STATUSES), ctx=True, id_param="referral_id"),
    Served("EpisodeOfCare", reads.read_episode_of_care, reads.search_episodes_of_care,
           "A placement at a botilbud with its status history; team: the citizen's network",
           _params(fr.EPISODE_STATUSES), ctx=True, id_param="referral_id"),
    Served("Patient", reads.read_patient, reads.search_patients,
           "The citizen: name and municipality; birth date to the citizen and staff, a partner's own citizen "
           "reference to a partner the citizen consented to share with; never the CPR number",
           PATIENT_PARAMS, ctx=True, id_param="citizen_id", query=reads.PatientSearchQuery),
])
