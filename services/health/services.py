"""Health's use cases: one async function each, over a unit of work.

Each authorises (``authorize`` applies ``domain.access.may`` and audits a refusal), loads through
``repository``, asks ``domain``, saves, emits, audits and commits. The HTTP routes (``api``), the
event handlers (``handlers``) and the background jobs (``jobs``) call these functions, never each
other. Functions named ``*_effect`` run inside another flow (the kit's receipt flow, an event
handler's transaction) and leave the commit to it.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, TypeVar

from fastapi import Response
from fastapi.responses import JSONResponse

from contracts.health import (
    CoercionConsideredV1,
    DepotVisitMissedV1,
    ExternalContactRecordedV1,
    HealthCheckCancelledV1,
    HealthCheckDecisionRecordedV1,
    HealthCheckDeclinedV1,
    HealthCheckHeldV1,
    HealthCheckPlanEntryProposedV1,
    HealthCheckScheduledV1,
    HealthCheckStepCompletedV1,
    HealthCheckStepDueV1,
    HealthRecordOpenedV1,
    HospitalNoticeCancelledV1,
    HospitalNoticeCorrectedV1,
    HospitalNoticeParkedV1,
    HospitalNoticeRegisteredV1,
    HospitalNoticeUnparkedV1,
    MedicationAlertAcknowledgedV1,
    MedicationAlertRaisedV1,
    MedicationChangedV1,
    PartnerDocumentReceivedV1,
    TovholderChosenV1,
    TreatmentOrderRecordedV1,
)
from contracts.plans import ConsentGivenV1, ConsentRevokedV1, NetworkMemberAddedV1, NetworkMemberRemovedV1
from contracts.referrals import CitizenRegisteredV1, PlacementStartedV1, VisitationDecidedV1
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain import forensic as fx
from services.health.domain import health_check as hc
from services.health.domain.access import Action, Actor, Role, knows_of, may, may_pass_on, reads_health_data, why_not
from services.health.domain.errors import HealthRuleViolation, NoticeConflict, NoticeInvalid
from services.health.domain.hospital_notices import (
    LEGAL_BASIS,
    OTHER_PERSON,
    IncomingNotice,
    NoticeAction,
    NoticeKind,
    NoticeRecord,
    NoticeStatus,
    admission_state,
    apply,
    decide,
    may_match,
    notice_outcome,
    timeline_text,
    validate_incoming,
)
from services.health.fhir import encounter as fhir_encounter
from services.health.fhir import medcom
from services.health.fhir.acknowledgement import FATAL, OK, TRANSIENT, acknowledgement
from services.health.fhir.acknowledgement import resend as resend_acknowledgement
from services.health.domain.medication import CHANGE_WORDS, ChangeKind, ChangeSource, FmkReference, alert_for, validate_change
from services.health.domain.medication import MedicationChange as DomainChange
from services.health.domain.tovholder import (
    DOCUMENT_COUNTERPART,
    DOCUMENT_WORDS,
    ContactKind,
    ExternalContact,
    choose_tovholder,
    validate_contact,
)
from services.health.models import (
    CoercionLogEntry,
    DepotSchedule,
    DepotVisit,
    HealthCheck,
    HealthCheckDecision,
    HealthRecord,
    HospitalNotice,
    MedicationAlert,
    MedicationChange,
    PartnerDocument,
    TimelineEntry,
    TreatmentOrder,
    UnmatchedHospitalNotice,
    UnmatchedPartnerMessage,
)
from tovholder import clock
from tovholder import access as kit_access
from tovholder.access import actor_from
from tovholder.auth import Principal
from tovholder.cpr import CprVault, mask, normalize_cpr
from tovholder.errors import Conflict, DomainError, Forbidden, NotFound, TovholderError
from tovholder.fhir import RETRY_AFTER_S, fhir_response, scope_refusal
from tovholder.fhir import dump as dump_resource
from tovholder.receipts import FatalMessage, parse_body, receive_message, unstorable_value
from tovholder.settings import get_settings
from tovholder.scopes import scope_of
from tovholder.uow import UnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)


now_utc = clock.now


def rule(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a domain rule; a broken rule becomes a 422 with the rule's reason."""
    try:
        return fn(*args, **kwargs)
    except HealthRuleViolation as exc:
        raise DomainError(str(exc)) from None


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise DomainError(f"{field} skal have en tidszone, fx 2027-03-10T09:00:00+01:00")
    return value


def _partner_aware(value: datetime, field: str) -> datetime:
    """``_aware`` for a partner's message: the receipt's reason is English."""
    if value.tzinfo is None:
        raise FatalMessage(f"{field} needs a time zone offset, e.g. 2027-03-10T09:00:00+01:00")
    return value


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# ==================================================================== who may see what


def actor_of(user: Principal) -> Actor:
    return actor_from(user)


# One answer for a citizen without a health record and for a record the caller may not see, so a
# nurse consultant or coordinator elsewhere cannot learn that a citizen exists (or has a record).
NO_RECORD_YOU_MAY_SEE = ("Ingen sundhedsjournal for denne borger, som du har adgang til "
                         "(den oprettes, når borgeren får en plads på et botilbud).")

# Found by id, but the caller may not see the citizen's record: the same 404 as for an unknown id.
NO_SUCH_DOCUMENT = "Intet sådant dokument fra en samarbejdspartner."
NO_SUCH_ALERT = "Ingen sådan medicinadvarsel."
NO_SUCH_CHECK = "Intet sådant sundhedstjek."


async def authorize(
    uow: UnitOfWork, user: Principal, action: Action, citizen_id: uuid.UUID, *, lock: bool = False,
    not_found: str = NO_RECORD_YOU_MAY_SEE,
) -> HealthRecord:
    """The citizen's health record, if ``user`` may do ``action``. Otherwise the refusal is audited
    (when there is a record) and answered without revealing whether the citizen exists:

    - roles that never read health data (partner, admin, visitation) get the same 403 for every citizen;
    - the others get ``not_found`` (404) — the very answer for an unknown citizen (or for the
      unknown object the route looked up, e.g. a health check) — unless they may do something
      else with this record, which they then know of: then a 403 says why not.
    """
    actor = actor_of(user)
    record = await repo.health_record(uow, citizen_id, lock=lock)
    if record is None:
        if not reads_health_data(user.role):
            raise Forbidden(why_not(actor, action))
        raise NotFound(not_found)
    context = await repo.citizen_context(uow, record)
    # A refusal is audited by the kit (health.access_denied, naming the citizen).
    kit_access.authorize(may(actor, action, context), why_not(actor, action),
              hide=reads_health_data(user.role) and not knows_of(actor, context), not_found=not_found,
              citizen_id=citizen_id, action="health.access_denied", object_type="health_record", object_id=record.id)
    return record


def require_unmatched_queue(user: Principal, serving: str | None) -> None:
    """The queue of unmatched hospital notices is visitation's — of the municipality that received
    them: the one this installation serves (a notice matching nobody names no municipality)."""
    actor = actor_of(user)
    if not may(actor, Action.UNMATCHED_QUEUE):
        raise Forbidden(why_not(actor, Action.UNMATCHED_QUEUE))
    if not scope_of(user, serving=serving).sees_records_without_municipality:
        # The same answer for the list and every notice in it: nothing about any one notice.
        raise Forbidden(f"Køen af uparrede sygehusadviser hører til {serving or 'installationens kommune'}; "
                        f"dit token er udstedt til visitationen i {user.municipality}.")


# ==================================================================== hospital notices


HOSPITAL_NOTIFICATIONS = "hospital-notifications"

@dataclass(frozen=True)
class Registered:
    notice_id: uuid.UUID | None
    action: NoticeAction
    parked: bool = False


async def receive_hospital_notification(uow: UnitOfWork, partner: Principal, raw: bytes, *,
                                        vault: CprVault) -> JSONResponse:
    """``POST /integration/v1/hospital-notifications``: the kit's receipt flow around the intake."""

    async def process(uow: UnitOfWork, message: s.HospitalNotification) -> dict[str, Any]:
        return await hospital_notification_effect(uow, message, sender=partner, vault=vault)

    return await receive_message(uow, raw, s.HospitalNotification, endpoint=HOSPITAL_NOTIFICATIONS, sender=partner,
                                 process=process)


async def hospital_notification_effect(
    uow: UnitOfWork, message: s.HospitalNotification, *, sender: Principal, vault: CprVault
) -> dict:
    """The ``process`` step of the receipt flow. Raises ``FatalMessage`` to refuse (nothing changes)."""
    received_at = now_utc()
    # The kit has checked that sender.org is the token's organisation (before looking up earlier receipts).
    cpr = normalize_cpr(message.cpr)  # InvalidCpr → 422 receipt, never echoing the number
    try:
        incoming = validate_incoming(
            message_id=message.message_id,
            sent_at=message.sent_at,
            sender_org=message.sender.org,
            code=message.code,
            hospital_episode_id=message.hospital_episode_id,
            department=message.department,
            occurred_at=message.occurred_at,
            replaces_message_id=message.replaces_message_id,
            received_at=received_at,
        )
    except NoticeInvalid as exc:
        raise FatalMessage(str(exc), 422) from None
    cpr_hash = vault.hash(cpr)
    # The known citizen, row-locked so one citizen's notices are decided one at a time.
    await repo.lock_cpr(uow, cpr_hash)
    citizen = await repo.known_citizen_by_cpr_hash(uow, cpr_hash, lock=True)
    if citizen is not None:
        # Anything parked for this CPR before the citizen became known goes first, in order.
        await match_parked_notices(uow, citizen.citizen_id, cpr_hash, actor=None)

    if incoming.replaces_message_id is not None:
        target = await repo.hospital_notice_by_message(uow, sender_org=incoming.sender_org,
                                                       message_id=incoming.replaces_message_id)
        if target is not None and (citizen is None or target.citizen_id != citizen.citizen_id):
            raise FatalMessage(OTHER_PERSON.format(incoming.replaces_message_id), 409)
        if target is None:
            parked_target = await repo.unmatched_notice_by_message(uow, sender_org=incoming.sender_org,
                                                                   message_id=incoming.replaces_message_id)
            verb = "correct" if incoming.code.action is NoticeAction.CORRECT else "cancel"
            if parked_target is not None and parked_target.status != "open":
                raise FatalMessage(
                    f"the notice {incoming.replaces_message_id} was {parked_target.status} by the municipality "
                    f"({parked_target.resolution or 'no citizen to attach it to'}); there is nothing to {verb}",
                    409,
                )
            if parked_target is None:
                raise FatalMessage(
                    f"{incoming.code} names replaces_message_id {incoming.replaces_message_id}, which is not a notice "
                    f"Tovholder has received; nothing to {verb}",
                    409,
                )
            if parked_target.cpr_hash != cpr_hash:
                raise FatalMessage(OTHER_PERSON.format(incoming.replaces_message_id), 409)
            # The notice it replaces waits in the unmatched queue (the citizen is not known): so does this one.

    if citizen is None:
        # Decided against the sender's parked notices for this person exactly as against a known
        # citizen's notices, so the receipt is the same whether the CPR is known or not.
        try:
            decide(incoming, await _parked_history(uow, cpr_hash, incoming.sender_org))
        except NoticeConflict as exc:
            raise FatalMessage(str(exc), 409) from None
        _park_notice(uow, incoming, message, cpr=cpr, cpr_hash=cpr_hash, vault=vault, received_at=received_at,
                     sender=sender)
        return {}
    try:
        await apply_notice(
            uow, citizen.citizen_id, incoming, sender_name=message.sender.name, received_at=received_at, actor=sender
        )
    except NoticeConflict as exc:
        raise FatalMessage(str(exc), 409) from None
    return {}


# MedCom HospitalNotification (FHIR) → the same intake, answered with a MedCom Acknowledgement.
MEDCOM_PROCESS_MESSAGE = "fhir-process-message"
FHIR_XML_TYPES = ("application/fhir+xml", "application/xml")  # parsed by the models; answered in JSON
_RECEIPT_ISSUE = {409: "conflict", 422: "processable", 403: "security"}


async def receive_medcom_message(uow: UnitOfWork, partner: Principal, raw: bytes, *, content_type: str,
                                 vault: CprVault, base: str, accept: str = "") -> Response:
    """``POST /fhir/r4/$process-message``: a MedCom HospitalNotification Bundle becomes the contract's
    hospital notice and takes the very path of ``POST /integration/v1/hospital-notifications`` (the
    kit's receipt flow around ``hospital_notification_effect``). The answer is a MedCom
    Acknowledgement, kept for the duplicate window: the same MessageHeader.id from the same sender
    gets the same acknowledgement content again and has no second effect."""

    media = content_type.split(";")[0].strip().lower()
    as_xml = "xml" in accept.lower() or (media in FHIR_XML_TYPES and "json" not in accept.lower())

    def respond(ack: dict[str, Any], status_code: int, headers: dict[str, str] | None = None) -> Response:
        """The acknowledgement in the sender's format (XML for an XML message, unless it accepts JSON)."""
        if as_xml:
            return Response(medcom.to_xml(ack), status_code=status_code, headers=headers, media_type="application/fhir+xml")
        return fhir_response(ack, status_code, headers)

    def answer(envelope: medcom.Envelope, code: str, status_code: int, **problem: Any) -> Response:
        ack = acknowledgement(envelope, code, base=base, **problem)
        return respond(ack, status_code, {"Retry-After": str(RETRY_AFTER_S)} if status_code == 503 else None)

    async def keep(envelope: medcom.Envelope, code: str, status_code: int, **problem: Any) -> Response:
        ack = acknowledgement(envelope, code, base=base, **problem)
        await repo.keep_medcom_acknowledgement(uow, sender_org=partner.org, header_id=envelope.header_id,
                                               response_code=code, status_code=status_code, acknowledgement=ack)
        await uow.commit()
        return await stored_answer(envelope, ack["id"])

    async def stored_answer(envelope: medcom.Envelope, fresh_id: str | None = None) -> Response | None:
        row = await repo.medcom_acknowledgement(uow, sender_org=partner.org, header_id=envelope.header_id)
        if row is None:
            return None
        if row.acknowledgement["id"] == fresh_id:
            return respond(row.acknowledgement, row.status_code)
        log.info("duplicate MedCom message %s from %s: answered with its acknowledgement", envelope.header_id, partner.org)
        return respond(resend_acknowledgement(row.acknowledgement), row.status_code)

    if media not in ("application/fhir+json", "application/json", "", *FHIR_XML_TYPES):
        return answer(medcom.Envelope(), FATAL, 415, text=f"Content-Type {media!r} is not supported here; send the "
                      "message as application/fhir+json or application/fhir+xml.", issue_code="not-supported")
    try:
        parsed = medcom.parse_xml(raw) if media in FHIR_XML_TYPES else parse_body(raw)
        if (problem := unstorable_value(parsed)) is not None:
            raise FatalMessage(problem)
    except FatalMessage as exc:
        return answer(medcom.rejected_envelope(None), FATAL, 422, text=exc.reason, issue_code="structure")
    except medcom.MedComRejected as exc:
        return answer(exc.envelope, FATAL, 422, text=exc.text, issue_code=exc.code, expression=exc.expression,
                      error_code=exc.error_code)
    try:
        message = medcom.read_hospital_notification(parsed)
    except medcom.MedComRejected as exc:
        problem = dict(text=exc.text, issue_code=exc.code, expression=exc.expression, error_code=exc.error_code)
        if exc.envelope.header_id and exc.envelope.sender and exc.envelope.sender.org == partner.org:
            return await stored_answer(exc.envelope) or await keep(exc.envelope, FATAL, 422, **problem)
        return answer(exc.envelope, FATAL, 422, **problem)
    envelope = message.envelope
    if envelope.sender.org != partner.org:
        # Before any earlier acknowledgement is looked up: another organisation's message is not this sender's to resend.
        return answer(envelope, FATAL, 403, issue_code="security", expression="MessageHeader.sender",
                      text=f"The sender Organization's SOR identifier ({envelope.sender.org}) is not the organisation "
                           f"your token was issued to ({partner.org}); send your own messages with your own token.")
    if (earlier := await stored_answer(envelope)) is not None:
        return earlier
    ok = acknowledgement(envelope, OK, base=base)

    async def process(uow: UnitOfWork, notice: s.HospitalNotification) -> dict[str, Any]:
        result = await hospital_notification_effect(uow, notice, sender=partner, vault=vault)
        await repo.keep_medcom_acknowledgement(uow, sender_org=partner.org, header_id=envelope.header_id,
                                               response_code=OK, status_code=200, acknowledgement=ok)
        return result

    receipt_response = await receive_message(uow, message.notification, s.HospitalNotification,
                                             endpoint=MEDCOM_PROCESS_MESSAGE, sender=partner, process=process)
    receipt = json.loads(receipt_response.body)
    if (kept := await stored_answer(envelope, ok["id"])) is not None:
        return kept
    if receipt["status"] == "transient-error":
        return answer(envelope, TRANSIENT, 503, issue_code="transient", text=(
            "Tovholder cannot store messages right now; nothing was stored. Resend the same message "
            f"(the same MessageHeader.id) after {RETRY_AFTER_S} seconds."))
    if receipt["status"] == "ok":  # an earlier copy had its effect; its acknowledgement is past the window
        return await keep(envelope, OK, 200)
    return await keep(envelope, FATAL, receipt_response.status_code,
                      issue_code=_RECEIPT_ISSUE.get(receipt_response.status_code, "processable"),
                      text=_in_fhir_words(receipt["reason"], message))


async def forget_old_acknowledgements(uow: UnitOfWork, window_s: int) -> int:
    """The background pruning of MedCom acknowledgements past the duplicate window (``jobs``)."""
    forgotten = await repo.forget_medcom_acknowledgements(uow, before=now_utc() - timedelta(seconds=window_s))
    await uow.commit()
    return forgotten


def _in_fhir_words(reason: str, message: medcom.HospitalNotificationMessage) -> str:
    """A receipt's reason as a MedCom sender reads it: its MessageHeader ids, its activity, its elements."""
    text = reason.replace(str(message.message_id), message.envelope.header_id)
    if message.replaces_header_id:
        text = text.replace(str(message.notification["replaces_message_id"]), f"MessageHeader/{message.replaces_header_id}")
    for field_name, element in (("replaces_message_id", "Provenance.entity.what"), ("message_id", "MessageHeader.id"),
                                ("hospital_episode_id", "Encounter.episodeOfCare.identifier"),
                                ("occurred_at", "the Encounter's time of the event"), ("sent_at", "Bundle.timestamp"),
                                ("department", "Encounter.serviceProvider"), ("sender.org", "MessageHeader.sender"),
                                ("cpr", "Patient.identifier (CPR)")):
        text = text.replace(field_name, element)
    return f"{message.activity} ({message.notification['code']}): {text}"


async def apply_notice(
    uow: UnitOfWork,
    citizen_id: uuid.UUID,
    incoming: IncomingNotice,
    *,
    sender_name: str | None,
    received_at: datetime,
    actor: Principal | None,
    from_unmatched: uuid.UUID | None = None,
) -> Registered:
    """Decide and record one notice for a known citizen: state, event, timeline and audit together.

    Raises ``NoticeConflict`` when it contradicts the citizen's notices (nothing is changed)."""
    history = await repo.notice_history(uow, citizen_id)
    # A sender is answered about its own notices only: its message_ids are its own (the contract), and
    # a hospital can neither correct nor contradict — nor learn of — what another organisation sent.
    own = [repo.notice_record(r) for r in history if r.sender_org == incoming.sender_org]
    decision = decide(incoming, own)
    record = await repo.health_record(uow, citizen_id)
    tovholder_sub = record.tovholder_sub if record else None
    botilbud_id = record.botilbud_id if record else None
    notice_id = uuid.uuid4()
    replaced_row = None
    if decision.replaces is not None:
        replaced_row = next(r for r in history if r.id == decision.replaces.notice_id)
        replaced_row.status = (
            NoticeStatus.SUPERSEDED.value if decision.action is NoticeAction.CORRECT else NoticeStatus.CANCELLED.value
        )
        replaced_row.replaced_by_message_id = incoming.message_id
    repo.add(uow, HospitalNotice(
        id=notice_id,
        message_id=incoming.message_id,
        citizen_id=citizen_id,
        action=decision.action.value,
        code=incoming.code.base.value,
        kind=incoming.kind.value,
        hospital_episode_id=incoming.hospital_episode_id,
        department=incoming.department,
        sender_org=incoming.sender_org,
        sender_name=sender_name,
        occurred_at=incoming.occurred_at,
        sent_at=incoming.sent_at,
        received_at=received_at,
        replaces_message_id=incoming.replaces_message_id,
        replaces_notice_id=replaced_row.id if replaced_row else None,
        status=NoticeStatus.ACTIVE.value,
        legal_basis=LEGAL_BASIS,
        matched_from_unmatched_id=from_unmatched,
    ))
    content = dict(
        citizen_id=citizen_id,
        notice_id=notice_id,
        message_id=incoming.message_id,
        code=incoming.code.base.value,
        kind=incoming.kind.value,
        hospital_episode_id=incoming.hospital_episode_id,
        department=incoming.department,
        sender_org=incoming.sender_org,
        occurred_at=incoming.occurred_at,
        legal_basis=LEGAL_BASIS,
        tovholder_sub=tovholder_sub,
        botilbud_id=botilbud_id,
    )
    outcome = None
    if decision.action is not NoticeAction.CANCEL:
        # What the notice asks of the tovholder follows from the episode's true state once it is folded in.
        outcome = notice_outcome(incoming.kind, incoming.hospital_episode_id,
                                 apply(decision, incoming, notice_id, own, received_at=received_at),
                                 occurred_at=incoming.occurred_at, received_at=received_at, acute=incoming.code.acute)
        content.update(received_at=received_at, follow_up=outcome.follow_up.value,
                       episode_state=outcome.episode_state.value if outcome.episode_state else None)
    if decision.action is NoticeAction.NEW:
        uow.emit(HospitalNoticeRegisteredV1(**content), occurred_at=incoming.occurred_at)
    elif decision.action is NoticeAction.CORRECT:
        uow.emit(HospitalNoticeCorrectedV1(corrects_notice_id=replaced_row.id, **content), occurred_at=incoming.occurred_at)
    else:
        uow.emit(HospitalNoticeCancelledV1(citizen_id=citizen_id, notice_id=notice_id, cancels_notice_id=replaced_row.id))
    what = timeline_text(decision.action, incoming, received_at=received_at,
                         replaced_occurred_at=replaced_row.occurred_at if replaced_row else None, outcome=outcome)
    if record is not None and incoming.kind is NoticeKind.DEATH:
        record.deceased_at = None if decision.action is NoticeAction.CANCEL else incoming.occurred_at
        if record.deceased_at is not None:
            await _cancel_planned_checks(uow, citizen_id)
    repo.add(uow, TimelineEntry(
        citizen_id=citizen_id,
        kind="hospital-notice",
        counterpart="hospital",
        org=incoming.sender_org,
        who=sender_name,
        what=what,
        occurred_at=incoming.occurred_at,
        recorded_by=f"partner:{incoming.sender_org}",
        recorded_at=received_at,
        object_type="hospital_notice",
        object_id=str(notice_id),
    ))
    uow.audit(
        actor,
        f"hospital_notice.{decision.action.value}",
        citizen_id=citizen_id,
        object_type="hospital_notice",
        object_id=notice_id,
        detail={"code": str(incoming.code), "legal_basis": LEGAL_BASIS, "message_id": str(incoming.message_id),
                **({"from_unmatched": str(from_unmatched)} if from_unmatched else {})},
    )
    return Registered(notice_id, decision.action)


async def _cancel_planned_checks(uow: UnitOfWork, citizen_id: uuid.UUID) -> None:
    for check in await repo.planned_checks(uow, citizen_id):
        check.status = "cancelled"
        uow.emit(HealthCheckCancelledV1(citizen_id=citizen_id, health_check_id=check.id, reason="deceased",
                                        cancelled_at=now_utc()))


async def _parked_history(uow: UnitOfWork, cpr_hash: str, sender_org: str) -> list[NoticeRecord]:
    """The sender's open parked notices for one person as the notice history they would be once the
    person is known: replayed in arrival order, corrections and cancellations applied."""
    history: list[NoticeRecord] = []
    for row in await repo.open_unmatched_notices(uow, cpr_hash, sender_org=sender_org):
        parked = repo.incoming_from_parked(row)
        try:
            history = apply(decide(parked, history), parked, row.id, history)
        except (NoticeConflict, NoticeInvalid):
            continue  # parked before notices were checked on arrival; matching will reject it
    return history


def _park_notice(
    uow: UnitOfWork,
    incoming: IncomingNotice,
    message: s.HospitalNotification,
    *,
    cpr: str,
    cpr_hash: str,
    vault: CprVault,
    received_at: datetime,
    sender: Principal,
) -> uuid.UUID:
    parked_id = uuid.uuid4()
    repo.add(uow, UnmatchedHospitalNotice(
        id=parked_id,
        message_id=incoming.message_id,
        cpr_encrypted=vault.encrypt(cpr),
        cpr_hash=cpr_hash,
        code=str(incoming.code),
        hospital_episode_id=incoming.hospital_episode_id,
        department=incoming.department,
        sender_org=incoming.sender_org,
        sender_name=message.sender.name,
        occurred_at=incoming.occurred_at,
        sent_at=incoming.sent_at,
        received_at=received_at,
        replaces_message_id=incoming.replaces_message_id,
        legal_basis=LEGAL_BASIS,
        status="open",
    ))
    uow.emit(HospitalNoticeParkedV1(
        subject_id=parked_id, unmatched_notice_id=parked_id, code=str(incoming.code), sender_org=incoming.sender_org,
        department=incoming.department, occurred_at=incoming.occurred_at, received_at=received_at,
        legal_basis=LEGAL_BASIS,
    ))
    uow.audit(
        sender,
        "hospital_notice.parked_unmatched",
        object_type="unmatched_hospital_notice",
        object_id=parked_id,
        detail={"code": str(incoming.code), "legal_basis": LEGAL_BASIS, "message_id": str(incoming.message_id)},
    )
    return parked_id


def _unparked(row: UnmatchedHospitalNotice) -> HospitalNoticeUnparkedV1:
    return HospitalNoticeUnparkedV1(subject_id=row.id, unmatched_notice_id=row.id, resolution=row.status,
                                    resolved_by=row.resolved_by, resolved_at=row.resolved_at)


async def match_parked_notices(
    uow: UnitOfWork, citizen_id: uuid.UUID, cpr_hash: str, *, actor: Principal | None
) -> tuple[int, int]:
    """Move the open parked notices for ``cpr_hash`` onto the
    citizen, in arrival order. A notice that now contradicts the citizen's history is marked rejected
    with the reason, for visitation to see. Returns (matched, rejected). The CPR is wiped on resolution:
    it is no longer needed once the notice belongs to a citizen."""
    rows = await repo.open_unmatched_notices(uow, cpr_hash, lock=True)
    matched = rejected = 0
    resolved_by = actor.sub if actor else "system"
    for row in rows:
        try:
            await apply_notice(
                uow, citizen_id, repo.incoming_from_parked(row), sender_name=row.sender_name,
                received_at=row.received_at, actor=actor, from_unmatched=row.id,
            )
            row.status, row.resolution = "matched", None
            matched += 1
        except (NoticeConflict, NoticeInvalid) as exc:
            row.status, row.resolution = "rejected", str(exc)[:1000]
            rejected += 1
        row.matched_citizen_id = citizen_id
        row.resolved_by, row.resolved_at = resolved_by, now_utc()
        row.cpr_encrypted = ""
        uow.emit(_unparked(row))
        uow.audit(
            actor, f"unmatched_hospital_notice.{row.status}", citizen_id=citizen_id,
            object_type="unmatched_hospital_notice", object_id=row.id,
        )
    return matched, rejected


# ==================================================================== the unmatched queue (visitation)


_PARKED_STATUS_DA = {"matched": "koblet på en borger", "rejected": "afvist", "dismissed": "lukket uden match"}


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


async def list_unmatched_notices(uow: UnitOfWork, user: Principal, status: str, *, serving: str | None,
                                 vault: CprVault) -> dict[str, Any]:
    require_unmatched_queue(user, serving)
    rows = await repo.unmatched_notices(uow, status=status)
    uow.audit(user, "unmatched_hospital_notice.list", object_type="unmatched_hospital_notice", detail={"count": len(rows)})
    await uow.commit()
    return {"notices": [_parked_out(r, vault) for r in rows]}


async def read_unmatched_notice(uow: UnitOfWork, user: Principal, unmatched_id: uuid.UUID, *, serving: str | None,
                                vault: CprVault) -> dict[str, Any]:
    require_unmatched_queue(user, serving)
    row = await repo.unmatched_notice(uow, unmatched_id)
    if row is None:
        raise NotFound("Ingen sådan advis uden match.")
    uow.audit(user, "unmatched_hospital_notice.read_cpr", object_type="unmatched_hospital_notice", object_id=row.id)
    await uow.commit()
    return _parked_out(row, vault, reveal=True)


async def match_unmatched_notice(uow: UnitOfWork, user: Principal, unmatched_id: uuid.UUID, body: s.MatchBody, *,
                                 serving: str | None) -> dict[str, Any]:
    require_unmatched_queue(user, serving)
    row = await repo.unmatched_notice(uow, unmatched_id)
    if row is None:
        raise NotFound("Ingen sådan advis uden match.")
    if row.status != "open":
        raise Conflict(f"Advisen er allerede afklaret ({_PARKED_STATUS_DA.get(row.status, row.status)}).")
    citizen = await repo.known_citizen(uow, body.citizen_id, lock=True)
    if citizen is None:
        raise DomainError("Kommunen kender ingen borger med dette id; registrér borgeren i visitationen først.")
    try:
        match = may_match(notice_cpr_hash=row.cpr_hash, citizen_cpr_hash=citizen.cpr_hash,
                          override_reason=body.override_reason)
    except NoticeConflict as exc:
        uow.audit(user, "unmatched_hospital_notice.match_refused", citizen_id=citizen.citizen_id,
                  object_type="unmatched_hospital_notice", object_id=row.id, detail={"reason": "cpr-differs"})
        await uow.commit()
        raise Conflict(str(exc), code="cpr-differs") from None
    await repo.lock_cpr(uow, row.cpr_hash)
    if match.override:
        uow.audit(user, "unmatched_hospital_notice.match_override", citizen_id=citizen.citizen_id,
                  object_type="unmatched_hospital_notice", object_id=row.id, detail={"reason": match.reason})
    matched, rejected = await match_parked_notices(uow, citizen.citizen_id, row.cpr_hash, actor=user)
    await uow.commit()
    return {"matched": matched, "rejected": rejected, "citizen_id": str(citizen.citizen_id)}


async def dismiss_unmatched_notice(uow: UnitOfWork, user: Principal, unmatched_id: uuid.UUID,
                                   body: s.DeclineBody | None, *, serving: str | None) -> dict[str, Any]:
    require_unmatched_queue(user, serving)
    row = await repo.unmatched_notice(uow, unmatched_id, lock=True)
    if row is None:
        raise NotFound("Ingen sådan advis uden match.")
    if row.status != "open":
        raise Conflict(f"Advisen er allerede afklaret ({_PARKED_STATUS_DA.get(row.status, row.status)}).")
    row.status, row.resolution = "dismissed", (body.reason if body else None)
    row.resolved_by, row.resolved_at, row.cpr_encrypted = user.sub, now_utc(), ""
    uow.emit(_unparked(row))
    uow.audit(user, "unmatched_hospital_notice.dismiss", object_type="unmatched_hospital_notice", object_id=row.id)
    await uow.commit()
    return {"unmatched_id": str(row.id), "status": row.status}


# ==================================================================== partner documents and medication changes
#
# A receipt never reveals whether a CPR belongs to a known citizen. So a message about an unknown
# CPR is accepted (``ok``) like any other and parked — only the CPR's keyed hash is kept — and recorded
# on the citizen, as if it had just arrived, when the municipality registers them
# (``match_parked_partner_messages``, from the CitizenRegistered handler). A known citizen without a
# health record yet (no place at a botilbud) gets the document on their citizen id; it shows once the
# record opens.

MEDICATION_CHANGE = "medication-change"

DOCUMENT_KINDS: dict[type[s.PartnerMessage], tuple[str, str, str, hc.PreparationStep | None]] = {
    # model: (kind, endpoint, time field, the preparation step it completes)
    s.LabResults: ("lab-results", "lab-results", "taken_at", hc.PreparationStep.EXAMINATION),
    s.PharmacistReview: ("pharmacist-review", "pharmacist-reviews", "reviewed_at", hc.PreparationStep.MEDICATION_REVIEW),
    s.PsychiatristNotes: ("psychiatrist-notes", "psychiatrist-notes", "written_at", None),
}


@dataclass(frozen=True)
class KnownPerson:
    citizen_id: uuid.UUID
    record: HealthRecord | None  # None: known to the municipality, no place at a botilbud yet


async def _find_person(uow: UnitOfWork, cpr_hash: str) -> KnownPerson | None:
    """The citizen with this CPR (hash), serialised with their other partner messages and matching."""
    await repo.lock_cpr(uow, cpr_hash)
    citizen = await repo.known_citizen_by_cpr_hash(uow, cpr_hash)
    if citizen is None:
        return None
    return KnownPerson(citizen.citizen_id, await repo.health_record(uow, citizen.citizen_id))


async def _partner_person(uow: UnitOfWork, message: s.PartnerMessage, vault: CprVault,
                          ) -> tuple[KnownPerson | None, str]:
    """The citizen the message is about (None: no citizen known to the municipality has this CPR)
    and the CPR's keyed hash. Nothing here may tell the partner which it is."""
    cpr_hash = vault.hash(normalize_cpr(message.cpr))  # InvalidCpr → 422 receipt, never echoing the number
    return await _find_person(uow, cpr_hash), cpr_hash


def _no_such_check(health_check_id: uuid.UUID) -> FatalMessage:
    return FatalMessage(f"health_check_id {health_check_id} is not a health check for this citizen.", 409)


async def _current_check(uow: UnitOfWork, citizen_id: uuid.UUID, health_check_id: uuid.UUID | None) -> HealthCheck | None:
    if health_check_id is not None:
        check = await repo.health_check(uow, health_check_id)
        if check is None or check.citizen_id != citizen_id:
            raise _no_such_check(health_check_id)
        return check
    # Without an id: the citizen's next planned check, if any.
    return await repo.next_planned_check(uow, citizen_id)


async def receive_partner_document(uow: UnitOfWork, partner: Principal, raw: bytes, model: type[s.PartnerMessage], *,
                                   vault: CprVault) -> JSONResponse:
    """Lab results, the pharmacist's review or the psychiatrist's notes: the receipt flow around the intake."""
    kind, endpoint, time_field, step = DOCUMENT_KINDS[model]

    async def process(uow: UnitOfWork, message: s.PartnerMessage) -> dict[str, Any]:
        # Every check that needs no citizen comes first: known and unknown CPRs answer alike.
        sent = _partner_aware(getattr(message, time_field), time_field)
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
                _park_partner_message(uow, kind=kind, message_id=message.message_id, sender_org=message.sender.org,
                                      sender_name=message.sender.name, occurred_at=sent, received_at=received_at,
                                      content=content, cpr_hash=cpr_hash, actor=partner)
                return {}
        check = await _current_check(uow, person.citizen_id, message.health_check_id) if person.record else None
        await _record_document(
            uow, person, kind=kind, message_id=message.message_id, sender_org=message.sender.org,
            sender_name=message.sender.name, occurred_at=sent, received_at=received_at,
            health_check_id=check.id if check else None, content=content, actor=partner)
        if check is not None and step is not None and check.status == hc.CheckStatus.PLANNED.value:
            _complete_step(uow, check, step)
        return {}

    return await receive_message(uow, raw, model, endpoint=endpoint, sender=partner, process=process)


async def receive_partner_medication_change(uow: UnitOfWork, partner: Principal, raw: bytes, *,
                                            vault: CprVault) -> JSONResponse:
    """A medication change made in FMK, from a partner: the receipt flow around the intake."""

    async def process(uow: UnitOfWork, message: s.PartnerMedicationChange) -> dict[str, Any]:
        try:
            change = DomainChange(FmkReference(message.fmk_reference), ChangeKind(message.change_kind),
                                  _partner_aware(message.changed_at, "changed_at"), ChangeSource.PARTNER, message.sender.org, message.note)
            validate_change(change, recorded_at=now_utc() + timedelta(minutes=5))
        except HealthRuleViolation as exc:
            raise FatalMessage(exc.en) from None
        except DomainError as exc:
            raise FatalMessage(str(exc)) from None
        person, cpr_hash = await _partner_person(uow, message, vault)
        if person is None:  # accepted like any other, recorded once the citizen is known
            _park_partner_message(uow, kind=MEDICATION_CHANGE, message_id=message.message_id,
                                  sender_org=message.sender.org, sender_name=message.sender.name,
                                  occurred_at=change.changed_at, received_at=now_utc(),
                                  content=_medication_change_content(change), cpr_hash=cpr_hash, actor=partner)
            return {}
        await _record_medication_change(uow, person, change, actor=partner, recorded_by=f"partner:{message.sender.org}",
                                        message_id=message.message_id)
        return {}

    return await receive_message(uow, raw, s.PartnerMedicationChange, endpoint="medication-changes", sender=partner,
                                 process=process)


async def _record_document(
    uow: UnitOfWork, person: KnownPerson, *, kind: str, message_id: uuid.UUID, sender_org: str,
    sender_name: str | None, occurred_at: datetime, received_at: datetime, health_check_id: uuid.UUID | None,
    content: dict[str, Any], actor: Principal | None,
) -> uuid.UUID:
    """The document on the citizen's record and timeline, its event and audit entry."""
    document_id = uuid.uuid4()
    record = person.record
    repo.add(uow, PartnerDocument(
        id=document_id, message_id=message_id, citizen_id=person.citizen_id, kind=kind, sender_org=sender_org,
        sender_name=sender_name, received_at=received_at, health_check_id=health_check_id, content=content,
    ))
    repo.add(uow, TimelineEntry(
        citizen_id=person.citizen_id, kind=ContactKind.PARTNER_DOCUMENT.value, counterpart=DOCUMENT_COUNTERPART[kind],
        org=sender_org, who=sender_name, what=DOCUMENT_WORDS[kind], occurred_at=occurred_at,
        recorded_by=f"partner:{sender_org}", object_type="partner_document", object_id=str(document_id),
    ))
    uow.emit(PartnerDocumentReceivedV1(
        citizen_id=person.citizen_id, document_id=document_id, kind=kind, sender_org=sender_org,
        received_at=received_at, health_check_id=health_check_id,
        tovholder_sub=record.tovholder_sub if record else None, botilbud_id=record.botilbud_id if record else None,
    ))
    uow.audit(actor, f"partner_document.{kind}.receive", citizen_id=person.citizen_id,
              object_type="partner_document", object_id=document_id)
    return document_id


async def _record_medication_change(
    uow: UnitOfWork, person: KnownPerson, change: DomainChange, *, actor: Principal | None, recorded_by: str,
    message_id: uuid.UUID | None = None,
) -> MedicationChange:
    """The change (a reference into FMK), its event, the timeline entry and — during an admission —
    an alert for the tovholder."""
    citizen_id, record = person.citizen_id, person.record
    tovholder_sub, botilbud_id = (record.tovholder_sub, record.botilbud_id) if record else (None, None)
    alert = alert_for(change, await repo.notice_records(uow, citizen_id))
    row = MedicationChange(
        id=uuid.uuid4(), citizen_id=citizen_id, fmk_reference=change.fmk_reference.value,
        change_kind=change.kind.value, changed_at=change.changed_at, source=change.source.value,
        changed_by_org=change.changed_by_org, note=change.note, during_admission=alert is not None,
        message_id=message_id, recorded_by=recorded_by,
    )
    repo.add(uow, row)
    await repo.flush(uow)
    uow.emit(MedicationChangedV1(
        citizen_id=citizen_id, change_id=row.id, fmk_reference=row.fmk_reference, change_kind=row.change_kind,
        changed_at=row.changed_at, source=row.source, changed_by_org=row.changed_by_org,
        during_admission=row.during_admission, tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
    ))
    repo.add(uow, TimelineEntry(
        citizen_id=citizen_id, kind=ContactKind.MEDICATION_CHANGE.value,
        counterpart="hospital" if alert else None, org=change.changed_by_org, who=None,
        what=f"Medicinændring i FMK: {CHANGE_WORDS[change.kind]} ({change.fmk_reference.value})", occurred_at=change.changed_at,
        recorded_by=row.recorded_by, object_type="medication_change", object_id=str(row.id),
    ))
    if alert is not None:
        alert_row = MedicationAlert(id=uuid.uuid4(), citizen_id=citizen_id, change_id=row.id,
                                    hospital_episode_ids=list(alert.hospital_episodes), reason=alert.reason,
                                    raised_at=now_utc())
        repo.add(uow, alert_row)
        uow.emit(MedicationAlertRaisedV1(
            citizen_id=citizen_id, alert_id=alert_row.id, change_id=row.id,
            hospital_episode_ids=list(alert.hospital_episodes), raised_at=alert_row.raised_at,
            tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
        ))
    uow.audit(actor, "medication_change.record", citizen_id=citizen_id, object_type="medication_change",
              object_id=row.id, detail={"during_admission": row.during_admission})
    return row


def _medication_change_content(change: DomainChange) -> dict[str, Any]:
    return {"fmk_reference": change.fmk_reference.value, "change_kind": change.kind.value,
            "changed_at": change.changed_at.isoformat(), "note": change.note}


def _park_partner_message(
    uow: UnitOfWork, *, kind: str, message_id: uuid.UUID, sender_org: str, sender_name: str | None,
    occurred_at: datetime, received_at: datetime, content: dict[str, Any], cpr_hash: str, actor: Principal,
) -> uuid.UUID:
    """Hold a message whose CPR matches no known citizen until the municipality registers them."""
    parked_id = uuid.uuid4()
    repo.add(uow, UnmatchedPartnerMessage(
        id=parked_id, kind=kind, message_id=message_id, sender_org=sender_org, sender_name=sender_name,
        occurred_at=occurred_at, received_at=received_at, content=content, cpr_hash=cpr_hash, status="open",
    ))
    uow.audit(actor, "partner_message.parked_unmatched", object_type="unmatched_partner_message", object_id=parked_id,
              detail={"kind": kind, "message_id": str(message_id)})
    return parked_id


async def match_parked_partner_messages(uow: UnitOfWork, citizen_id: uuid.UUID, cpr_hash: str) -> int:
    """Record the open parked messages for ``cpr_hash`` on the newly known citizen, in arrival order
    (the caller holds the CPR lock). Returns how many were recorded."""
    rows = await repo.open_unmatched_partner_messages(uow, cpr_hash)
    if not rows:
        return 0
    person = KnownPerson(citizen_id, await repo.health_record(uow, citizen_id))
    for row in rows:
        if row.kind == MEDICATION_CHANGE:
            c = row.content
            change = DomainChange(FmkReference(c["fmk_reference"]), ChangeKind(c["change_kind"]),
                                  datetime.fromisoformat(c["changed_at"]), ChangeSource.PARTNER, row.sender_org, c["note"])
            await _record_medication_change(uow, person, change, actor=None, recorded_by=f"partner:{row.sender_org}",
                                            message_id=row.message_id)
        else:
            await _record_document(uow, person, kind=row.kind, message_id=row.message_id, sender_org=row.sender_org,
                                   sender_name=row.sender_name, occurred_at=row.occurred_at, received_at=row.received_at,
                                   health_check_id=None, content=row.content, actor=None)
        row.status, row.matched_citizen_id, row.resolved_at = "matched", citizen_id, now_utc()
        row.content = {}  # recorded on the citizen: the parked copy is not kept
        uow.audit(None, "unmatched_partner_message.matched", citizen_id=citizen_id,
                  object_type="unmatched_partner_message", object_id=row.id)
    return len(rows)


# ==================================================================== partner documents, passed on by consent


def _document_out(d: PartnerDocument) -> dict[str, Any]:
    return {"document_id": str(d.id), "kind": d.kind, "sender_org": d.sender_org, "sender_name": d.sender_name,
            "received_at": d.received_at, "health_check_id": str(d.health_check_id) if d.health_check_id else None,
            "content": d.content}


async def list_partner_documents(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    docs = await repo.partner_documents(uow, citizen_id)
    uow.audit(user, "partner_document.read", citizen_id=citizen_id, object_type="partner_document")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "documents": [_document_out(d) for d in docs]}


async def share_document(uow: UnitOfWork, user: Principal, document_id: uuid.UUID, body: s.ShareBody) -> dict[str, Any]:
    doc = await repo.partner_document(uow, document_id)
    if doc is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    await authorize(uow, user, Action.WRITE, doc.citizen_id, not_found=NO_SUCH_DOCUMENT)
    now = now_utc()
    org = body.recipient_org.strip()
    if not may_pass_on(await repo.consents(uow, doc.citizen_id), org, now):
        uow.audit(user, "partner_document.share_refused", citizen_id=doc.citizen_id, object_type="partner_document",
                  object_id=doc.id, detail={"recipient_org": org})
        await uow.commit()
        raise Forbidden(f"Borgeren har ikke givet samtykke til at dele helbredsoplysninger med {org}; "
                        "registrér samtykket i Borgerens Plan først.")
    await repo.share_document(uow, document=doc, recipient_org=org, shared_by=user.sub, shared_at=now)
    repo.add(uow, TimelineEntry(citizen_id=doc.citizen_id, kind=ContactKind.PARTNER_DOCUMENT.value, counterpart=None,
                                org=org, who=None, what=f"Delt med {org}: {DOCUMENT_WORDS[doc.kind].removesuffix(' modtaget').lower()}",
                                occurred_at=now, recorded_by=user.sub, object_type="partner_document", object_id=str(doc.id)))
    uow.audit(user, "partner_document.share", citizen_id=doc.citizen_id, object_type="partner_document", object_id=doc.id,
              detail={"recipient_org": org, "basis": "consent"})
    await uow.commit()
    return {"document_id": str(doc.id), "recipient_org": org, "shared_at": now}


async def list_shared_documents(uow: UnitOfWork, partner: Principal) -> dict[str, Any]:
    if not partner.org:
        raise Forbidden("Your token names no organisation.")
    shares = await repo.documents_shared_with(uow, partner.org)
    now = now_utc()
    visible = []
    consents_by_citizen: dict[uuid.UUID, list] = {}
    for share, doc in shares:
        if doc.citizen_id not in consents_by_citizen:
            consents_by_citizen[doc.citizen_id] = await repo.consents(uow, doc.citizen_id)
        if may_pass_on(consents_by_citizen[doc.citizen_id], partner.org, now):  # a revocation stops re-reading
            visible.append((share, doc))
            uow.audit(partner, "partner_document.read_shared", citizen_id=doc.citizen_id, object_type="partner_document",
                      object_id=doc.id)
    await uow.commit()
    return {"documents": [{**_document_out(doc), "citizen_id": str(doc.citizen_id), "shared_at": share.shared_at}
                          for share, doc in visible]}


# ==================================================================== medication (staff)


def _change_out(row: MedicationChange) -> dict[str, Any]:
    return {"change_id": str(row.id), "fmk_reference": row.fmk_reference, "change_kind": row.change_kind,
            "changed_at": row.changed_at, "source": row.source, "changed_by_org": row.changed_by_org,
            "note": row.note, "during_admission": row.during_admission, "recorded_by": row.recorded_by}


async def record_medication_change(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                   body: s.StaffMedicationChange) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    change = rule(lambda: validate_change(
        DomainChange(FmkReference(body.fmk_reference), ChangeKind(body.change_kind), _aware(body.changed_at, "changed_at"),
                     ChangeSource(body.source), body.changed_by_org, body.note), recorded_at=now_utc() + timedelta(minutes=1)))
    row = await _record_medication_change(uow, KnownPerson(record.citizen_id, record), change, actor=user,
                                          recorded_by=user.sub)
    await uow.commit()
    return _change_out(row)


async def list_medication_changes(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = await repo.medication_changes(uow, citizen_id)
    alerts = await repo.medication_alerts(uow, citizen_id)
    uow.audit(user, "medication_change.read", citizen_id=citizen_id, object_type="medication_change")
    await uow.commit()
    return {"fmk": "Selve medicinen står på Fælles Medicinkort (FMK); her er henvisninger til ændringerne.",
            "changes": [_change_out(r) for r in rows],
            "alerts": [{"alert_id": str(a.id), "change_id": str(a.change_id), "hospital_episode_ids": a.hospital_episode_ids,
                        "reason": a.reason, "raised_at": a.raised_at, "acknowledged_by": a.acknowledged_by,
                        "acknowledged_at": a.acknowledged_at} for a in alerts]}


async def acknowledge_alert(uow: UnitOfWork, user: Principal, alert_id: uuid.UUID) -> dict[str, Any]:
    alert = await repo.medication_alert(uow, alert_id)
    if alert is None:
        raise NotFound(NO_SUCH_ALERT)
    await authorize(uow, user, Action.WRITE, alert.citizen_id, not_found=NO_SUCH_ALERT)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user.sub, now_utc()
        # The alert's urgent task (notifications) is done with it.
        uow.emit(MedicationAlertAcknowledgedV1(citizen_id=alert.citizen_id, alert_id=alert.id, change_id=alert.change_id,
                                               acknowledged_at=alert.acknowledged_at, acknowledged_by=user.sub))
    uow.audit(user, "medication_alert.acknowledge", citizen_id=alert.citizen_id, object_type="medication_alert", object_id=alert.id)
    await uow.commit()
    return {"alert_id": str(alert.id), "acknowledged_by": alert.acknowledged_by, "acknowledged_at": alert.acknowledged_at}


# ==================================================================== record, timeline, tovholder


async def read_health_record(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    record = await authorize(uow, user, Action.READ, citizen_id)
    state = admission_state(await repo.notice_records(uow, citizen_id))
    uow.audit(user, "health_record.read", citizen_id=citizen_id, object_type="health_record", object_id=record.id)
    await uow.commit()
    return {"health_record_id": str(record.id), "citizen_id": str(record.citizen_id), "botilbud_id": record.botilbud_id,
            "tovholder_sub": record.tovholder_sub, "opened_at": record.opened_at, "gp_practice": record.gp_practice,
            "deceased_at": record.deceased_at,
            "admission": {"state": state.state.value, "open_episodes": list(state.open_episodes), "since": state.since}}


async def read_timeline(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, limit: int) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = await repo.timeline(uow, citizen_id, limit=max(1, min(limit, 1000)))
    uow.audit(user, "health_timeline.read", citizen_id=citizen_id, object_type="timeline")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "entries": [
        {"entry_id": str(r.id), "kind": r.kind, "counterpart": r.counterpart, "org": r.org, "who": r.who, "what": r.what,
         "occurred_at": r.occurred_at, "recorded_by": r.recorded_by, "recorded_at": r.recorded_at,
         "object_type": r.object_type, "object_id": r.object_id} for r in rows]}


async def list_hospital_notices(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = await repo.hospital_notices(uow, citizen_id)
    uow.audit(user, "hospital_notice.read", citizen_id=citizen_id, object_type="hospital_notice")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "notices": [
        {"notice_id": str(r.id), "message_id": str(r.message_id), "action": r.action, "code": r.code, "kind": r.kind,
         "status": r.status, "hospital_episode_id": r.hospital_episode_id, "department": r.department,
         "sender_org": r.sender_org, "sender_name": r.sender_name, "occurred_at": r.occurred_at, "received_at": r.received_at,
         "replaces_notice_id": str(r.replaces_notice_id) if r.replaces_notice_id else None,
         "replaced_by_message_id": str(r.replaced_by_message_id) if r.replaced_by_message_id else None,
         "legal_basis": r.legal_basis} for r in rows]}


async def choose_the_tovholder(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                               body: s.TovholderBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.CHOOSE_TOVHOLDER, citizen_id, lock=True)
    roster = await repo.nurse_consultant_subs(uow, record.botilbud_id)
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


async def list_nurse_consultants(uow: UnitOfWork, user: Principal, botilbud_id: str) -> dict[str, Any]:
    if user.role not in (Role.CITIZEN, Role.COORDINATOR, Role.NURSE_CONSULTANT, Role.ADMIN):
        raise Forbidden("Kun botilbuddets borgere og medarbejdere ser dets sygeplejekonsulenter.")
    if user.role in (Role.COORDINATOR, Role.NURSE_CONSULTANT) and user.botilbud != botilbud_id:
        raise Forbidden("Medarbejdere ser sygeplejekonsulenterne på deres eget botilbud.")
    if user.role == Role.CITIZEN:
        own = await repo.health_record(uow, _uuid_or_none(user.sub))
        if (own.botilbud_id if own else None) != botilbud_id:
            raise Forbidden("En borger ser sygeplejekonsulenterne på sit eget botilbud.")
    rows = await repo.nurse_consultants(uow, botilbud_id)
    return {"botilbud_id": botilbud_id, "nurse_consultants": [{"sub": r.sub, "name": r.name} for r in rows]}


async def set_nurse_consultants(uow: UnitOfWork, user: Principal, botilbud_id: str,
                                body: list[dict[str, str]]) -> dict[str, Any]:
    if user.role != Role.ADMIN:
        raise Forbidden("Kun en administrator vedligeholder listen over sygeplejekonsulenter.")
    subs = [(str(item.get("sub", "")).strip(), item.get("name")) for item in body]
    if any(not sub for sub, _ in subs):
        raise DomainError("hver sygeplejekonsulent skal have et bruger-id (sub)")
    await repo.replace_nurse_consultants(uow, botilbud_id, subs)
    uow.audit(user, "nurse_consultant.roster", detail={"botilbud_id": botilbud_id, "count": len(subs)})
    await uow.commit()
    return {"botilbud_id": botilbud_id, "nurse_consultants": [{"sub": s_, "name": n} for s_, n in subs]}


async def record_external_contact(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                  body: s.ContactBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    contact = rule(validate_contact, ExternalContact(ContactKind(body.kind), body.counterpart, body.org, body.who, body.what,
                                                     _aware(body.occurred_at, "occurred_at"), user.sub),
                   recorded_at=now_utc() + timedelta(minutes=1))
    entry = TimelineEntry(id=uuid.uuid4(), citizen_id=citizen_id, kind=contact.kind.value, counterpart=contact.counterpart,
                          org=contact.org, who=contact.who, what=contact.what, occurred_at=contact.occurred_at,
                          recorded_by=user.sub, object_type="external_contact")
    repo.add(uow, entry)
    uow.emit(ExternalContactRecordedV1(citizen_id=citizen_id, contact_id=entry.id, kind=contact.kind.value,
                                       counterpart=contact.counterpart, occurred_at=contact.occurred_at))
    uow.audit(user, "external_contact.record", citizen_id=citizen_id, object_type="timeline_entry", object_id=entry.id)
    await uow.commit()
    return {"entry_id": str(entry.id)}


async def set_gp_practice(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                          body: s.GpPracticeBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    record.gp_practice = body.gp_practice.strip()
    uow.audit(user, "health_record.gp_practice", citizen_id=citizen_id, object_type="health_record", object_id=record.id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "gp_practice": record.gp_practice}


# ==================================================================== the annual health check


def _check_out(check: HealthCheck, decisions: list[HealthCheckDecision] | None = None, today: date | None = None) -> dict[str, Any]:
    domain = repo.domain_check(check)
    readiness = hc.readiness(domain, today or now_utc().astimezone(hc.DANISH_TIME).date())
    deadlines = {d.step: d for d in hc.preparation_deadlines(domain.check_day)}
    out = {
        "health_check_id": str(check.id), "citizen_id": str(check.citizen_id), "year": check.year, "extended": check.extended,
        "starts_at": check.starts_at, "gp_practice": check.gp_practice, "status": check.status,
        "steps": [{"step": st.value, "status": readiness[st].value, "target": deadlines[st].target,
                   "deadline": deadlines[st].deadline, "role": deadlines[st].role} for st in hc.PreparationStep],
        "pre_assessment": check.pre_assessment, "examination": check.examination, "participants": check.participants,
        "minutes": check.minutes, "declined_at": check.declined_at, "decline_reason": check.decline_reason,
        "held_at": check.held_at, "pre_assessment_question": hc.THE_QUESTION,
    }
    if decisions is not None:
        out["decisions"] = [{"decision_id": str(d.id), "kind": d.kind, "title": d.title, "due_at": d.due_at,
                             "responsible_sub": d.responsible_sub, "reminders_at": d.reminders_at,
                             "review_on": d.review_on} for d in decisions]
    return out


def _announce(uow: UnitOfWork, check: HealthCheck, record: HealthRecord, *, only_steps_not_done: bool = False) -> None:
    """The check is on: its date with reminders, and each preparation step with its deadline."""
    deadlines = hc.preparation_deadlines(check.starts_at.astimezone(hc.DANISH_TIME).date())
    by_step = {d.step: d for d in deadlines}
    uow.emit(HealthCheckScheduledV1(
        citizen_id=record.citizen_id, health_check_id=check.id, year=check.year, extended=check.extended,
        starts_at=check.starts_at, gp_practice=check.gp_practice,
        pre_assessment_due=by_step[hc.PreparationStep.PRE_ASSESSMENT].target,
        preparation_due=by_step[hc.PreparationStep.MEDICATION_REVIEW].target,
        reminders_at=list(hc.reminders_before(check.starts_at, get_settings().reminder_schedule)), tovholder_sub=record.tovholder_sub,
        botilbud_id=record.botilbud_id,
    ))
    for d in deadlines:
        if only_steps_not_done and d.step.value in check.steps_done:
            continue
        uow.emit(HealthCheckStepDueV1(
            citizen_id=record.citizen_id, health_check_id=check.id, step=d.step.value, target=d.target, deadline=d.deadline,
            assignee_role=d.role, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id,
        ))


async def _schedule_check(uow: UnitOfWork, record: HealthRecord, starts_at: datetime, gp_practice: str | None,
                          *, actor: Principal) -> HealthCheck:
    starts_at = _aware(starts_at, "starts_at")
    check_day = starts_at.astimezone(hc.DANISH_TIME).date()
    rule(hc.check_day_is_reachable, check_day, now_utc().astimezone(hc.DANISH_TIME).date())
    existing = await repo.check_of_year(uow, record.citizen_id, check_day.year)
    if existing is not None:
        raise Conflict(f"Borgeren har allerede et sundhedstjek i {check_day.year} "
                       f"({hc.CHECK_STATUS_DA.get(existing.status, existing.status)}); der er højst ét om året.")
    extended_years = await repo.extended_check_years(uow, record.citizen_id)
    cadence = await repo.cadence_of(uow, record.botilbud_id)
    check = HealthCheck(id=uuid.uuid4(), citizen_id=record.citizen_id, year=check_day.year,
                        extended=hc.is_extended(check_day.year, extended_years, cadence), starts_at=starts_at,
                        gp_practice=(gp_practice or record.gp_practice), status=hc.CheckStatus.PLANNED.value,
                        steps_done=[], scheduled_by=actor.sub)
    repo.add(uow, check)
    _announce(uow, check, record)
    uow.audit(actor, "health_check.schedule", citizen_id=record.citizen_id, object_type="health_check", object_id=check.id,
              detail={"extended": check.extended})
    return check


async def schedule_health_check(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                body: s.ScheduleBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.HEALTH_CHECK_MINUTES, citizen_id, lock=True)
    check = await _schedule_check(uow, record, body.starts_at, body.gp_practice, actor=user)
    await uow.commit()
    return _check_out(check)


async def list_health_checks(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    checks = await repo.health_checks(uow, citizen_id)
    uow.audit(user, "health_check.read", citizen_id=citizen_id, object_type="health_check")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "health_checks": [_check_out(c) for c in checks]}


async def _check_for(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID, action: Action) -> tuple[HealthCheck, HealthRecord]:
    check = await repo.health_check(uow, health_check_id, lock=True)
    if check is None:
        raise NotFound(NO_SUCH_CHECK)
    record = await authorize(uow, user, action, check.citizen_id, not_found=NO_SUCH_CHECK)
    return check, record


async def read_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.READ)
    decisions = await repo.check_decisions(uow, check.id)
    uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check, decisions)


def _complete_step(uow: UnitOfWork, check: HealthCheck, step: hc.PreparationStep) -> None:
    rule(hc.complete_step, repo.domain_check(check), step, pre_assessment=repo.domain_pre_assessment(check))
    if step.value not in check.steps_done:
        check.steps_done = [*check.steps_done, step.value]
        uow.emit(HealthCheckStepCompletedV1(citizen_id=check.citizen_id, health_check_id=check.id, step=step.value,
                                            completed_at=now_utc()))


async def record_pre_assessment(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                                body: s.PreAssessmentBody) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    pre = rule(hc.validate_pre_assessment, hc.PreAssessment(
        tuple(hc.ThemeAnswer(hc.PreAssessmentTheme(a.theme), a.citizens_words, a.symptom_score) for a in body.answers),
        body.wants_to_talk_about, body.done_on, user.sub, body.setting,
        tuple(hc.ThemeSkipped(hc.PreAssessmentTheme(k.theme), k.reason) for k in body.skipped)))
    if check.status != hc.CheckStatus.PLANNED.value:
        raise DomainError(f"Sundhedstjekket er {hc.CHECK_STATUS_DA[check.status]}; forberedelsen kan ikke ændres.")
    check.pre_assessment = {**body.model_dump(mode="json"), "done_by": user.sub, "complete": pre.complete,
                            "themes_not_covered": [t.value for t in pre.themes_not_covered]}
    if pre.complete:  # done only with every theme answered or skipped with a reason; else saved as begun
        _complete_step(uow, check, hc.PreparationStep.PRE_ASSESSMENT)
    uow.audit(user, "health_check.pre_assessment", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def record_examination(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                             body: s.ExaminationBody) -> dict[str, Any]:
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


async def complete_step(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID, step: str) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    _complete_step(uow, check, hc.PreparationStep(step))
    uow.audit(user, f"health_check.step.{step}", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def decline_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                               body: s.DeclineBody | None) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    declined = rule(hc.decline, repo.domain_check(check), reason=body.reason if body else None)
    if check.status != hc.CheckStatus.DECLINED.value:
        check.status, check.decline_reason, check.declined_at = declined.status.value, declined.decline_reason, now_utc()
        uow.emit(HealthCheckDeclinedV1(citizen_id=check.citizen_id, health_check_id=check.id, declined_at=check.declined_at))
    uow.audit(user, "health_check.decline", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def accept_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    if check.status == hc.CheckStatus.DECLINED.value:
        rule(hc.accept_again, repo.domain_check(check), now_utc().astimezone(hc.DANISH_TIME).date())
        check.status, check.declined_at, check.decline_reason = hc.CheckStatus.PLANNED.value, None, None
        _announce(uow, check, record, only_steps_not_done=True)
    uow.audit(user, "health_check.accept", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def record_check_held(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                            body: s.HeldBody) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.HEALTH_CHECK_MINUTES)
    held_at = _aware(body.held_at, "held_at")
    participants = [hc.Participant(hc.ParticipantRole(p.role), p.name, p.org, p.sub) for p in body.participants]
    rule(hc.hold, repo.domain_check(check), participants, held_at.astimezone(hc.DANISH_TIME).date())
    outcomes = [rule(hc.outcome_of, hc.Decision(hc.DecisionKind(d.kind), d.title.strip(),
                                                _aware(d.due_at, "due_at") if d.due_at else None,
                                                d.responsible_sub, d.citizen_wants_reminders, d.review_on), held_at=held_at,
                     schedule=get_settings().reminder_schedule)
                for d in body.decisions]
    check.status, check.held_at = hc.CheckStatus.HELD.value, held_at
    check.participants = [p.model_dump() for p in body.participants]
    check.minutes = body.minutes
    # Held first: it closes the check's reminders and preparation, before the decisions' own tasks arrive.
    uow.emit(HealthCheckHeldV1(citizen_id=check.citizen_id, health_check_id=check.id, held_at=held_at,
                               participant_roles=sorted({p.role for p in body.participants}), decisions=len(outcomes),
                               tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    decisions = []
    for outcome in outcomes:
        d = outcome.decision
        row = HealthCheckDecision(id=uuid.uuid4(), health_check_id=check.id, citizen_id=check.citizen_id, kind=d.kind.value,
                                  title=d.title, due_at=d.due_at, responsible_sub=d.responsible_sub or record.tovholder_sub,
                                  reminders_at=[r.isoformat() for r in outcome.reminders], review_on=outcome.review_on)
        repo.add(uow, row)
        decisions.append(row)
        uow.emit(HealthCheckDecisionRecordedV1(
            citizen_id=check.citizen_id, decision_id=row.id, health_check_id=check.id, kind=row.kind, title=row.title,
            due_at=row.due_at, reminders_at=list(outcome.reminders), responsible_sub=row.responsible_sub,
            plan_update=outcome.plan_update, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id,
            review_on=row.review_on))
        if outcome.plan_update:  # plans proposes it as a plan entry; the coordinator confirms it with the citizen
            uow.emit(HealthCheckPlanEntryProposedV1(
                citizen_id=check.citizen_id, proposal_id=row.id, health_check_id=check.id, decision_kind=row.kind,
                title=row.title, held_at=held_at, due_at=row.due_at, review_on=row.review_on,
                responsible_sub=row.responsible_sub, botilbud_id=record.botilbud_id))
    repo.add(uow, TimelineEntry(
        citizen_id=check.citizen_id, kind=ContactKind.HEALTH_CHECK.value, counterpart="gp",
        org=check.gp_practice, who=", ".join(f"{p.name} ({p.role})" for p in body.participants if p.role != "citizen")[:200],
        what=f"Sundhedstjek holdt{' (udvidet)' if check.extended else ''}: {len(decisions)} beslutning(er)",
        occurred_at=held_at, recorded_by=user.sub, object_type="health_check", object_id=str(check.id)))
    uow.audit(user, "health_check.held", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
              detail={"decisions": len(decisions)})
    await uow.commit()
    return _check_out(check, decisions)


async def botilbud_health_checks(uow: UnitOfWork, user: Principal, botilbud_id: str, year: int | None) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("Kun botilbuddets egne sygeplejekonsulenter og koordinatorer ser dets sundhedstjek.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    year = year or today.year
    rows = await repo.botilbud_checks(uow, botilbud_id, year)
    for check in rows:
        uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
                  detail={"via": "botilbud overview"})
    await uow.commit()
    overview = []
    for check in rows:
        out = _check_out(check, today=today)
        overview.append({k: out[k] for k in ("health_check_id", "citizen_id", "year", "extended", "starts_at",
                                              "gp_practice", "status", "steps")})
    late = sum(1 for c in overview for st in c["steps"] if st["status"] == "late")
    return {"botilbud_id": botilbud_id, "year": year, "health_checks": overview, "late_steps": late}


async def plan_check_days(uow: UnitOfWork, user: Principal, botilbud_id: str, body: s.PlanDaysBody) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("Kun botilbuddets egne sygeplejekonsulenter og koordinatorer planlægger dets sundhedstjekdage.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    for day in body.days:
        rule(hc.check_day_is_reachable, day, today)
    records = await repo.living_records_of_botilbud(uow, botilbud_id)
    years = {d.year for d in body.days}
    existing = {(c.citizen_id, c.year): c for c in await repo.checks_of(uow, [r.citizen_id for r in records], years)}
    year = min(years)
    cadence = await repo.cadence_of(uow, botilbud_id)
    last_held = await repo.last_held_years(uow, [r.citizen_id for r in records], year)
    not_due = [str(r.citizen_id) for r in records if not hc.is_due(year, last_held.get(r.citizen_id), cadence)]
    to_plan = [hc.CitizenToPlan(str(r.citizen_id), r.gp_practice or "ukendt lægepraksis",
                                declined=(r.citizen_id, year) in existing and existing[(r.citizen_id, year)].status == "declined")
               for r in records if str(r.citizen_id) not in not_due
               and ((r.citizen_id, year) not in existing or existing[(r.citizen_id, year)].status == "declined")]
    plan = rule(hc.plan_check_days, to_plan, body.days, slot_minutes=body.slot_minutes, per_day=body.per_day,
                first_slot=body.first_slot, one_practice_per_day=body.one_practice_per_day)
    if body.schedule and plan.warnings and not body.confirm_warnings:
        raise DomainError("Planen ligger uden for den sædvanlige dag: " + "; ".join(plan.warnings)
                          + ". Bekræft planen (confirm_warnings), hvis det er meningen.", code="confirm-warnings")
    by_id = {str(r.citizen_id): r for r in records}
    scheduled = []
    if body.schedule:
        for day in plan.days:
            for slot in day.slots:
                check = await _schedule_check(uow, by_id[slot.citizen_id], slot.starts_at, slot.gp_practice, actor=user)
                scheduled.append(str(check.id))
    uow.audit(user, "health_check.plan_days", detail={"botilbud_id": botilbud_id, "scheduled": len(scheduled),
                                                       "warnings_confirmed": list(plan.warnings) if scheduled else []})
    await uow.commit()
    return {"botilbud_id": botilbud_id, "days": [
        {"day": d.day, "gp_practices": list(d.gp_practices), "slots": [
            {"citizen_id": sl.citizen_id, "gp_practice": sl.gp_practice, "starts_at": sl.starts_at, "ends_at": sl.ends_at}
            for sl in d.slots]} for d in plan.days],
        "not_planned": list(plan.not_planned), "declined": list(plan.declined), "scheduled_health_check_ids": scheduled,
        "not_due": not_due, "cadence": cadence.words, "warnings": list(plan.warnings)}


def _cadence_out(botilbud_id: str, cadence: hc.Cadence, *, default: bool) -> dict[str, Any]:
    return {"botilbud_id": botilbud_id, "every_years": cadence.every_years,
            "extended_every_years": cadence.extended_every_years, "description": cadence.words, "default": default}


def _require_botilbud_staff(user: Principal, botilbud_id: str, *, roles: tuple[str, ...]) -> None:
    if user.role == Role.ADMIN or (user.role in roles and user.botilbud == botilbud_id):
        return
    raise Forbidden("Kun botilbuddets egne medarbejdere og en administrator har adgang til botilbuddets indstillinger "
                    "for sundhedstjek.")


async def read_health_check_cadence(uow: UnitOfWork, user: Principal, botilbud_id: str) -> dict[str, Any]:
    _require_botilbud_staff(user, botilbud_id, roles=(Role.NURSE_CONSULTANT, Role.COORDINATOR))
    row = await repo.cadence_row(uow, botilbud_id)
    return _cadence_out(botilbud_id, await repo.cadence_of(uow, botilbud_id), default=row is None)


async def set_health_check_cadence(uow: UnitOfWork, user: Principal, botilbud_id: str,
                                   body: s.CadenceBody) -> dict[str, Any]:
    """The botilbud's cadence: every year or every second year (the DSAM agreement), optionally with an
    extended check every Nth year (Tangkær: 5). Set by an administrator or the botilbud's nurse consultant."""
    _require_botilbud_staff(user, botilbud_id, roles=(Role.NURSE_CONSULTANT,))
    cadence = rule(hc.Cadence, body.every_years, body.extended_every_years)
    await repo.set_cadence(uow, botilbud_id=botilbud_id, cadence=cadence, set_by=user.sub)
    uow.audit(user, "health_check.cadence", detail={"botilbud_id": botilbud_id, "every_years": cadence.every_years,
                                                    "extended_every_years": cadence.extended_every_years})
    await uow.commit()
    return _cadence_out(botilbud_id, cadence, default=False)


# ==================================================================== forensic psychiatry


async def record_treatment_order(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                 body: s.TreatmentOrderBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id, lock=True)
    order = rule(fx.validate_treatment_order, fx.TreatmentOrder(
        body.court.strip(), body.judgment_date, tuple(c.strip() for c in body.conditions), body.valid_until, body.forensic_team_org))
    for old in await repo.current_treatment_orders(uow, citizen_id):
        old.current = False  # kept as history
    row = TreatmentOrder(id=uuid.uuid4(), citizen_id=citizen_id, court=order.court, judgment_date=order.judgment_date,
                         valid_until=order.valid_until, conditions=list(order.conditions),
                         forensic_team_org=order.forensic_team_org, current=True, recorded_by=user.sub)
    repo.add(uow, row)
    uow.emit(TreatmentOrderRecordedV1(citizen_id=citizen_id, treatment_order_id=row.id, judgment_date=row.judgment_date,
                                      valid_until=row.valid_until, conditions_count=len(row.conditions)))
    uow.audit(user, "treatment_order.record", citizen_id=citizen_id, object_type="treatment_order", object_id=row.id)
    await uow.commit()
    return {"treatment_order_id": str(row.id), "conditions": row.conditions}


async def create_depot_schedule(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                body: s.DepotScheduleBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    rule(fx.DepotSchedule, body.weekday, body.at, body.starts_on, body.ends_on, timedelta(minutes=body.grace_minutes),
         body.interval_weeks)
    row = DepotSchedule(id=uuid.uuid4(), citizen_id=citizen_id, weekday=body.weekday, at=body.at, starts_on=body.starts_on,
                        ends_on=body.ends_on, interval_weeks=body.interval_weeks, grace_minutes=body.grace_minutes,
                        forensic_team_org=body.forensic_team_org)
    repo.add(uow, row)
    uow.audit(user, "depot_schedule.create", citizen_id=citizen_id, object_type="depot_schedule", object_id=row.id)
    await uow.commit()
    return {"schedule_id": str(row.id)}


async def record_depot_visit(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                             body: s.DepotVisitBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    schedule = await repo.depot_schedule(uow, body.schedule_id)
    if schedule is None or schedule.citizen_id != citizen_id:
        raise NotFound("Borgeren har ingen sådan depotplan.")
    visited_at = _aware(body.visited_at, "visited_at")
    if visited_at > now_utc() + timedelta(minutes=5):
        raise DomainError("besøget ligger i fremtiden; registrér det, når det har fundet sted")
    row = DepotVisit(id=uuid.uuid4(), schedule_id=schedule.id, citizen_id=citizen_id, visited_at=visited_at,
                     outcome=body.outcome, recorded_by=user.sub)
    repo.add(uow, row)
    repo.add(uow, TimelineEntry(citizen_id=citizen_id, kind=ContactKind.DEPOT_VISIT.value, counterpart="forensic-psychiatry",
                                org=schedule.forensic_team_org, who=None, what=f"Besøg med depotmedicin: {fx.VISIT_OUTCOME_DA.get(body.outcome, body.outcome)}",
                                occurred_at=visited_at, recorded_by=user.sub, object_type="depot_visit", object_id=str(row.id)))
    uow.audit(user, "depot_visit.record", citizen_id=citizen_id, object_type="depot_visit", object_id=row.id)
    await uow.commit()
    return {"visit_id": str(row.id)}


async def record_coercion_considered(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                     body: s.CoercionBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    has_order = await repo.has_current_treatment_order(uow, citizen_id)
    entry = rule(fx.validate_coercion_entry, fx.CoercionConsidered(
        _aware(body.considered_at, "considered_at"), fx.CoercionMeasure(body.measure), body.situation,
        body.least_intrusive_alternative, fx.CoercionDecision(body.decision), body.decided_by_sub or user.sub,
        body.decided_by_role or user.role, tuple(body.participants), body.citizen_informed),
        recorded_at=now_utc() + timedelta(minutes=1), has_treatment_order=has_order)
    row = CoercionLogEntry(id=uuid.uuid4(), citizen_id=citizen_id, considered_at=entry.considered_at, measure=entry.measure.value,
                           situation=entry.situation, least_intrusive_alternative=entry.least_intrusive_alternative,
                           decision=entry.decision.value, decided_by_sub=entry.decided_by_sub, decided_by_role=entry.decided_by_role,
                           participants=list(entry.participants), citizen_informed=entry.citizen_informed, recorded_by=user.sub)
    repo.add(uow, row)
    uow.emit(CoercionConsideredV1(citizen_id=citizen_id, entry_id=row.id, measure=row.measure, decision=row.decision,
                                  considered_at=row.considered_at, decided_by_sub=row.decided_by_sub,
                                  tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    uow.audit(user, "coercion_log.record", citizen_id=citizen_id, object_type="coercion_log_entry", object_id=row.id)
    await uow.commit()
    return {"entry_id": str(row.id)}


async def read_forensic(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    orders = await repo.treatment_orders(uow, citizen_id)
    schedules = await repo.depot_schedules(uow, citizen_id)
    visits = await repo.depot_visits(uow, citizen_id)
    missed = await repo.missed_depot_visits(uow, citizen_id)
    log = await repo.coercion_log(uow, citizen_id)
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


DEPOT_LOOKBACK = timedelta(days=14)


async def detect_missed_depot_visits(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Raise one alert per missed depot-medication slot (idempotent by the slot's unique key)."""
    now = now or now_utc()
    raised = 0
    for schedule in await repo.all_depot_schedules_to_scan(uow):
        since_moment = (schedule.checked_until or datetime.combine(schedule.starts_on, datetime.min.time(), tzinfo=timezone.utc))
        since = (since_moment - timedelta(days=1)).astimezone(fx.DANISH_TIME).date()
        since = max(since, (now - DEPOT_LOOKBACK).astimezone(fx.DANISH_TIME).date(), schedule.starts_on)
        rules = repo.depot_rules(schedule)
        visits = await repo.depot_visits_since(
            uow, schedule.id, datetime.combine(since, datetime.min.time(), tzinfo=fx.DANISH_TIME) - timedelta(days=1))
        notices = await repo.notice_records(uow, schedule.citizen_id)
        missed = fx.missed_visits(rules, visits, now=now, since=since, notices=notices)
        record = await repo.health_record(uow, schedule.citizen_id)
        if record is not None and record.deceased_at is not None:
            missed = []
        for miss in missed:
            missed_id = await repo.insert_missed_depot_visit(uow, schedule=schedule, scheduled_for=miss.scheduled_for,
                                                             reason=miss.reason.value, detected_at=now)
            if missed_id is None:
                continue
            raised += 1
            uow.emit(DepotVisitMissedV1(
                citizen_id=schedule.citizen_id, schedule_id=schedule.id, scheduled_for=miss.scheduled_for,
                reason=miss.reason.value, tovholder_sub=record.tovholder_sub if record else None,
                botilbud_id=record.botilbud_id if record else None,
            ))
            repo.add(uow, TimelineEntry(
                citizen_id=schedule.citizen_id, kind="depot-visit", counterpart="forensic-psychiatry",
                org=schedule.forensic_team_org, who=None,
                what=f"Depotmedicin ikke givet ({fx.MISS_REASON_DA.get(miss.reason.value, miss.reason.value)})", occurred_at=miss.scheduled_for,
                recorded_by="system", object_type="missed_depot_visit", object_id=str(missed_id),
            ))
            uow.audit(None, "depot_visit.missed", citizen_id=schedule.citizen_id, object_type="depot_schedule",
                      object_id=schedule.id, detail={"scheduled_for": miss.scheduled_for.isoformat()})
        schedule.checked_until = now
    await uow.commit()
    return raised


# ==================================================================== events from the other services
# These run inside the kit's consumer transaction (with the inbox entry): they do not commit.


async def citizen_registered(uow: UnitOfWork, event: CitizenRegisteredV1) -> tuple[int, int, int]:
    """Remember the citizen; what was parked for their CPR finds its owner. Returns (notices matched,
    notices rejected, partner messages recorded)."""
    await repo.lock_cpr(uow, event.cpr_hash)
    await repo.upsert_known_citizen(uow, citizen_id=event.citizen_id, cpr_hash=event.cpr_hash, name=event.citizen_name)
    # Hospital notices that arrived before the municipality knew the citizen now find their owner.
    matched, rejected = await match_parked_notices(uow, event.citizen_id, event.cpr_hash, actor=None)
    # So do the partners' documents and medication changes (accepted without telling them the CPR was unknown).
    recorded = await match_parked_partner_messages(uow, event.citizen_id, event.cpr_hash)
    return matched, rejected, recorded


def _open_record(uow: UnitOfWork, citizen_id: uuid.UUID, botilbud_id: str, cause: str) -> HealthRecord:
    record = HealthRecord(id=uuid.uuid4(), citizen_id=citizen_id, botilbud_id=botilbud_id)
    repo.add(uow, record)
    uow.emit(HealthRecordOpenedV1(citizen_id=citizen_id, health_record_id=record.id,
                                  botilbud_id=botilbud_id, opened_at=now_utc()))
    uow.audit(None, "health_record.open", citizen_id=citizen_id, object_type="health_record",
              object_id=record.id, detail={"cause": cause})
    return record


async def place_granted(uow: UnitOfWork, event: VisitationDecidedV1, *, cause: str) -> None:
    if event.decision != "granted" or not event.botilbud_id:
        return
    if await repo.health_record(uow, event.citizen_id) is not None:
        return
    _open_record(uow, event.citizen_id, event.botilbud_id, cause)


async def placement_started(uow: UnitOfWork, event: PlacementStartedV1, *, cause: str) -> None:
    """Moving in opens the record if the grant did not (e.g. a waitlisted place); moving to another
    botilbud moves the record, and the citizen chooses among the new botilbud's nurse consultants."""
    if not event.botilbud_id:
        return
    record = await repo.health_record(uow, event.citizen_id, lock=True)
    if record is None:
        _open_record(uow, event.citizen_id, event.botilbud_id, cause)
    elif record.botilbud_id != event.botilbud_id:
        previous = record.botilbud_id
        record.botilbud_id, record.tovholder_sub = event.botilbud_id, None
        uow.audit(None, "health_record.move", citizen_id=event.citizen_id, object_type="health_record",
                  object_id=record.id, detail={"from": previous, "to": event.botilbud_id, "cause": cause})


async def network_member_added(uow: UnitOfWork, event: NetworkMemberAddedV1) -> None:
    """The citizen's network may read their health data (access rule), so health keeps a copy."""
    await repo.upsert_network_member(uow, citizen_id=event.citizen_id, staff_sub=event.staff_id, role=str(event.role))


async def network_member_removed(uow: UnitOfWork, event: NetworkMemberRemovedV1) -> None:
    await repo.delete_network_member(uow, citizen_id=event.citizen_id, staff_sub=event.staff_id)


async def consent_given(uow: UnitOfWork, event: ConsentGivenV1) -> None:
    """What the citizen consents to share decides what health passes on to partners."""
    values = dict(citizen_id=event.citizen_id, recipient_kind=event.recipient_kind, recipient_id=event.recipient_id,
                  category=event.category, given_at=event.given_at)
    await repo.upsert_consent(uow, consent_id=event.consent_id, values={"revoked_at": None, **values}, on_conflict=values)


async def consent_revoked(uow: UnitOfWork, event: ConsentRevokedV1) -> None:
    values = dict(citizen_id=event.citizen_id, recipient_kind=event.recipient_kind, recipient_id=event.recipient_id,
                  category=event.category, given_at=event.given_at, revoked_at=event.revoked_at)
    # Upsert: the revocation may arrive before the grant (another partition), and must win.
    await repo.upsert_consent(uow, consent_id=event.consent_id, values=values,
                              on_conflict={"revoked_at": event.revoked_at})


# ==================================================================== FHIR R4 read: Encounter (hospital stays)

NO_SUCH_ENCOUNTER = "No such Encounter that you may read."
NO_PATIENT_YOU_MAY_READ = "No such Patient whose hospital stays you may read."
_LAST_UPDATED_PREFIXES = ("eq", "ge", "le", "gt", "lt")


def _invalid_search(text: str) -> TovholderError:
    return TovholderError(text, code="invalid-search")  # 400


async def _readable_stays(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                          not_found: str = NO_PATIENT_YOU_MAY_READ) -> list[fhir_encounter.Stay]:
    """The citizen's stays if ``user`` may read the citizen's health details (the REST API's rule,
    ``tovholder.access.may_read_health_details``) and the token's SMART scopes, if any, allow it."""
    if (refusal := scope_refusal(user, "Encounter")) is not None:
        uow.audit(user, "health.access_denied", citizen_id=citizen_id, object_type="encounter",
                  detail={"scope": user.scope or ""})
        await uow.commit()
        raise Forbidden(refusal)
    await authorize(uow, user, Action.READ, citizen_id, not_found=not_found)
    return fhir_encounter.stays(citizen_id, await repo.hospital_notices(uow, citizen_id))


async def read_encounter(uow: UnitOfWork, user: Principal, encounter_id: str) -> dict[str, Any]:
    """``GET /fhir/r4/Encounter/{id}``: one hospital stay (audited)."""
    citizen_id = fhir_encounter.citizen_of(encounter_id)
    if citizen_id is None:
        raise NotFound(NO_SUCH_ENCOUNTER)
    stay = next((x for x in await _readable_stays(uow, user, citizen_id, NO_SUCH_ENCOUNTER) if x.id == encounter_id), None)
    if stay is None:
        raise NotFound(NO_SUCH_ENCOUNTER)
    uow.audit(user, "encounter.read", citizen_id=citizen_id, object_type="encounter", object_id=encounter_id)
    await uow.commit()
    return dump_resource(stay.resource)


def _when(value: str) -> tuple[str, datetime]:
    op = value[:2] if value[:2] in _LAST_UPDATED_PREFIXES else "eq"
    text = value[2:] if value[:2] in _LAST_UPDATED_PREFIXES else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid_search(f"_lastUpdated {value!r} is not a date or dateTime with an optional prefix "
                              "(eq, ge, le, gt, lt), e.g. ge2026-11-01 or lt2026-11-22T10:00:00+01:00") from None
    return op, moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def search_encounters(uow: UnitOfWork, user: Principal, *, patient: str | None, status: str | None,
                            last_updated: list[str], count: int, offset: int) -> tuple[list[Any], int]:
    """``GET /fhir/r4/Encounter?patient=…``: one citizen's stays, newest first, one page (audited)."""
    if patient is None and user.role == "citizen":
        patient = user.sub
    if patient is None:
        raise _invalid_search("Search Encounters of one citizen: give patient=Patient/<citizen_id>.")
    citizen_id = _uuid_or_none(patient.removeprefix("Patient/"))
    if citizen_id is None:
        raise _invalid_search(f"patient {patient!r} is not Patient/<citizen_id> (a UUID).")
    statuses = set(status.split(",")) if status else None
    if statuses and not statuses <= set(fhir_encounter.STATUSES):
        raise _invalid_search(f"status must be one of {', '.join(fhir_encounter.STATUSES)} (comma-separated).")
    conditions = [_when(v) for v in last_updated]
    stays = [x for x in await _readable_stays(uow, user, citizen_id)
             if (statuses is None or x.status in statuses) and fhir_encounter.matches_last_updated(x, conditions)]
    page = stays[offset:offset + count]
    uow.audit(user, "encounter.list", citizen_id=citizen_id, object_type="encounter",
              detail={"count": len(page), "total": len(stays)})
    await uow.commit()
    return [x.resource for x in page], len(stays)
