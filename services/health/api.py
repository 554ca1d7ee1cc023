"""Health's HTTP routes: partner integration endpoints (receipts), the staff/citizen API, and the
visitation queue of unmatched hospital notices. Every read and write of a citizen's health data is
authorised by ``guard.authorize`` and audited."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contracts.health import (
    CoercionConsideredV1,
    ExternalContactRecordedV1,
    HealthCheckDecisionRecordedV1,
    HealthCheckDeclinedV1,
    HealthCheckHeldV1,
    HealthCheckScheduledV1,
    HealthCheckStepCompletedV1,
    HealthCheckStepDueV1,
    TovholderChosenV1,
    TreatmentOrderRecordedV1,
)
from services.health import hospital, partner_messages
from services.health.domain import forensic as fx
from services.health.domain import health_check as hc
from services.health.domain.access import Action, Consent, Role, may_pass_on
from services.health.domain.errors import HealthRuleViolation
from services.health.domain.hospital_notices import admission_state
from services.health.domain.medication import (
    ChangeKind,
    ChangeSource,
    FmkReference,
    validate_change,
)
from services.health.domain.medication import MedicationChange as DomainChange
from services.health.domain.tovholder import ContactKind, ExternalContact, choose_tovholder, validate_contact
from services.health.guard import authorize, require_unmatched_queue
from services.health.models import (
    CoercionLogEntry,
    ConsentRecord,
    DepotSchedule,
    DocumentShare,
    DepotVisit,
    HealthCheck,
    HealthCheckDecision,
    HealthRecord,
    HospitalNotice,
    KnownCitizen,
    MedicationAlert,
    MedicationChange,
    MissedDepotVisit,
    NurseConsultant,
    PartnerDocument,
    TimelineEntry,
    TreatmentOrder,
    UnmatchedHospitalNotice,
)
from tovholder.auth import CurrentUser, PartnerUser, Principal
from tovholder.cpr import CprVault, mask, normalize_cpr
from tovholder.errors import Conflict, DomainError, Forbidden, NotFound
from tovholder.inputs import Year
from tovholder.receipts import FatalMessage, receive_message
from tovholder.receipts import RECEIPT_RESPONSES, partner_message_openapi  # the raw-body routes' OpenAPI
from tovholder.scopes import serving_municipality
from tovholder.service import UoW
from tovholder.uow import UnitOfWork

integration = APIRouter(prefix="/integration/v1", tags=["integration"])
staff = APIRouter(prefix="/api/v1", tags=["health"])
visitation = APIRouter(prefix="/api/v1/unmatched-hospital-notices", tags=["unmatched hospital notices"])

def vault_of(request: Request) -> CprVault:
    return request.app.state.ctx.cpr_vault()


def serving_of(request: Request) -> str | None:
    """The municipality this installation serves (unmatched notices belong to it)."""
    return serving_municipality(request.app.state.ctx.settings)


# Found by id, but the caller may not see the citizen's record: the same 404 as for an unknown id.
NO_SUCH_DOCUMENT = "No such partner document."
NO_SUCH_ALERT = "No such medication alert."
NO_SUCH_CHECK = "No such health check."


def rule(fn, *args, **kwargs):
    """Run a domain rule; a broken rule becomes a 422 with the rule's reason."""
    try:
        return fn(*args, **kwargs)
    except HealthRuleViolation as exc:
        raise DomainError(str(exc)) from None


def now_utc() -> datetime:
    return hospital.now_utc()


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise DomainError(f"{field} needs a time zone offset, e.g. 2027-03-10T09:00:00+01:00")
    return value


# ==================================================================== integration (partners)


@integration.post(
    "/hospital-notifications",
    status_code=202,
    summary="A hospital notification (MedCom codes STAA/STIN/STOR/SLOR/SLHJ/MORS, RE_/AN_)",
    responses=RECEIPT_RESPONSES,
    openapi_extra=partner_message_openapi(hospital.HospitalNotification),
)
async def post_hospital_notification(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
    raw = await request.body()
    vault = vault_of(request)

    async def process(uow: UnitOfWork, message: hospital.HospitalNotification) -> dict[str, Any]:
        return await hospital.receive_hospital_notification(uow, message, sender=user, vault=vault)

    return await receive_message(uow, raw, hospital.HospitalNotification, endpoint=hospital.ENDPOINT, sender=user,
                                 process=process)


class PartnerMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: uuid.UUID
    sent_at: datetime
    sender: hospital.Sender
    cpr: str = Field(max_length=20)
    health_check_id: uuid.UUID | None = None


class LabValue(BaseModel):
    test: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=100)
    unit: str | None = Field(default=None, max_length=30)
    reference_range: str | None = Field(default=None, max_length=60)
    flag: Literal["low", "high", "abnormal"] | None = None


class LabResults(PartnerMessage):
    taken_at: datetime
    results: list[LabValue] = Field(default_factory=list, max_length=200)
    measurements: list[LabValue] = Field(default_factory=list, max_length=50)


class PharmacistReview(PartnerMessage):
    reviewed_at: datetime
    summary: str = Field(min_length=1, max_length=10_000)
    recommendations: list[str] = Field(default_factory=list, max_length=100)
    hours_spent: float | None = Field(default=None, ge=0, le=24)


class PsychiatristNotes(PartnerMessage):
    written_at: datetime
    psychiatrist: str = Field(min_length=1, max_length=200)
    notes: str = Field(min_length=1, max_length=20_000)


class PartnerMedicationChange(PartnerMessage):
    fmk_reference: str = Field(max_length=100)
    change_kind: Literal["started", "stopped", "dose-changed", "paused", "other"]
    changed_at: datetime
    note: str | None = Field(default=None, max_length=500)


DOCUMENT_KINDS: dict[type[PartnerMessage], tuple[str, str, str, hc.PreparationStep | None]] = {
    # model: (kind, endpoint, time field, the preparation step it completes)
    LabResults: ("lab-results", "lab-results", "taken_at", hc.PreparationStep.EXAMINATION),
    PharmacistReview: ("pharmacist-review", "pharmacist-reviews", "reviewed_at", hc.PreparationStep.MEDICATION_REVIEW),
    PsychiatristNotes: ("psychiatrist-notes", "psychiatrist-notes", "written_at", None),
}


async def _partner_person(uow: UnitOfWork, message: PartnerMessage, vault: CprVault,
                          ) -> tuple[partner_messages.KnownPerson | None, str]:
    """The citizen the message is about (None: no citizen known to the municipality has this CPR)
    and the CPR's keyed hash. Nothing here may tell the partner which it is."""
    cpr_hash = vault.hash(normalize_cpr(message.cpr))  # InvalidCpr → 422 receipt, never echoing the number
    return await partner_messages.find_citizen(uow, cpr_hash), cpr_hash


def _no_such_check(health_check_id: uuid.UUID) -> FatalMessage:
    return FatalMessage(f"health_check_id {health_check_id} is not a health check for this citizen.", 409)


async def _current_check(uow: UnitOfWork, citizen_id: uuid.UUID, health_check_id: uuid.UUID | None) -> HealthCheck | None:
    if health_check_id is not None:
        check = await uow.session.get(HealthCheck, health_check_id)
        if check is None or check.citizen_id != citizen_id:
            raise _no_such_check(health_check_id)
        return check
    # Without an id: the citizen's next planned check, if any.
    return (await uow.session.execute(
        select(HealthCheck).where(HealthCheck.citizen_id == citizen_id, HealthCheck.status == hc.CheckStatus.PLANNED.value)
        .order_by(HealthCheck.starts_at).limit(1))).scalar_one_or_none()


def _document_route(model: type[PartnerMessage]):
    kind, endpoint, time_field, step = DOCUMENT_KINDS[model]

    async def route(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
        raw = await request.body()
        vault = vault_of(request)

        async def process(uow: UnitOfWork, message: PartnerMessage) -> dict[str, Any]:
            # Every check that needs no citizen comes first: known and unknown CPRs answer alike.
            sent = _aware(getattr(message, time_field), time_field)
            if sent > now_utc() + timedelta(minutes=5):
                raise FatalMessage(f"{time_field} is in the future.")
            person, cpr_hash = await _partner_person(uow, message, vault)
            content = message.model_dump(mode="json", exclude={"cpr", "message_id", "sent_at", "sender", "health_check_id"})
            received_at = now_utc()
            if person is None or person.record is None:
                # No health record, so no health check of it: the same 409 as for another citizen's check.
                if message.health_check_id is not None:
                    raise _no_such_check(message.health_check_id)
                if person is None:
                    partner_messages.park(uow, kind=kind, message_id=message.message_id, sender_org=message.sender.org,
                                          sender_name=message.sender.name, occurred_at=sent, received_at=received_at,
                                          content=content, cpr_hash=cpr_hash, actor=user)
                    return {}
            check = await _current_check(uow, person.citizen_id, message.health_check_id) if person.record else None
            await partner_messages.record_document(
                uow, person, kind=kind, message_id=message.message_id, sender_org=message.sender.org,
                sender_name=message.sender.name, occurred_at=sent, received_at=received_at,
                health_check_id=check.id if check else None, content=content, actor=user)
            if check is not None and step is not None and check.status == hc.CheckStatus.PLANNED.value:
                _complete_step(uow, check, step)
            return {}

        return await receive_message(uow, raw, model, endpoint=endpoint, sender=user, process=process)

    route.__name__ = f"post_{endpoint.replace('-', '_')}"
    return route


for _model, (_kind, _endpoint, _, _) in DOCUMENT_KINDS.items():
    integration.add_api_route(
        f"/{_endpoint}", _document_route(_model), methods=["POST"], status_code=202,
        summary=f"Partner intake: {_kind.replace('-', ' ')} (receipt like the hospital notifications)",
        responses=RECEIPT_RESPONSES, openapi_extra=partner_message_openapi(_model),
    )


@integration.post("/medication-changes", status_code=202, summary="A medication change made in FMK (a reference, not a copy)",
                  responses=RECEIPT_RESPONSES, openapi_extra=partner_message_openapi(PartnerMedicationChange))
async def post_partner_medication_change(request: Request, user: PartnerUser, uow: UoW) -> JSONResponse:
    raw = await request.body()
    vault = vault_of(request)

    async def process(uow: UnitOfWork, message: PartnerMedicationChange) -> dict[str, Any]:
        try:
            change = DomainChange(FmkReference(message.fmk_reference), ChangeKind(message.change_kind),
                                  _aware(message.changed_at, "changed_at"), ChangeSource.PARTNER, message.sender.org, message.note)
            validate_change(change, recorded_at=now_utc() + timedelta(minutes=5))
        except (HealthRuleViolation, DomainError) as exc:
            raise FatalMessage(str(exc)) from None
        person, cpr_hash = await _partner_person(uow, message, vault)
        if person is None:  # accepted like any other, recorded once the citizen is known
            partner_messages.park(uow, kind=partner_messages.MEDICATION_CHANGE, message_id=message.message_id,
                                  sender_org=message.sender.org, sender_name=message.sender.name,
                                  occurred_at=change.changed_at, received_at=now_utc(),
                                  content=partner_messages.medication_change_content(change), cpr_hash=cpr_hash,
                                  actor=user)
            return {}
        await partner_messages.record_medication_change(uow, person, change, actor=user,
                                                        recorded_by=f"partner:{message.sender.org}",
                                                        message_id=message.message_id)
        return {}

    return await receive_message(uow, raw, PartnerMedicationChange, endpoint="medication-changes", sender=user, process=process)


# ==================================================================== partner documents, passed on by consent


def _document_out(d: PartnerDocument) -> dict[str, Any]:
    return {"document_id": str(d.id), "kind": d.kind, "sender_org": d.sender_org, "sender_name": d.sender_name,
            "received_at": d.received_at, "health_check_id": str(d.health_check_id) if d.health_check_id else None,
            "content": d.content}


@staff.get("/citizens/{citizen_id}/partner-documents", summary="The pharmacist's reviews, lab results and psychiatrist's notes")
async def get_partner_documents(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    docs = (await uow.session.execute(select(PartnerDocument).where(PartnerDocument.citizen_id == citizen_id)
                                      .order_by(PartnerDocument.received_at.desc()))).scalars().all()
    uow.audit(user, "partner_document.read", citizen_id=citizen_id, object_type="partner_document")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "documents": [_document_out(d) for d in docs]}


async def _consents(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[Consent]:
    rows = (await uow.session.execute(select(ConsentRecord).where(ConsentRecord.citizen_id == citizen_id))).scalars()
    return [Consent(r.recipient_kind, r.recipient_id, r.category, r.given_at, r.revoked_at) for r in rows]


class ShareBody(BaseModel):
    recipient_org: str = Field(min_length=1, max_length=200)


@staff.post("/partner-documents/{document_id}/share", status_code=201,
            summary="Pass a partner document on to another organisation (only with the citizen's consent)")
async def share_document(document_id: uuid.UUID, body: ShareBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    doc = await uow.session.get(PartnerDocument, document_id)
    if doc is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    await authorize(uow, user, Action.WRITE, doc.citizen_id, not_found=NO_SUCH_DOCUMENT)
    now = now_utc()
    org = body.recipient_org.strip()
    if not may_pass_on(await _consents(uow, doc.citizen_id), org, now):
        uow.audit(user, "partner_document.share_refused", citizen_id=doc.citizen_id, object_type="partner_document",
                  object_id=doc.id, detail={"recipient_org": org})
        await uow.commit()
        raise Forbidden(f"The citizen has not consented to share health information with {org}; "
                        "record the consent in the citizen's plan first.")
    await uow.session.execute(pg_insert(DocumentShare).values(
        id=uuid.uuid4(), document_id=doc.id, citizen_id=doc.citizen_id, recipient_org=org, shared_by=user.sub, shared_at=now,
    ).on_conflict_do_nothing())
    uow.session.add(TimelineEntry(citizen_id=doc.citizen_id, kind=ContactKind.PARTNER_DOCUMENT.value, counterpart=None,
                                  org=org, who=None, what=f"Passed on: {partner_messages.DOCUMENT_WORDS[doc.kind].replace(' received', '')}",
                                  occurred_at=now, recorded_by=user.sub, object_type="partner_document", object_id=str(doc.id)))
    uow.audit(user, "partner_document.share", citizen_id=doc.citizen_id, object_type="partner_document", object_id=doc.id,
              detail={"recipient_org": org, "basis": "consent"})
    await uow.commit()
    return {"document_id": str(doc.id), "recipient_org": org, "shared_at": now}


@integration.get("/shared-documents", summary="Health documents passed on to your organisation (while consent lasts)")
async def get_shared_documents(user: PartnerUser, uow: UoW) -> dict[str, Any]:
    if not user.org:
        raise Forbidden("Your token names no organisation.")
    shares = (await uow.session.execute(select(DocumentShare, PartnerDocument)
                                        .join(PartnerDocument, PartnerDocument.id == DocumentShare.document_id)
                                        .where(DocumentShare.recipient_org == user.org)
                                        .order_by(DocumentShare.shared_at.desc()).limit(500))).all()
    now = now_utc()
    visible = []
    consents_by_citizen: dict[uuid.UUID, list[Consent]] = {}
    for share, doc in shares:
        if doc.citizen_id not in consents_by_citizen:
            consents_by_citizen[doc.citizen_id] = await _consents(uow, doc.citizen_id)
        if may_pass_on(consents_by_citizen[doc.citizen_id], user.org, now):  # a revocation stops re-reading
            visible.append((share, doc))
            uow.audit(user, "partner_document.read_shared", citizen_id=doc.citizen_id, object_type="partner_document",
                      object_id=doc.id)
    await uow.commit()
    return {"documents": [{**_document_out(doc), "citizen_id": str(doc.citizen_id), "shared_at": share.shared_at}
                          for share, doc in visible]}


# ==================================================================== medication


class StaffMedicationChange(BaseModel):
    fmk_reference: str = Field(max_length=100)
    change_kind: Literal["started", "stopped", "dose-changed", "paused", "other"]
    changed_at: datetime
    changed_by_org: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    source: Literal["staff", "health-check"] = "staff"


def _change_out(row: MedicationChange) -> dict[str, Any]:
    return {"change_id": str(row.id), "fmk_reference": row.fmk_reference, "change_kind": row.change_kind,
            "changed_at": row.changed_at, "source": row.source, "changed_by_org": row.changed_by_org,
            "note": row.note, "during_admission": row.during_admission, "recorded_by": row.recorded_by}


@staff.post("/citizens/{citizen_id}/medication-changes", status_code=201, summary="Record a medication change made in FMK")
async def post_medication_change(citizen_id: uuid.UUID, body: StaffMedicationChange, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    change = rule(lambda: validate_change(
        DomainChange(FmkReference(body.fmk_reference), ChangeKind(body.change_kind), _aware(body.changed_at, "changed_at"),
                     ChangeSource(body.source), body.changed_by_org, body.note), recorded_at=now_utc() + timedelta(minutes=1)))
    row = await partner_messages.record_medication_change(
        uow, partner_messages.KnownPerson(record.citizen_id, record), change, actor=user, recorded_by=user.sub)
    await uow.commit()
    return _change_out(row)


@staff.get("/citizens/{citizen_id}/medication-changes", summary="Medication changes (references into FMK)")
async def get_medication_changes(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = (await uow.session.execute(select(MedicationChange).where(MedicationChange.citizen_id == citizen_id)
                                      .order_by(MedicationChange.changed_at.desc()))).scalars()
    alerts = (await uow.session.execute(select(MedicationAlert).where(MedicationAlert.citizen_id == citizen_id)
                                        .order_by(MedicationAlert.raised_at.desc()))).scalars()
    uow.audit(user, "medication_change.read", citizen_id=citizen_id, object_type="medication_change")
    await uow.commit()
    return {"fmk": "The medication itself is on the national medication card (FMK); these are references to changes.",
            "changes": [_change_out(r) for r in rows],
            "alerts": [{"alert_id": str(a.id), "change_id": str(a.change_id), "hospital_episode_ids": a.hospital_episode_ids,
                        "reason": a.reason, "raised_at": a.raised_at, "acknowledged_by": a.acknowledged_by,
                        "acknowledged_at": a.acknowledged_at} for a in alerts]}


@staff.post("/medication-alerts/{alert_id}/acknowledge", summary="The tovholder has looked at the change in FMK")
async def acknowledge_alert(alert_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    alert = await uow.session.get(MedicationAlert, alert_id)
    if alert is None:
        raise NotFound(NO_SUCH_ALERT)
    await authorize(uow, user, Action.WRITE, alert.citizen_id, not_found=NO_SUCH_ALERT)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user.sub, now_utc()
    uow.audit(user, "medication_alert.acknowledge", citizen_id=alert.citizen_id, object_type="medication_alert", object_id=alert.id)
    await uow.commit()
    return {"alert_id": str(alert.id), "acknowledged_by": alert.acknowledged_by, "acknowledged_at": alert.acknowledged_at}


# ==================================================================== record, timeline, tovholder


@staff.get("/citizens/{citizen_id}/health-record", summary="The citizen's health record and admission state")
async def get_health_record(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.READ, citizen_id)
    state = admission_state(await hospital.notice_records(uow, citizen_id))
    uow.audit(user, "health_record.read", citizen_id=citizen_id, object_type="health_record", object_id=record.id)
    await uow.commit()
    return {"health_record_id": str(record.id), "citizen_id": str(record.citizen_id), "botilbud_id": record.botilbud_id,
            "tovholder_sub": record.tovholder_sub, "opened_at": record.opened_at, "gp_practice": record.gp_practice,
            "deceased_at": record.deceased_at,
            "admission": {"state": state.state.value, "open_episodes": list(state.open_episodes), "since": state.since}}


@staff.get("/citizens/{citizen_id}/health-timeline", summary="Every external contact: who, which organisation, what, when")
async def get_timeline(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, limit: int = 200) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = (await uow.session.execute(
        select(TimelineEntry).where(TimelineEntry.citizen_id == citizen_id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.recorded_at.desc()).limit(max(1, min(limit, 1000))))).scalars()
    uow.audit(user, "health_timeline.read", citizen_id=citizen_id, object_type="timeline")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "entries": [
        {"entry_id": str(r.id), "kind": r.kind, "counterpart": r.counterpart, "org": r.org, "who": r.who, "what": r.what,
         "occurred_at": r.occurred_at, "recorded_by": r.recorded_by, "recorded_at": r.recorded_at,
         "object_type": r.object_type, "object_id": r.object_id} for r in rows]}


@staff.get("/citizens/{citizen_id}/hospital-notices", summary="Hospital notices with their history (corrected/cancelled kept)")
async def get_hospital_notices(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = (await uow.session.execute(select(HospitalNotice).where(HospitalNotice.citizen_id == citizen_id)
                                      .order_by(HospitalNotice.received_at))).scalars()
    uow.audit(user, "hospital_notice.read", citizen_id=citizen_id, object_type="hospital_notice")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "notices": [
        {"notice_id": str(r.id), "message_id": str(r.message_id), "action": r.action, "code": r.code, "kind": r.kind,
         "status": r.status, "hospital_episode_id": r.hospital_episode_id, "department": r.department,
         "sender_org": r.sender_org, "sender_name": r.sender_name, "occurred_at": r.occurred_at, "received_at": r.received_at,
         "replaces_notice_id": str(r.replaces_notice_id) if r.replaces_notice_id else None,
         "replaced_by_message_id": str(r.replaced_by_message_id) if r.replaced_by_message_id else None,
         "legal_basis": r.legal_basis} for r in rows]}


class TovholderBody(BaseModel):
    nurse_consultant_sub: str = Field(min_length=1, max_length=200)


@staff.put("/citizens/{citizen_id}/tovholder", summary="The citizen chooses their nurse consultant as tovholder")
async def put_tovholder(citizen_id: uuid.UUID, body: TovholderBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.CHOOSE_TOVHOLDER, citizen_id, lock=True)
    roster = set((await uow.session.execute(
        select(NurseConsultant.sub).where(NurseConsultant.botilbud_id == record.botilbud_id))).scalars())
    choice = rule(choose_tovholder, current_sub=record.tovholder_sub, chosen_sub=body.nurse_consultant_sub,
                  botilbud_id=record.botilbud_id, nurse_consultants_of_botilbud=roster)
    if choice.changed:
        record.tovholder_sub = choice.nurse_consultant_sub
        uow.emit(TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub=choice.nurse_consultant_sub,
                                   botilbud_id=record.botilbud_id, previous_nurse_consultant_sub=choice.previous_sub))
    uow.audit(user, "tovholder.choose", citizen_id=citizen_id, object_type="health_record", object_id=record.id,
              detail={"nurse_consultant_sub": choice.nurse_consultant_sub, "changed": choice.changed,
                      "on_behalf": user.role != Role.CITIZEN})
    await uow.commit()
    return {"citizen_id": str(citizen_id), "tovholder_sub": record.tovholder_sub, "changed": choice.changed}


@staff.get("/botilbud/{botilbud_id}/nurse-consultants", summary="The nurse consultants a citizen can choose among")
async def get_nurse_consultants(botilbud_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    if user.role not in (Role.CITIZEN, Role.COORDINATOR, Role.NURSE_CONSULTANT, Role.ADMIN):
        raise Forbidden("Only the botilbud's citizens and staff see its nurse consultants.")
    if user.role in (Role.COORDINATOR, Role.NURSE_CONSULTANT) and user.botilbud != botilbud_id:
        raise Forbidden("Staff see the nurse consultants of their own botilbud.")
    if user.role == Role.CITIZEN:
        own = (await uow.session.execute(select(HealthRecord.botilbud_id).where(
            HealthRecord.citizen_id == _uuid_or_none(user.sub)))).scalar_one_or_none()
        if own != botilbud_id:
            raise Forbidden("A citizen sees the nurse consultants of their own botilbud.")
    rows = (await uow.session.execute(select(NurseConsultant).where(NurseConsultant.botilbud_id == botilbud_id)
                                      .order_by(NurseConsultant.sub))).scalars().all()
    return {"botilbud_id": botilbud_id, "nurse_consultants": [{"sub": r.sub, "name": r.name} for r in rows]}


@staff.put("/botilbud/{botilbud_id}/nurse-consultants", summary="Set a botilbud's nurse consultants (admin)")
async def put_nurse_consultants(botilbud_id: str, body: list[dict[str, str]], user: CurrentUser, uow: UoW) -> dict[str, Any]:
    if user.role != Role.ADMIN:
        raise Forbidden("Only an administrator maintains the roster of nurse consultants.")
    from sqlalchemy import delete

    subs = [(str(item.get("sub", "")).strip(), item.get("name")) for item in body]
    if any(not sub for sub, _ in subs):
        raise DomainError("every nurse consultant needs a sub")
    await uow.session.execute(delete(NurseConsultant).where(NurseConsultant.botilbud_id == botilbud_id))
    for sub, name in subs:
        await uow.session.execute(pg_insert(NurseConsultant).values(botilbud_id=botilbud_id, sub=sub, name=name).on_conflict_do_nothing())
    uow.audit(user, "nurse_consultant.roster", detail={"botilbud_id": botilbud_id, "count": len(subs)})
    await uow.commit()
    return {"botilbud_id": botilbud_id, "nurse_consultants": [{"sub": s, "name": n} for s, n in subs]}


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class ContactBody(BaseModel):
    kind: Literal["phone", "meeting", "letter", "court", "other"] = "phone"
    counterpart: str = Field(min_length=1, max_length=50)
    org: str = Field(min_length=1, max_length=200)
    who: str | None = Field(default=None, max_length=200)
    what: str = Field(min_length=1, max_length=500)
    occurred_at: datetime


@staff.post("/citizens/{citizen_id}/external-contacts", status_code=201, summary="Record an external contact on the timeline")
async def post_contact(citizen_id: uuid.UUID, body: ContactBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    contact = rule(validate_contact, ExternalContact(ContactKind(body.kind), body.counterpart, body.org, body.who, body.what,
                                                     _aware(body.occurred_at, "occurred_at"), user.sub),
                   recorded_at=now_utc() + timedelta(minutes=1))
    entry = TimelineEntry(id=uuid.uuid4(), citizen_id=citizen_id, kind=contact.kind.value, counterpart=contact.counterpart,
                          org=contact.org, who=contact.who, what=contact.what, occurred_at=contact.occurred_at,
                          recorded_by=user.sub, object_type="external_contact")
    uow.session.add(entry)
    uow.emit(ExternalContactRecordedV1(citizen_id=citizen_id, contact_id=entry.id, kind=contact.kind.value,
                                       counterpart=contact.counterpart, occurred_at=contact.occurred_at))
    uow.audit(user, "external_contact.record", citizen_id=citizen_id, object_type="timeline_entry", object_id=entry.id)
    await uow.commit()
    return {"entry_id": str(entry.id)}


class GpPracticeBody(BaseModel):
    gp_practice: str = Field(min_length=1, max_length=200)


@staff.put("/citizens/{citizen_id}/gp-practice", summary="The citizen's GP practice (lægehus): check days group by it")
async def put_gp_practice(citizen_id: uuid.UUID, body: GpPracticeBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    record.gp_practice = body.gp_practice.strip()
    uow.audit(user, "health_record.gp_practice", citizen_id=citizen_id, object_type="health_record", object_id=record.id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "gp_practice": record.gp_practice}


# ==================================================================== the annual health check


class ScheduleBody(BaseModel):
    starts_at: datetime
    gp_practice: str | None = Field(default=None, max_length=200)


def _check_out(check: HealthCheck, decisions: list[HealthCheckDecision] | None = None, today: date | None = None) -> dict[str, Any]:
    domain = _domain_check(check)
    readiness = hc.readiness(domain, today or now_utc().astimezone(hc.DANISH_TIME).date())
    deadlines = {d.step: d for d in hc.preparation_deadlines(domain.check_day)}
    out = {
        "health_check_id": str(check.id), "citizen_id": str(check.citizen_id), "year": check.year, "extended": check.extended,
        "starts_at": check.starts_at, "gp_practice": check.gp_practice, "status": check.status,
        "steps": [{"step": s.value, "status": readiness[s].value, "target": deadlines[s].target,
                   "deadline": deadlines[s].deadline, "role": deadlines[s].role} for s in hc.PreparationStep],
        "pre_assessment": check.pre_assessment, "examination": check.examination, "participants": check.participants,
        "minutes": check.minutes, "declined_at": check.declined_at, "decline_reason": check.decline_reason,
        "held_at": check.held_at, "pre_assessment_question": hc.THE_QUESTION,
    }
    if decisions is not None:
        out["decisions"] = [{"decision_id": str(d.id), "kind": d.kind, "title": d.title, "due_at": d.due_at,
                             "responsible_sub": d.responsible_sub, "reminders_at": d.reminders_at} for d in decisions]
    return out


def _domain_check(check: HealthCheck) -> hc.HealthCheck:
    return hc.HealthCheck(str(check.citizen_id), check.year, check.starts_at.astimezone(hc.DANISH_TIME).date(),
                          check.extended, hc.CheckStatus(check.status), frozenset(hc.PreparationStep(s) for s in check.steps_done),
                          check.decline_reason)


def _announce(uow: UnitOfWork, check: HealthCheck, record: HealthRecord, *, only_steps_not_done: bool = False) -> None:
    """The check is on: its date with reminders, and each preparation step with its deadline."""
    deadlines = hc.preparation_deadlines(check.starts_at.astimezone(hc.DANISH_TIME).date())
    by_step = {d.step: d for d in deadlines}
    uow.emit(HealthCheckScheduledV1(
        citizen_id=record.citizen_id, health_check_id=check.id, year=check.year, extended=check.extended,
        starts_at=check.starts_at, gp_practice=check.gp_practice,
        pre_assessment_due=by_step[hc.PreparationStep.PRE_ASSESSMENT].target,
        preparation_due=by_step[hc.PreparationStep.MEDICATION_REVIEW].target,
        reminders_at=list(hc.reminders_before(check.starts_at)), tovholder_sub=record.tovholder_sub,
        botilbud_id=record.botilbud_id,
    ))
    for d in deadlines:
        if only_steps_not_done and d.step.value in check.steps_done:
            continue
        uow.emit(HealthCheckStepDueV1(
            citizen_id=record.citizen_id, health_check_id=check.id, step=d.step.value, target=d.target, deadline=d.deadline,
            assignee_role=d.role, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id,
        ))


async def schedule_check(uow: UnitOfWork, record: HealthRecord, starts_at: datetime, gp_practice: str | None,
                         *, actor: Principal) -> HealthCheck:
    starts_at = _aware(starts_at, "starts_at")
    check_day = starts_at.astimezone(hc.DANISH_TIME).date()
    rule(hc.check_day_is_reachable, check_day, now_utc().astimezone(hc.DANISH_TIME).date())
    existing = (await uow.session.execute(select(HealthCheck).where(
        HealthCheck.citizen_id == record.citizen_id, HealthCheck.year == check_day.year))).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"The citizen already has a health check in {check_day.year} ({existing.status}); "
                       "there is one check a year.")
    extended_years = list((await uow.session.execute(select(HealthCheck.year).where(
        HealthCheck.citizen_id == record.citizen_id, HealthCheck.extended.is_(True),
        HealthCheck.status != hc.CheckStatus.DECLINED.value))).scalars())
    check = HealthCheck(id=uuid.uuid4(), citizen_id=record.citizen_id, year=check_day.year,
                        extended=hc.is_extended(check_day.year, extended_years), starts_at=starts_at,
                        gp_practice=(gp_practice or record.gp_practice), status=hc.CheckStatus.PLANNED.value,
                        steps_done=[], scheduled_by=actor.sub)
    uow.session.add(check)
    _announce(uow, check, record)
    uow.audit(actor, "health_check.schedule", citizen_id=record.citizen_id, object_type="health_check", object_id=check.id,
              detail={"extended": check.extended})
    return check


@staff.post("/citizens/{citizen_id}/health-checks", status_code=201, summary="Schedule the year's health check (sundhedstjek)")
async def post_health_check(citizen_id: uuid.UUID, body: ScheduleBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.HEALTH_CHECK_MINUTES, citizen_id, lock=True)
    check = await schedule_check(uow, record, body.starts_at, body.gp_practice, actor=user)
    await uow.commit()
    return _check_out(check)


@staff.get("/citizens/{citizen_id}/health-checks", summary="The citizen's health checks, newest first")
async def get_health_checks(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    checks = list((await uow.session.execute(select(HealthCheck).where(HealthCheck.citizen_id == citizen_id)
                                             .order_by(HealthCheck.year.desc()))).scalars())
    uow.audit(user, "health_check.read", citizen_id=citizen_id, object_type="health_check")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "health_checks": [_check_out(c) for c in checks]}


async def _check_for(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID, action: Action) -> tuple[HealthCheck, HealthRecord]:
    check = await uow.session.get(HealthCheck, health_check_id, with_for_update=True)
    if check is None:
        raise NotFound(NO_SUCH_CHECK)
    record = await authorize(uow, user, action, check.citizen_id, not_found=NO_SUCH_CHECK)
    return check, record


@staff.get("/health-checks/{health_check_id}", summary="One health check with deadlines, pre-assessment and decisions")
async def get_health_check(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.READ)
    decisions = list((await uow.session.execute(select(HealthCheckDecision).where(
        HealthCheckDecision.health_check_id == check.id))).scalars())
    uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check, decisions)


def _complete_step(uow: UnitOfWork, check: HealthCheck, step: hc.PreparationStep) -> None:
    rule(hc.complete_step, _domain_check(check), step)
    if step.value not in check.steps_done:
        check.steps_done = [*check.steps_done, step.value]
        uow.emit(HealthCheckStepCompletedV1(citizen_id=check.citizen_id, health_check_id=check.id, step=step.value,
                                            completed_at=now_utc()))


class ThemeBody(BaseModel):
    theme: Literal["teeth", "diet", "exercise", "sleep", "dependence", "pain", "nada"]
    citizens_words: str = Field(max_length=2000)
    symptom_score: int | None = None


class PreAssessmentBody(BaseModel):
    answers: list[ThemeBody] = Field(default_factory=list, max_length=7)
    wants_to_talk_about: str = Field(default="", max_length=2000)
    done_on: date
    setting: str | None = Field(default=None, max_length=200)


@staff.post("/health-checks/{health_check_id}/pre-assessment", summary="The pre-assessment, in the citizen's own words")
async def post_pre_assessment(health_check_id: uuid.UUID, body: PreAssessmentBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    pre = rule(hc.validate_pre_assessment, hc.PreAssessment(
        tuple(hc.ThemeAnswer(hc.PreAssessmentTheme(a.theme), a.citizens_words, a.symptom_score) for a in body.answers),
        body.wants_to_talk_about, body.done_on, user.sub, body.setting))
    check.pre_assessment = {**body.model_dump(mode="json"), "done_by": user.sub,
                            "themes_not_covered": [t.value for t in pre.themes_not_covered]}
    _complete_step(uow, check, hc.PreparationStep.PRE_ASSESSMENT)
    uow.audit(user, "health_check.pre_assessment", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


class ExaminationBody(BaseModel):
    done_on: date
    where: Literal["own-gp", "mobile-lab"]
    blood_tests: list[Literal["red-blood-count", "white-blood-count", "liver", "fluid", "b12", "vitamin-d", "cholesterol", "thyroid"]] = Field(default_factory=list)
    measurements: list[Literal["height", "weight", "waist", "blood-pressure", "pulse", "ecg", "spirometry"]] = Field(default_factory=list)


@staff.post("/health-checks/{health_check_id}/examination", summary="The examination/labs were done (results come from the lab)")
async def post_examination(health_check_id: uuid.UUID, body: ExaminationBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    missing_tests, missing_measurements = hc.missing_examination_items(
        [hc.BloodTest(t) for t in body.blood_tests], [hc.Measurement(m) for m in body.measurements])
    check.examination = {**body.model_dump(mode="json"), "recorded_by": user.sub,
                         "missing_blood_tests": [t.value for t in missing_tests],
                         "missing_measurements": [m.value for m in missing_measurements]}
    _complete_step(uow, check, hc.PreparationStep.EXAMINATION)
    uow.audit(user, "health_check.examination", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


@staff.post("/health-checks/{health_check_id}/steps/{step}/complete", summary="Mark a preparation step done (e.g. reconciliation)")
async def post_step_done(health_check_id: uuid.UUID, step: Literal["pre-assessment", "examination", "medication-reconciliation", "medication-review"],
                         user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    _complete_step(uow, check, hc.PreparationStep(step))
    uow.audit(user, f"health_check.step.{step}", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


class DeclineBody(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


@staff.post("/health-checks/{health_check_id}/decline", summary="The citizen declines (voluntary; no reason needed)")
async def post_decline(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW, body: DeclineBody | None = None) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    declined = rule(hc.decline, _domain_check(check), reason=body.reason if body else None)
    if check.status != hc.CheckStatus.DECLINED.value:
        check.status, check.decline_reason, check.declined_at = declined.status.value, declined.decline_reason, now_utc()
        uow.emit(HealthCheckDeclinedV1(citizen_id=check.citizen_id, health_check_id=check.id, declined_at=check.declined_at))
    uow.audit(user, "health_check.decline", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


@staff.post("/health-checks/{health_check_id}/accept", summary="The citizen changed their mind and wants the check after all")
async def post_accept(health_check_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    if check.status == hc.CheckStatus.DECLINED.value:
        rule(hc.accept_again, _domain_check(check), now_utc().astimezone(hc.DANISH_TIME).date())
        check.status, check.declined_at, check.decline_reason = hc.CheckStatus.PLANNED.value, None, None
        _announce(uow, check, record, only_steps_not_done=True)
    uow.audit(user, "health_check.accept", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


class ParticipantBody(BaseModel):
    role: Literal["citizen", "staff", "minute-taker", "gp", "psychiatrist", "pharmacist", "forensic-nurse"]
    name: str = Field(min_length=1, max_length=200)
    org: str | None = Field(default=None, max_length=200)
    sub: str | None = Field(default=None, max_length=200)


class DecisionBody(BaseModel):
    kind: Literal["reduce-dose", "stop-drug", "start-drug", "book-examination", "watch-symptom", "lifestyle", "other"]
    title: str = Field(max_length=200)
    due_at: datetime | None = None
    responsible_sub: str | None = Field(default=None, max_length=200)
    citizen_wants_reminders: bool = True


class HeldBody(BaseModel):
    held_at: datetime
    participants: list[ParticipantBody] = Field(min_length=1, max_length=20)
    minutes: str = Field(default="", max_length=20_000)
    decisions: list[DecisionBody] = Field(default_factory=list, max_length=50)


@staff.post("/health-checks/{health_check_id}/held", summary="The check was held: participants, minutes and decisions")
async def post_held(health_check_id: uuid.UUID, body: HeldBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.HEALTH_CHECK_MINUTES)
    held_at = _aware(body.held_at, "held_at")
    participants = [hc.Participant(hc.ParticipantRole(p.role), p.name, p.org, p.sub) for p in body.participants]
    rule(hc.hold, _domain_check(check), participants, held_at.astimezone(hc.DANISH_TIME).date())
    outcomes = [rule(hc.outcome_of, hc.Decision(hc.DecisionKind(d.kind), d.title.strip(),
                                                _aware(d.due_at, "due_at") if d.due_at else None,
                                                d.responsible_sub, d.citizen_wants_reminders), held_at=held_at)
                for d in body.decisions]
    check.status, check.held_at = hc.CheckStatus.HELD.value, held_at
    check.participants = [p.model_dump() for p in body.participants]
    check.minutes = body.minutes
    decisions = []
    for outcome in outcomes:
        d = outcome.decision
        row = HealthCheckDecision(id=uuid.uuid4(), health_check_id=check.id, citizen_id=check.citizen_id, kind=d.kind.value,
                                  title=d.title, due_at=d.due_at, responsible_sub=d.responsible_sub or record.tovholder_sub,
                                  reminders_at=[r.isoformat() for r in outcome.reminders])
        uow.session.add(row)
        decisions.append(row)
        uow.emit(HealthCheckDecisionRecordedV1(
            citizen_id=check.citizen_id, decision_id=row.id, health_check_id=check.id, kind=row.kind, title=row.title,
            due_at=row.due_at, reminders_at=list(outcome.reminders), responsible_sub=row.responsible_sub,
            plan_update=outcome.plan_update, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    uow.emit(HealthCheckHeldV1(citizen_id=check.citizen_id, health_check_id=check.id, held_at=held_at,
                               participant_roles=sorted({p.role for p in body.participants}), decisions=len(decisions),
                               tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    uow.session.add(TimelineEntry(
        citizen_id=check.citizen_id, kind=ContactKind.HEALTH_CHECK.value, counterpart="gp",
        org=check.gp_practice, who=", ".join(f"{p.name} ({p.role})" for p in body.participants if p.role != "citizen")[:200],
        what=f"Annual health check held{' (extended)' if check.extended else ''}: {len(decisions)} decision(s)",
        occurred_at=held_at, recorded_by=user.sub, object_type="health_check", object_id=str(check.id)))
    uow.audit(user, "health_check.held", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
              detail={"decisions": len(decisions)})
    await uow.commit()
    return _check_out(check, decisions)


@staff.get("/botilbud/{botilbud_id}/health-checks", summary="The botilbud's årshjul: every check of a year with its readiness")
async def get_botilbud_health_checks(botilbud_id: str, user: CurrentUser, uow: UoW, year: Year | None = None) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("The botilbud's own nurse consultants and coordinators see its health checks.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    year = year or today.year
    rows = (await uow.session.execute(
        select(HealthCheck).join(HealthRecord, HealthRecord.citizen_id == HealthCheck.citizen_id)
        .where(HealthRecord.botilbud_id == botilbud_id, HealthCheck.year == year)
        .order_by(HealthCheck.starts_at))).scalars().all()
    for check in rows:
        uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
                  detail={"via": "botilbud overview"})
    await uow.commit()
    overview = []
    for check in rows:
        out = _check_out(check, today=today)
        overview.append({k: out[k] for k in ("health_check_id", "citizen_id", "year", "extended", "starts_at",
                                              "gp_practice", "status", "steps")})
    late = sum(1 for c in overview for s in c["steps"] if s["status"] == "late")
    return {"botilbud_id": botilbud_id, "year": year, "health_checks": overview, "late_steps": late}


class PlanDaysBody(BaseModel):
    days: list[date] = Field(min_length=1, max_length=60)
    slot_minutes: int = 15
    per_day: int = hc.MAX_CHECKS_PER_DAY
    first_slot: time = time(9, 0)
    one_practice_per_day: bool = False
    schedule: bool = False  # also schedule the planned checks (else: a proposal only)


@staff.post("/botilbud/{botilbud_id}/health-check-days", summary="Plan check days: same GP practice on the same day, 8–10 a day")
async def post_plan_days(botilbud_id: str, body: PlanDaysBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("The botilbud's own nurse consultants and coordinators plan its check days.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    for day in body.days:
        rule(hc.check_day_is_reachable, day, today)
    records = list((await uow.session.execute(select(HealthRecord).where(
        HealthRecord.botilbud_id == botilbud_id, HealthRecord.deceased_at.is_(None)))).scalars())
    years = {d.year for d in body.days}
    existing = {(c.citizen_id, c.year): c for c in (await uow.session.execute(select(HealthCheck).where(
        HealthCheck.citizen_id.in_([r.citizen_id for r in records]), HealthCheck.year.in_(years)))).scalars()}
    year = min(years)
    to_plan = [hc.CitizenToPlan(str(r.citizen_id), r.gp_practice or "unknown GP practice",
                                declined=(r.citizen_id, year) in existing and existing[(r.citizen_id, year)].status == "declined")
               for r in records if (r.citizen_id, year) not in existing or existing[(r.citizen_id, year)].status == "declined"]
    plan = rule(hc.plan_check_days, to_plan, body.days, slot_minutes=body.slot_minutes, per_day=body.per_day,
                first_slot=body.first_slot, one_practice_per_day=body.one_practice_per_day)
    by_id = {str(r.citizen_id): r for r in records}
    scheduled = []
    if body.schedule:
        for day in plan.days:
            for slot in day.slots:
                check = await schedule_check(uow, by_id[slot.citizen_id], slot.starts_at, slot.gp_practice, actor=user)
                scheduled.append(str(check.id))
    uow.audit(user, "health_check.plan_days", detail={"botilbud_id": botilbud_id, "scheduled": len(scheduled)})
    await uow.commit()
    return {"botilbud_id": botilbud_id, "days": [
        {"day": d.day, "gp_practices": list(d.gp_practices), "slots": [
            {"citizen_id": s.citizen_id, "gp_practice": s.gp_practice, "starts_at": s.starts_at, "ends_at": s.ends_at}
            for s in d.slots]} for d in plan.days],
        "not_planned": list(plan.not_planned), "declined": list(plan.declined), "scheduled_health_check_ids": scheduled}


# ==================================================================== forensic psychiatry


class TreatmentOrderBody(BaseModel):
    court: str = Field(max_length=200)
    judgment_date: date
    conditions: list[str] = Field(max_length=30)
    valid_until: date | None = None
    forensic_team_org: str | None = Field(default=None, max_length=200)


@staff.put("/citizens/{citizen_id}/treatment-order", summary="Record the behandlingsdom and its conditions")
async def put_treatment_order(citizen_id: uuid.UUID, body: TreatmentOrderBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id, lock=True)
    order = rule(fx.validate_treatment_order, fx.TreatmentOrder(
        body.court.strip(), body.judgment_date, tuple(c.strip() for c in body.conditions), body.valid_until, body.forensic_team_org))
    previous = list((await uow.session.execute(select(TreatmentOrder).where(
        TreatmentOrder.citizen_id == citizen_id, TreatmentOrder.current.is_(True)))).scalars())
    for old in previous:
        old.current = False  # kept as history
    row = TreatmentOrder(id=uuid.uuid4(), citizen_id=citizen_id, court=order.court, judgment_date=order.judgment_date,
                         valid_until=order.valid_until, conditions=list(order.conditions),
                         forensic_team_org=order.forensic_team_org, current=True, recorded_by=user.sub)
    uow.session.add(row)
    uow.emit(TreatmentOrderRecordedV1(citizen_id=citizen_id, treatment_order_id=row.id, judgment_date=row.judgment_date,
                                      valid_until=row.valid_until, conditions_count=len(row.conditions)))
    uow.audit(user, "treatment_order.record", citizen_id=citizen_id, object_type="treatment_order", object_id=row.id)
    await uow.commit()
    return {"treatment_order_id": str(row.id), "conditions": row.conditions}


class DepotScheduleBody(BaseModel):
    weekday: int = Field(ge=0, le=6)
    at: time
    starts_on: date
    ends_on: date | None = None
    interval_weeks: int = 1
    grace_minutes: int = 240
    forensic_team_org: str | None = Field(default=None, max_length=200)


@staff.post("/citizens/{citizen_id}/depot-schedules", status_code=201, summary="Weekly depot-medication visits by forensic nurses")
async def post_depot_schedule(citizen_id: uuid.UUID, body: DepotScheduleBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    rule(fx.DepotSchedule, body.weekday, body.at, body.starts_on, body.ends_on, timedelta(minutes=body.grace_minutes),
         body.interval_weeks)
    row = DepotSchedule(id=uuid.uuid4(), citizen_id=citizen_id, weekday=body.weekday, at=body.at, starts_on=body.starts_on,
                        ends_on=body.ends_on, interval_weeks=body.interval_weeks, grace_minutes=body.grace_minutes,
                        forensic_team_org=body.forensic_team_org)
    uow.session.add(row)
    uow.audit(user, "depot_schedule.create", citizen_id=citizen_id, object_type="depot_schedule", object_id=row.id)
    await uow.commit()
    return {"schedule_id": str(row.id)}


class DepotVisitBody(BaseModel):
    schedule_id: uuid.UUID
    visited_at: datetime
    outcome: Literal["given", "refused", "not-met"]


@staff.post("/citizens/{citizen_id}/depot-visits", status_code=201, summary="Record a depot-medication visit")
async def post_depot_visit(citizen_id: uuid.UUID, body: DepotVisitBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    schedule = await uow.session.get(DepotSchedule, body.schedule_id)
    if schedule is None or schedule.citizen_id != citizen_id:
        raise NotFound("No such depot schedule for this citizen.")
    visited_at = _aware(body.visited_at, "visited_at")
    if visited_at > now_utc() + timedelta(minutes=5):
        raise DomainError("visited_at is in the future; record a visit once it has happened")
    row = DepotVisit(id=uuid.uuid4(), schedule_id=schedule.id, citizen_id=citizen_id, visited_at=visited_at,
                     outcome=body.outcome, recorded_by=user.sub)
    uow.session.add(row)
    uow.session.add(TimelineEntry(citizen_id=citizen_id, kind=ContactKind.DEPOT_VISIT.value, counterpart="forensic-psychiatry",
                                  org=schedule.forensic_team_org, who=None, what=f"Depot-medication visit: {body.outcome}",
                                  occurred_at=visited_at, recorded_by=user.sub, object_type="depot_visit", object_id=str(row.id)))
    uow.audit(user, "depot_visit.record", citizen_id=citizen_id, object_type="depot_visit", object_id=row.id)
    await uow.commit()
    return {"visit_id": str(row.id)}


class CoercionBody(BaseModel):
    considered_at: datetime
    measure: Literal["compulsory-admission", "activate-treatment-order", "forced-medication", "other"]
    situation: str = Field(max_length=5000)
    least_intrusive_alternative: str = Field(max_length=5000)
    decision: Literal["not-used", "referred", "used"]
    decided_by_sub: str | None = Field(default=None, max_length=200)
    decided_by_role: str | None = Field(default=None, max_length=50)
    participants: list[str] = Field(default_factory=list, max_length=20)
    citizen_informed: bool = False


@staff.post("/citizens/{citizen_id}/coercion-log", status_code=201, summary="Coercion was considered: decision, least intrusive alternative, by whom")
async def post_coercion(citizen_id: uuid.UUID, body: CoercionBody, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    has_order = (await uow.session.execute(select(func.count()).select_from(TreatmentOrder).where(
        TreatmentOrder.citizen_id == citizen_id, TreatmentOrder.current.is_(True)))).scalar_one() > 0
    entry = rule(fx.validate_coercion_entry, fx.CoercionConsidered(
        _aware(body.considered_at, "considered_at"), fx.CoercionMeasure(body.measure), body.situation,
        body.least_intrusive_alternative, fx.CoercionDecision(body.decision), body.decided_by_sub or user.sub,
        body.decided_by_role or user.role, tuple(body.participants), body.citizen_informed),
        recorded_at=now_utc() + timedelta(minutes=1), has_treatment_order=has_order)
    row = CoercionLogEntry(id=uuid.uuid4(), citizen_id=citizen_id, considered_at=entry.considered_at, measure=entry.measure.value,
                           situation=entry.situation, least_intrusive_alternative=entry.least_intrusive_alternative,
                           decision=entry.decision.value, decided_by_sub=entry.decided_by_sub, decided_by_role=entry.decided_by_role,
                           participants=list(entry.participants), citizen_informed=entry.citizen_informed, recorded_by=user.sub)
    uow.session.add(row)
    uow.emit(CoercionConsideredV1(citizen_id=citizen_id, entry_id=row.id, measure=row.measure, decision=row.decision,
                                  considered_at=row.considered_at, decided_by_sub=row.decided_by_sub,
                                  tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    uow.audit(user, "coercion_log.record", citizen_id=citizen_id, object_type="coercion_log_entry", object_id=row.id)
    await uow.commit()
    return {"entry_id": str(row.id)}


@staff.get("/citizens/{citizen_id}/forensic", summary="Behandlingsdom, depot schedule and visits, missed visits, coercion log")
async def get_forensic(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    s = uow.session
    orders = (await s.execute(select(TreatmentOrder).where(TreatmentOrder.citizen_id == citizen_id)
                              .order_by(TreatmentOrder.recorded_at.desc()))).scalars().all()
    schedules = (await s.execute(select(DepotSchedule).where(DepotSchedule.citizen_id == citizen_id))).scalars().all()
    visits = (await s.execute(select(DepotVisit).where(DepotVisit.citizen_id == citizen_id)
                              .order_by(DepotVisit.visited_at.desc()).limit(100))).scalars().all()
    missed = (await s.execute(select(MissedDepotVisit).where(MissedDepotVisit.citizen_id == citizen_id)
                              .order_by(MissedDepotVisit.scheduled_for.desc()).limit(100))).scalars().all()
    log = (await s.execute(select(CoercionLogEntry).where(CoercionLogEntry.citizen_id == citizen_id)
                           .order_by(CoercionLogEntry.considered_at.desc()))).scalars().all()
    uow.audit(user, "forensic.read", citizen_id=citizen_id, object_type="forensic")
    await uow.commit()
    return {
        "treatment_orders": [{"treatment_order_id": str(o.id), "court": o.court, "judgment_date": o.judgment_date,
                              "valid_until": o.valid_until, "conditions": o.conditions, "current": o.current,
                              "forensic_team_org": o.forensic_team_org} for o in orders],
        "depot_schedules": [{"schedule_id": str(x.id), "weekday": x.weekday, "at": x.at, "starts_on": x.starts_on,
                             "ends_on": x.ends_on, "interval_weeks": x.interval_weeks, "grace_minutes": x.grace_minutes}
                            for x in schedules],
        "depot_visits": [{"visit_id": str(v.id), "schedule_id": str(v.schedule_id), "visited_at": v.visited_at,
                          "outcome": v.outcome} for v in visits],
        "missed_depot_visits": [{"schedule_id": str(m.schedule_id), "scheduled_for": m.scheduled_for, "reason": m.reason}
                                for m in missed],
        "coercion_log": [{"entry_id": str(e.id), "considered_at": e.considered_at, "measure": e.measure,
                          "situation": e.situation, "least_intrusive_alternative": e.least_intrusive_alternative,
                          "decision": e.decision, "decided_by_sub": e.decided_by_sub, "decided_by_role": e.decided_by_role,
                          "participants": e.participants, "citizen_informed": e.citizen_informed} for e in log],
    }


# ==================================================================== unmatched notices (visitation)


def _parked_out(row: UnmatchedHospitalNotice, vault: CprVault, *, reveal: bool = False) -> dict[str, Any]:
    cpr = vault.decrypt(row.cpr_encrypted) if row.cpr_encrypted else None
    return {"unmatched_id": str(row.id), "message_id": str(row.message_id), "code": row.code,
            "cpr": (cpr if reveal else mask(cpr)) if cpr else None,
            "hospital_episode_id": row.hospital_episode_id, "department": row.department, "sender_org": row.sender_org,
            "sender_name": row.sender_name, "occurred_at": row.occurred_at, "received_at": row.received_at,
            "replaces_message_id": str(row.replaces_message_id) if row.replaces_message_id else None,
            "legal_basis": row.legal_basis, "status": row.status, "resolution": row.resolution,
            "matched_citizen_id": str(row.matched_citizen_id) if row.matched_citizen_id else None,
            "resolved_by": row.resolved_by, "resolved_at": row.resolved_at}


@visitation.get("", summary="Hospital notices whose CPR matched no known citizen (CPR masked)")
async def get_unmatched(request: Request, user: CurrentUser, uow: UoW, status: str = "open") -> dict[str, Any]:
    require_unmatched_queue(user, serving_of(request))
    rows = (await uow.session.execute(select(UnmatchedHospitalNotice).where(UnmatchedHospitalNotice.status == status)
                                      .order_by(UnmatchedHospitalNotice.received_at).limit(500))).scalars().all()
    uow.audit(user, "unmatched_hospital_notice.list", object_type="unmatched_hospital_notice", detail={"count": len(rows)})
    await uow.commit()
    vault = vault_of(request)
    return {"notices": [_parked_out(r, vault) for r in rows]}


@visitation.get("/{unmatched_id}", summary="One unmatched notice with the full CPR (audited)")
async def get_one_unmatched(unmatched_id: uuid.UUID, request: Request, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    require_unmatched_queue(user, serving_of(request))
    row = await uow.session.get(UnmatchedHospitalNotice, unmatched_id)
    if row is None:
        raise NotFound("No such unmatched notice.")
    uow.audit(user, "unmatched_hospital_notice.read_cpr", object_type="unmatched_hospital_notice", object_id=row.id)
    await uow.commit()
    return _parked_out(row, vault_of(request), reveal=True)


class MatchBody(BaseModel):
    citizen_id: uuid.UUID


@visitation.post("/{unmatched_id}/match", summary="Attach the notice (and the others for the same CPR) to a known citizen")
async def post_match(unmatched_id: uuid.UUID, body: MatchBody, request: Request, user: CurrentUser,
                     uow: UoW) -> dict[str, Any]:
    require_unmatched_queue(user, serving_of(request))
    row = await uow.session.get(UnmatchedHospitalNotice, unmatched_id)
    if row is None:
        raise NotFound("No such unmatched notice.")
    if row.status != "open":
        raise Conflict(f"This notice is already {row.status}.")
    citizen = (await uow.session.execute(select(KnownCitizen).where(KnownCitizen.citizen_id == body.citizen_id)
                                         .with_for_update())).scalar_one_or_none()
    if citizen is None:
        raise DomainError("No citizen with this id is known to the municipality; register the citizen in referrals first.")
    await hospital.lock_cpr(uow, row.cpr_hash)
    matched, rejected = await hospital.match_parked(uow, citizen.citizen_id, row.cpr_hash, actor=user)
    await uow.commit()
    return {"matched": matched, "rejected": rejected, "citizen_id": str(citizen.citizen_id)}


@visitation.post("/{unmatched_id}/dismiss", summary="Not a citizen of this municipality: close it (the CPR is wiped)")
async def post_dismiss(unmatched_id: uuid.UUID, request: Request, user: CurrentUser, uow: UoW,
                       body: DeclineBody | None = None) -> dict[str, Any]:
    require_unmatched_queue(user, serving_of(request))
    row = await uow.session.get(UnmatchedHospitalNotice, unmatched_id, with_for_update=True)
    if row is None:
        raise NotFound("No such unmatched notice.")
    if row.status != "open":
        raise Conflict(f"This notice is already {row.status}.")
    row.status, row.resolution = "dismissed", (body.reason if body else None)
    row.resolved_by, row.resolved_at, row.cpr_encrypted = user.sub, now_utc(), ""
    uow.emit(hospital.unparked(row))
    uow.audit(user, "unmatched_hospital_notice.dismiss", object_type="unmatched_hospital_notice", object_id=row.id)
    await uow.commit()
    return {"unmatched_id": str(row.id), "status": row.status}


routers = [integration, staff, visitation]
