"""Partner documents (lab results, pharmacist reviews, psychiatrist notes) and partner medication
changes: the receipt flow, parking for an unknown CPR, and passing documents on by consent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import JSONResponse

from contracts.health import PartnerDocumentReceivedV1
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain import health_check as hc
from services.health.domain.access import Action, may_pass_on
from services.health.domain.errors import HealthRuleViolation
from services.health.domain.medication import ChangeKind, ChangeSource, FmkReference, validate_change
from services.health.domain.medication import MedicationChange as DomainChange
from services.health.domain.tovholder import DOCUMENT_COUNTERPART, DOCUMENT_WORDS, ContactKind
from services.health.models import HealthCheck, PartnerDocument, TimelineEntry, UnmatchedPartnerMessage
from services.health.services.common import (KnownPerson, NO_SUCH_DOCUMENT, _partner_aware, authorize, now_utc,
                                             person_intake_reads)
from services.health.services.health_check import _complete_step
from services.health.services.medication import _record_medication_change
from tovholder.auth import Principal
from tovholder.cpr import CprVault, normalize_cpr
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.receipts import FatalMessage, receive_message
from tovholder.uow import UnitOfWork

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

    return await receive_message(uow, raw, model, endpoint=endpoint, sender=partner, process=process,
                                 **person_intake_reads(vault, lambda uow, cpr_hash, message, earlier:
                                                       repo.look_up_partner_message_intake(uow, cpr_hash, earlier)))


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

    # The citizen's notices come with the person: a change during an admission raises an alert.
    return await receive_message(uow, raw, s.PartnerMedicationChange, endpoint="medication-changes", sender=partner,
                                 process=process, **person_intake_reads(
                                     vault, lambda uow, cpr_hash, message, earlier: repo.look_up_notice_intake(
                                         uow, cpr_hash, message.sender.org, earlier)))


async def _record_document(
    uow: UnitOfWork, person: KnownPerson, *, kind: str, message_id: uuid.UUID, sender_org: str,
    sender_name: str | None, occurred_at: datetime, received_at: datetime, health_check_id: uuid.UUID | None,
    content: dict[str, Any], actor: Principal | None,
) -> uuid.UUID:
    """The document on the citizen's record and timeline, its event and audit entry."""
    document_id = uuid.uuid4()
    record = person.record
    repo.add_unread(uow, PartnerDocument(
        id=document_id, message_id=message_id, citizen_id=person.citizen_id, kind=kind, sender_org=sender_org,
        sender_name=sender_name, received_at=received_at, health_check_id=health_check_id, content=content,
    ))
    repo.add_unread(uow, TimelineEntry(
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


def _medication_change_content(change: DomainChange) -> dict[str, Any]:
    return {"fmk_reference": change.fmk_reference.value, "change_kind": change.kind.value,
            "changed_at": change.changed_at.isoformat(), "note": change.note}


def _park_partner_message(
    uow: UnitOfWork, *, kind: str, message_id: uuid.UUID, sender_org: str, sender_name: str | None,
    occurred_at: datetime, received_at: datetime, content: dict[str, Any], cpr_hash: str, actor: Principal,
) -> uuid.UUID:
    """Hold a message whose CPR matches no known citizen until the municipality registers them."""
    parked_id = uuid.uuid4()
    repo.add_unread(uow, UnmatchedPartnerMessage(
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
