"""MedCom HospitalNotification (FHIR ``$process-message``): the same intake as the contract's hospital
notices, answered with a MedCom Acknowledgement kept for the duplicate window."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from fastapi import Response

from services.health import repository as repo
from services.health import schemas as s
from services.health.fhir import medcom
from services.health.fhir.acknowledgement import FATAL, OK, TRANSIENT, acknowledgement
from services.health.fhir.acknowledgement import resend as resend_acknowledgement
from services.health.services.common import now_utc
from services.health.services.hospital_notices import hospital_notification_effect, notice_intake_reads
from tovholder.auth import Principal
from tovholder.cpr import CprVault
from tovholder.fhir import RETRY_AFTER_S, fhir_response
from tovholder.receipts import FatalMessage, parse_body, receive_message, unstorable_value
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)


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
                                             endpoint=MEDCOM_PROCESS_MESSAGE, sender=partner, process=process,
                                             **notice_intake_reads(vault))
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
