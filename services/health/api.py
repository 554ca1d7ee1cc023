"""Health's HTTP routes: partner integration endpoints (receipts), the staff/citizen API, and the
visitation queue of unmatched hospital notices. Each route parses, calls one use case in
``services`` (which authorises, audits and commits) and answers with a schema."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.health import schemas as s
from services.health import services
from services.health.fhir.capability import capability_statement
from tovholder.auth import CurrentUser, PartnerUser
from tovholder.cpr import CprVault
from tovholder.fhir import (FHIR_JSON, FhirJSONResponse, FhirResourceOut, FhirRoute, SearchQuery, fhir_base,
                            fhir_response, search_answer)
from tovholder.inputs import Year
from tovholder.receipts import Receipt, partner_message_openapi  # the raw-body routes' OpenAPI
from tovholder.scopes import serving_municipality
from tovholder.service import UoW

integration = APIRouter(prefix="/integration/v1", tags=["integration"])
staff = APIRouter(prefix="/api/v1", tags=["health"])
visitation = APIRouter(prefix="/api/v1/unmatched-hospital-notices", tags=["unmatched hospital notices"])
fhir = APIRouter(prefix="/fhir/r4", tags=["FHIR R4"], route_class=FhirRoute, default_response_class=FhirJSONResponse)


def vault_of(request: Request) -> CprVault:
    return request.app.state.ctx.cpr_vault()


def serving_of(request: Request) -> str | None:
    """The municipality this installation serves (unmatched notices belong to it)."""
    return serving_municipality(request.app.state.ctx.settings)


# ==================================================================== integration (partners)


@integration.post(
    "/hospital-notifications",
    status_code=202,
    response_model=Receipt,
    summary="A hospital notification (MedCom codes STAA/STIN/STOR/SLOR/SLHJ/MORS, RE_/AN_)",
    responses=s.RECEIPT_RESPONSES_WITH_MODEL,
    openapi_extra=partner_message_openapi(s.HospitalNotification),
)
async def post_hospital_notification(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
    return await services.receive_hospital_notification(uow, user, await request.body(), vault=vault_of(request))


def _document_route(model: type[s.PartnerMessage]):
    _, endpoint, _, _ = services.DOCUMENT_KINDS[model]

    async def route(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
        return await services.receive_partner_document(uow, user, await request.body(), model, vault=vault_of(request))

    route.__name__ = f"post_{endpoint.replace('-', '_')}"
    return route


for _model, (_kind, _endpoint, _, _) in services.DOCUMENT_KINDS.items():
    integration.add_api_route(
        f"/{_endpoint}", _document_route(_model), methods=["POST"], status_code=202, response_model=Receipt,
        summary=f"Partner intake: {_kind.replace('-', ' ')} (receipt like the hospital notifications)",
        responses=s.RECEIPT_RESPONSES_WITH_MODEL, openapi_extra=partner_message_openapi(_model),
    )


@integration.post("/medication-changes", status_code=202, response_model=Receipt,
                  summary="A medication change made in FMK (a reference, not a copy)",
                  responses=s.RECEIPT_RESPONSES_WITH_MODEL, openapi_extra=partner_message_openapi(s.PartnerMedicationChange))
async def post_partner_medication_change(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
    return await services.receive_partner_medication_change(uow, user, await request.body(), vault=vault_of(request))


@integration.get("/shared-documents", response_model=s.SharedDocumentsOut,
                 summary="Health documents passed on to your organisation (while consent lasts)")
async def get_shared_documents(user: PartnerUser, uow: UoW) -> dict[str, Any]:
    return await services.list_shared_documents(uow, user)


# ==================================================================== partner documents, passed on by consent


@staff.get("/citizens/{citizen_id}/partner-documents", response_model=s.PartnerDocumentsOut,
           summary="The pharmacist's reviews, lab results and psychiatrist's notes")
async def get_partner_documents(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_partner_documents(uow, user, citizen_id)


@staff.post("/partner-documents/{document_id}/share", status_code=201, response_model=s.ShareOut,
            summary="Pass a partner document on to another organisation (only with the citizen's consent)")
async def share_document(document_id: uuid.UUID, body: s.ShareBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.share_document(uow, user, document_id, body)


# ==================================================================== medication


@staff.post("/citizens/{citizen_id}/medication-changes", status_code=201, response_model=s.MedicationChangeOut,
            summary="Record a medication change made in FMK")
async def post_medication_change(citizen_id: uuid.UUID, body: s.StaffMedicationChange, user: CurrentUser,
                                 uow: UoW) -> dict[str, Any]:
    return await services.record_medication_change(uow, user, citizen_id, body)


@staff.get("/citizens/{citizen_id}/medication-changes", response_model=s.MedicationOut,
           summary="Medication changes (references into FMK)")
async def get_medication_changes(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_medication_changes(uow, user, citizen_id)


@staff.post("/medication-alerts/{alert_id}/acknowledge", response_model=s.AlertAcknowledgedOut,
            summary="The tovholder has looked at the change in FMK")
async def acknowledge_alert(alert_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.acknowledge_alert(uow, user, alert_id)


# ==================================================================== record, timeline, tovholder


@staff.get("/citizens/{citizen_id}/health-record", response_model=s.HealthRecordOut,
           summary="The citizen's health record and admission state")
async def get_health_record(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.read_health_record(uow, user, citizen_id)


@staff.get("/citizens/{citizen_id}/health-timeline", response_model=s.TimelineOut,
           summary="Every external contact: who, which organisation, what, when")
async def get_timeline(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, limit: int = 200) -> dict[str, Any]:
    return await services.read_timeline(uow, user, citizen_id, limit)


@staff.get("/citizens/{citizen_id}/hospital-notices", response_model=s.HospitalNoticesOut,
           summary="Hospital notices with their history (corrected/cancelled kept)")
async def get_hospital_notices(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_hospital_notices(uow, user, citizen_id)


@staff.put("/citizens/{citizen_id}/tovholder", response_model=s.TovholderOut,
           summary="The citizen chooses their nurse consultant as tovholder")
async def put_tovholder(citizen_id: uuid.UUID, body: s.TovholderBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.choose_the_tovholder(uow, user, citizen_id, body)


@staff.get("/botilbud/{botilbud_id}/nurse-consultants", response_model=s.NurseConsultantsOut,
           summary="The nurse consultants a citizen can choose among")
async def get_nurse_consultants(botilbud_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_nurse_consultants(uow, user, botilbud_id)


@staff.put("/botilbud/{botilbud_id}/nurse-consultants", response_model=s.NurseConsultantsOut,
           summary="Set a botilbud's nurse consultants (admin)")
async def put_nurse_consultants(botilbud_id: str, body: list[dict[str, str]], user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.set_nurse_consultants(uow, user, botilbud_id, body)


@staff.post("/citizens/{citizen_id}/external-contacts", status_code=201, response_model=s.EntryCreatedOut,
            summary="Record an external contact on the timeline")
async def post_contact(citizen_id: uuid.UUID, body: s.ContactBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.record_external_contact(uow, user, citizen_id, body)


@staff.put("/citizens/{citizen_id}/gp-practice", response_model=s.GpPracticeOut,
           summary="The citizen's GP practice (lægehus): check days group by it")
async def put_gp_practice(citizen_id: uuid.UUID, body: s.GpPracticeBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.set_gp_practice(uow, user, citizen_id, body)


# ==================================================================== the annual health check


@staff.post("/citizens/{citizen_id}/health-checks", status_code=201, response_model=s.HealthCheckOut,
            summary="Schedule the year's health check (sundhedstjek)")
async def post_health_check(citizen_id: uuid.UUID, body: s.ScheduleBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.schedule_health_check(uow, user, citizen_id, body)


@staff.get("/citizens/{citizen_id}/health-checks", response_model=s.HealthChecksOut,
           summary="The citizen's health checks, newest first")
async def get_health_checks(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_health_checks(uow, user, citizen_id)


@staff.get("/health-checks/{health_check_id}", response_model=s.HealthCheckDetailOut,
           summary="One health check with deadlines, pre-assessment and decisions")
async def get_health_check(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.read_health_check(uow, user, health_check_id)


@staff.post("/health-checks/{health_check_id}/pre-assessment", response_model=s.HealthCheckOut,
            summary="The pre-assessment, in the citizen's own words")
async def post_pre_assessment(health_check_id: uuid.UUID, body: s.PreAssessmentBody, user: CurrentUser,
                              uow: UoW) -> dict[str, Any]:
    return await services.record_pre_assessment(uow, user, health_check_id, body)


@staff.post("/health-checks/{health_check_id}/examination", response_model=s.HealthCheckOut,
            summary="The examination/labs were done (results come from the lab)")
async def post_examination(health_check_id: uuid.UUID, body: s.ExaminationBody, user: CurrentUser,
                           uow: UoW) -> dict[str, Any]:
    return await services.record_examination(uow, user, health_check_id, body)


@staff.post("/health-checks/{health_check_id}/steps/{step}/complete", response_model=s.HealthCheckOut,
            summary="Mark a preparation step done (e.g. reconciliation)")
async def post_step_done(health_check_id: uuid.UUID, step: Literal["pre-assessment", "examination", "medication-reconciliation", "medication-review"],
                         user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.complete_step(uow, user, health_check_id, step)


@staff.post("/health-checks/{health_check_id}/decline", response_model=s.HealthCheckOut,
            summary="The citizen declines (voluntary; no reason needed)")
async def post_decline(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW,
                       body: s.DeclineBody | None = None) -> dict[str, Any]:
    return await services.decline_health_check(uow, user, health_check_id, body)


@staff.post("/health-checks/{health_check_id}/accept", response_model=s.HealthCheckOut,
            summary="The citizen changed their mind and wants the check after all")
async def post_accept(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.accept_health_check(uow, user, health_check_id)


@staff.post("/health-checks/{health_check_id}/held", response_model=s.HealthCheckDetailOut,
            summary="The check was held: participants, minutes and decisions")
async def post_held(health_check_id: uuid.UUID, body: s.HeldBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.record_check_held(uow, user, health_check_id, body)


@staff.get("/botilbud/{botilbud_id}/health-checks", response_model=s.BotilbudHealthChecksOut,
           summary="The botilbud's årshjul: every check of a year with its readiness")
async def get_botilbud_health_checks(botilbud_id: str, user: CurrentUser, uow: UoW, year: Year | None = None) -> dict[str, Any]:
    return await services.botilbud_health_checks(uow, user, botilbud_id, year)


@staff.get("/botilbud/{botilbud_id}/health-check-cadence", response_model=s.CadenceOut,
           summary="How often the botilbud's citizens have the health check")
async def get_cadence(botilbud_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.read_health_check_cadence(uow, user, botilbud_id)


@staff.put("/botilbud/{botilbud_id}/health-check-cadence", response_model=s.CadenceOut,
           summary="Set the health-check cadence (every year, every second year, extended every Nth year)")
async def put_cadence(botilbud_id: str, body: s.CadenceBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.set_health_check_cadence(uow, user, botilbud_id, body)


@staff.post("/botilbud/{botilbud_id}/health-check-days", response_model=s.CheckDayPlanOut,
            summary="Plan check days: same GP practice on the same day, 8–10 a day")
async def post_plan_days(botilbud_id: str, body: s.PlanDaysBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.plan_check_days(uow, user, botilbud_id, body)


# ==================================================================== forensic psychiatry


@staff.put("/citizens/{citizen_id}/treatment-order", response_model=s.TreatmentOrderRecordedOut,
           summary="Record the behandlingsdom and its conditions")
async def put_treatment_order(citizen_id: uuid.UUID, body: s.TreatmentOrderBody, user: CurrentUser,
                              uow: UoW) -> dict[str, Any]:
    return await services.record_treatment_order(uow, user, citizen_id, body)


@staff.post("/citizens/{citizen_id}/depot-schedules", status_code=201, response_model=s.ScheduleCreatedOut,
            summary="Weekly depot-medication visits by forensic nurses")
async def post_depot_schedule(citizen_id: uuid.UUID, body: s.DepotScheduleBody, user: CurrentUser,
                              uow: UoW) -> dict[str, Any]:
    return await services.create_depot_schedule(uow, user, citizen_id, body)


@staff.post("/citizens/{citizen_id}/depot-visits", status_code=201, response_model=s.VisitRecordedOut,
            summary="Record a depot-medication visit")
async def post_depot_visit(citizen_id: uuid.UUID, body: s.DepotVisitBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.record_depot_visit(uow, user, citizen_id, body)


@staff.post("/citizens/{citizen_id}/coercion-log", status_code=201, response_model=s.EntryCreatedOut,
            summary="Coercion was considered: decision, least intrusive alternative, by whom")
async def post_coercion(citizen_id: uuid.UUID, body: s.CoercionBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.record_coercion_considered(uow, user, citizen_id, body)


@staff.get("/citizens/{citizen_id}/forensic", response_model=s.ForensicOut,
           summary="Behandlingsdom, depot schedule and visits, missed visits, coercion log")
async def get_forensic(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.read_forensic(uow, user, citizen_id)


# ==================================================================== unmatched notices (visitation)


@visitation.get("", response_model=s.UnmatchedNoticesOut,
                summary="Hospital notices whose CPR matched no known citizen (CPR masked)")
async def get_unmatched(request: Request, user: CurrentUser, uow: UoW, status: str = "open") -> dict[str, Any]:
    return await services.list_unmatched_notices(uow, user, status, serving=serving_of(request), vault=vault_of(request))


@visitation.get("/{unmatched_id}", response_model=s.UnmatchedNoticeOut,
                summary="One unmatched notice with the full CPR (audited)")
async def get_one_unmatched(unmatched_id: uuid.UUID, request: Request, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.read_unmatched_notice(uow, user, unmatched_id, serving=serving_of(request),
                                                vault=vault_of(request))


@visitation.post("/{unmatched_id}/match", response_model=s.MatchedOut,
                 summary="Attach the notice (and the others for the same CPR) to a known citizen")
async def post_match(unmatched_id: uuid.UUID, body: s.MatchBody, request: Request, user: CurrentUser,
                     uow: UoW) -> dict[str, Any]:
    return await services.match_unmatched_notice(uow, user, unmatched_id, body, serving=serving_of(request))


@visitation.post("/{unmatched_id}/dismiss", response_model=s.DismissedOut,
                 summary="Not a citizen of this municipality: close it (the CPR is wiped)")
async def post_dismiss(unmatched_id: uuid.UUID, request: Request, user: CurrentUser, uow: UoW,
                       body: s.DeclineBody | None = None) -> dict[str, Any]:
    return await services.dismiss_unmatched_notice(uow, user, unmatched_id, body, serving=serving_of(request))


# ==================================================================== FHIR R4 (MedCom messaging, Encounter)


FHIR_BODY = {"requestBody": {"required": True, "content": {
    FHIR_JSON: {"schema": {"type": "object", "description": "A MedCom HospitalNotification message (Bundle of type message)"}},
    "application/fhir+xml": {"schema": {"type": "string", "description": "The same message in FHIR XML"}}}}}


@fhir.post("/$process-message", response_model=FhirResourceOut, openapi_extra=FHIR_BODY,
           summary="MedCom HospitalNotification in; a MedCom Acknowledgement (Bundle) out",
           responses={422: {"description": "fatal-error acknowledgement"}, 409: {"description": "fatal-error: conflicts with an earlier message"},
                      403: {"description": "fatal-error: the sender is not your organisation"},
                      503: {"description": "transient-error acknowledgement; retry after Retry-After"}})
async def post_process_message(request: Request, user: PartnerUser, uow: UoW) -> Response:
    return await services.receive_medcom_message(uow, user, await request.body(), vault=vault_of(request),
                                                 content_type=request.headers.get("content-type", ""), base=fhir_base(request),
                                                 accept=request.headers.get("accept", ""))


@fhir.get("/metadata", response_model=FhirResourceOut,
          summary="CapabilityStatement: MedCom messaging (duplicate window) and the Encounter API (any valid token)")
async def get_metadata(request: Request, user: CurrentUser) -> JSONResponse:
    return fhir_response(capability_statement(fhir_base(request), request.app.state.ctx.extras["medcom"]))


@fhir.get("/Encounter/{encounter_id}", response_model=FhirResourceOut,
          summary="A hospital stay (Encounter), on the rules of the health REST API; a partner only on the "
                  "citizen's consent for 'health' (audited)")
async def get_encounter(encounter_id: str, user: CurrentUser, uow: UoW) -> JSONResponse:
    return fhir_response(await services.read_encounter(uow, user, encounter_id))


@fhir.get("/Encounter", response_model=FhirResourceOut,
          summary="Search one citizen's hospital stays: patient, status, _lastUpdated, _count (a searchset Bundle); "
                  "a partner only on the citizen's consent for 'health'")
async def search_encounters(request: Request, user: CurrentUser, uow: UoW, search: SearchQuery) -> JSONResponse:
    resources, total = await services.search_encounters(uow, user, search)
    return search_answer(request, resources, total, search)


# ==================================================================== portal: who is admitted now (issue 12)


@staff.get("/botilbud/{botilbud_id}/admitted-now", response_model=s.AdmittedNowOut,
           summary="The botilbud's citizens admitted to hospital now (or on leave), for its nurse consultants")
async def get_admitted_now(botilbud_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.admitted_now(uow, user, botilbud_id)


routers = [integration, staff, visitation, fhir]
