"""Hospital notifications: the use cases behind ``POST /integration/v1/hospital-notifications`` and the
queue of unmatched notices. Plain async functions over a unit of work; the rules live in
``services.health.domain.hospital_notices``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text

from contracts.health import (
    HealthCheckCancelledV1,
    HospitalNoticeCancelledV1,
    HospitalNoticeCorrectedV1,
    HospitalNoticeRegisteredV1,
    HospitalNoticeParkedV1,
    HospitalNoticeUnparkedV1,
)
from services.health.domain.errors import NoticeConflict, NoticeInvalid
from services.health.domain.hospital_notices import (
    LEGAL_BASIS,
    IncomingNotice,
    NoticeAction,
    NoticeKind,
    NoticeRecord,
    NoticeStatus,
    BaseCode,
    apply,
    decide,
    follow_ups_for,
    validate_incoming,
)
from services.health.models import HealthCheck, HealthRecord, HospitalNotice, KnownCitizen, TimelineEntry, UnmatchedHospitalNotice
from tovholder.auth import Principal
from tovholder.cpr import CprVault, normalize_cpr
from tovholder.receipts import FatalMessage
from tovholder.uow import UnitOfWork

ENDPOINT = "hospital-notifications"

KIND_WORDS = {
    NoticeKind.ADMISSION: "Admitted",
    NoticeKind.LEAVE_STARTED: "On leave from hospital",
    NoticeKind.LEAVE_ENDED: "Back from leave",
    NoticeKind.DISCHARGE: "Discharged",
    NoticeKind.DEATH: "Died",
}


class Sender(BaseModel):
    org: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)


class HospitalNotification(BaseModel):
    """The body of section 1 of the external contract."""

    model_config = ConfigDict(extra="ignore")

    message_id: uuid.UUID
    sent_at: datetime
    sender: Sender
    code: str = Field(max_length=10)
    cpr: str = Field(max_length=20)
    hospital_episode_id: str = Field(max_length=200)
    department: str = Field(max_length=200)
    occurred_at: datetime
    replaces_message_id: uuid.UUID | None = None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def _record(row: HospitalNotice) -> NoticeRecord:
    return NoticeRecord(
        notice_id=row.id,
        message_id=row.message_id,
        code=BaseCode(row.code),
        hospital_episode_id=row.hospital_episode_id,
        occurred_at=row.occurred_at,
        status=NoticeStatus(row.status),
        replaced_by_message_id=row.replaced_by_message_id,
    )


async def notice_history(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[HospitalNotice]:
    """The citizen's notices that carry content (new and corrections, all statuses)."""
    rows = await uow.session.execute(
        select(HospitalNotice)
        .where(HospitalNotice.citizen_id == citizen_id, HospitalNotice.action != NoticeAction.CANCEL.value)
        .order_by(HospitalNotice.occurred_at)
    )
    return list(rows.scalars())


async def notice_records(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[NoticeRecord]:
    return [_record(r) for r in await notice_history(uow, citizen_id)]


@dataclass(frozen=True)
class Registered:
    notice_id: uuid.UUID | None
    action: NoticeAction
    parked: bool = False


async def lock_cpr(uow: UnitOfWork, cpr_hash: str) -> None:
    """Serialise everything about one person (notices, parking, matching) until the transaction ends,
    also before the municipality knows them (no citizen row to lock yet)."""
    await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:h, 0))"), {"h": cpr_hash})


async def _lock_citizen(uow: UnitOfWork, cpr_hash: str) -> KnownCitizen | None:
    """The known citizen, row-locked so one citizen's notices are decided one at a time."""
    await lock_cpr(uow, cpr_hash)
    return (
        await uow.session.execute(select(KnownCitizen).where(KnownCitizen.cpr_hash == cpr_hash).with_for_update())
    ).scalar_one_or_none()


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
    history = await notice_history(uow, citizen_id)
    # A sender is answered about its own notices only: its message_ids are its own (the contract), and
    # a hospital can neither correct nor contradict — nor learn of — what another organisation sent.
    decision = decide(incoming, [_record(r) for r in history if r.sender_org == incoming.sender_org])
    record = (
        await uow.session.execute(select(HealthRecord).where(HealthRecord.citizen_id == citizen_id))
    ).scalar_one_or_none()
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
    row = HospitalNotice(
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
    )
    uow.session.add(row)
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
    if decision.action is NoticeAction.NEW:
        uow.emit(HospitalNoticeRegisteredV1(**content), occurred_at=incoming.occurred_at)
        what = f"{KIND_WORDS[incoming.kind]} ({incoming.code}), {incoming.department}"
    elif decision.action is NoticeAction.CORRECT:
        uow.emit(HospitalNoticeCorrectedV1(corrects_notice_id=replaced_row.id, **content), occurred_at=incoming.occurred_at)
        what = f"Correction ({incoming.code}): {KIND_WORDS[incoming.kind].lower()}, {incoming.department}"
    else:
        uow.emit(HospitalNoticeCancelledV1(citizen_id=citizen_id, notice_id=notice_id, cancels_notice_id=replaced_row.id))
        what = f"Cancelled by the hospital ({incoming.code}): the notice of {replaced_row.occurred_at:%Y-%m-%d %H:%M}"
    if decision.action is not NoticeAction.CANCEL:
        # What the notice asks of the tovholder (notifications makes the task; the timeline says why).
        follow_ups = follow_ups_for(incoming.kind, occurred_at=incoming.occurred_at, received_at=received_at,
                                    acute=incoming.code.acute)
        if follow_ups:
            what += f" — {follow_ups[0].title}"
    if record is not None and incoming.kind is NoticeKind.DEATH:
        record.deceased_at = None if decision.action is NoticeAction.CANCEL else incoming.occurred_at
        if record.deceased_at is not None:
            await _cancel_planned_checks(uow, citizen_id)
    uow.session.add(
        TimelineEntry(
            citizen_id=citizen_id,
            kind="hospital-notice",
            counterpart="hospital",
            org=incoming.sender_org,
            who=sender_name,
            what=what[:500],
            occurred_at=incoming.occurred_at,
            recorded_by=f"partner:{incoming.sender_org}",
            recorded_at=received_at,
            object_type="hospital_notice",
            object_id=str(notice_id),
        )
    )
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
    checks = (await uow.session.execute(
        select(HealthCheck).where(HealthCheck.citizen_id == citizen_id, HealthCheck.status == "planned"))).scalars()
    for check in checks:
        check.status = "cancelled"
        uow.emit(HealthCheckCancelledV1(citizen_id=citizen_id, health_check_id=check.id, reason="deceased",
                                        cancelled_at=now_utc()))


async def receive_hospital_notification(
    uow: UnitOfWork, message: HospitalNotification, *, sender: Principal, vault: CprVault
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
    citizen = await _lock_citizen(uow, cpr_hash)
    if citizen is not None:
        # Anything parked for this CPR before the citizen became known goes first, in order.
        await match_parked(uow, citizen.citizen_id, cpr_hash, actor=None)

    if incoming.replaces_message_id is not None:
        target = (
            await uow.session.execute(select(HospitalNotice).where(
                HospitalNotice.sender_org == incoming.sender_org, HospitalNotice.message_id == incoming.replaces_message_id))
        ).scalar_one_or_none()
        if target is not None and (citizen is None or target.citizen_id != citizen.citizen_id):
            raise FatalMessage(_OTHER_PERSON.format(incoming.replaces_message_id), 409)
        if target is None:
            parked_target = (
                await uow.session.execute(
                    select(UnmatchedHospitalNotice).where(UnmatchedHospitalNotice.sender_org == incoming.sender_org,
                                                          UnmatchedHospitalNotice.message_id == incoming.replaces_message_id)
                )
            ).scalar_one_or_none()
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
                raise FatalMessage(_OTHER_PERSON.format(incoming.replaces_message_id), 409)
            # The notice it replaces waits in the unmatched queue (the citizen is not known): so does this one.

    if citizen is None:
        # Decided against the sender's parked notices for this person exactly as against a known
        # citizen's notices, so the receipt is the same whether the CPR is known or not.
        try:
            decide(incoming, await _parked_history(uow, cpr_hash, incoming.sender_org))
        except NoticeConflict as exc:
            raise FatalMessage(str(exc), 409) from None
        await park(uow, incoming, message, cpr=cpr, cpr_hash=cpr_hash, vault=vault, received_at=received_at, sender=sender)
        return {}
    try:
        await apply_notice(
            uow, citizen.citizen_id, incoming, sender_name=message.sender.name, received_at=received_at, actor=sender
        )
    except NoticeConflict as exc:
        raise FatalMessage(str(exc), 409) from None
    return {}


async def _parked_history(uow: UnitOfWork, cpr_hash: str, sender_org: str) -> list[NoticeRecord]:
    """The sender's open parked notices for one person as the notice history they would be once the
    person is known: replayed in arrival order, corrections and cancellations applied."""
    rows = (await uow.session.execute(
        select(UnmatchedHospitalNotice)
        .where(UnmatchedHospitalNotice.cpr_hash == cpr_hash, UnmatchedHospitalNotice.sender_org == sender_org,
               UnmatchedHospitalNotice.status == "open")
        .order_by(UnmatchedHospitalNotice.received_at)
    )).scalars()
    history: list[NoticeRecord] = []
    for row in rows:
        parked = _incoming_from_parked(row)
        try:
            history = apply(decide(parked, history), parked, row.id, history)
        except (NoticeConflict, NoticeInvalid):
            continue  # parked before notices were checked on arrival; matching will reject it
    return history


_OTHER_PERSON = (
    "replaces_message_id {} is a notice about another person; a correction cannot move a notice to another "
    "CPR: cancel it (AN_) and send a new notice for the right person"
)


async def park(
    uow: UnitOfWork,
    incoming: IncomingNotice,
    message: HospitalNotification,
    *,
    cpr: str,
    cpr_hash: str,
    vault: CprVault,
    received_at: datetime,
    sender: Principal,
) -> uuid.UUID:
    parked_id = uuid.uuid4()
    uow.session.add(
        UnmatchedHospitalNotice(
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
        )
    )
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


def _incoming_from_parked(row: UnmatchedHospitalNotice) -> IncomingNotice:
    return validate_incoming(
        message_id=row.message_id,
        sent_at=row.sent_at,
        sender_org=row.sender_org,
        code=row.code,
        hospital_episode_id=row.hospital_episode_id,
        department=row.department,
        occurred_at=row.occurred_at,
        replaces_message_id=row.replaces_message_id,
        received_at=row.received_at,
    )


def unparked(row: UnmatchedHospitalNotice) -> HospitalNoticeUnparkedV1:
    return HospitalNoticeUnparkedV1(subject_id=row.id, unmatched_notice_id=row.id, resolution=row.status,
                                    resolved_by=row.resolved_by, resolved_at=row.resolved_at)


async def match_parked(
    uow: UnitOfWork, citizen_id: uuid.UUID, cpr_hash: str, *, actor: Principal | None
) -> tuple[int, int]:
    """Move the open parked notices for ``cpr_hash`` onto the
    citizen, in arrival order. A notice that now contradicts the citizen's history is marked rejected
    with the reason, for visitation to see. Returns (matched, rejected). The CPR is wiped on resolution:
    it is no longer needed once the notice belongs to a citizen."""
    rows = list(
        (
            await uow.session.execute(
                select(UnmatchedHospitalNotice)
                .where(UnmatchedHospitalNotice.cpr_hash == cpr_hash, UnmatchedHospitalNotice.status == "open")
                .order_by(UnmatchedHospitalNotice.received_at)
                .with_for_update()
            )
        ).scalars()
    )
    matched = rejected = 0
    resolved_by = actor.sub if actor else "system"
    for row in rows:
        try:
            await apply_notice(
                uow, citizen_id, _incoming_from_parked(row), sender_name=row.sender_name,
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
        uow.emit(unparked(row))
        uow.audit(
            actor, f"unmatched_hospital_notice.{row.status}", citizen_id=citizen_id,
            object_type="unmatched_hospital_notice", object_id=row.id,
        )
    return matched, rejected
