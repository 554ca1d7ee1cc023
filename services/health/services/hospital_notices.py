"""Hospital notices (the § 12 c intake): the partner's receipt flow, deciding and recording a notice
for a known citizen, parking one whose CPR is not known, and matching the parked ones later; and who of
a botilbud is admitted now (for its nurse consultants)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi.responses import JSONResponse

from contracts.health import (
    HealthCheckCancelledV1,
    HospitalNoticeCancelledV1,
    HospitalNoticeCorrectedV1,
    HospitalNoticeParkedV1,
    HospitalNoticeRegisteredV1,
    HospitalNoticeUnparkedV1,
)
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain.access import Role
from services.health.domain.errors import NoticeConflict, NoticeInvalid
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
    notice_outcome,
    timeline_text,
    validate_incoming,
)
from services.health.models import HospitalNotice, TimelineEntry, UnmatchedHospitalNotice
from services.health.services.common import now_utc, person_intake_reads
from tovholder.auth import Principal
from tovholder.cpr import CprVault, normalize_cpr
from tovholder.errors import Forbidden
from tovholder.receipts import FatalMessage, receive_message
from tovholder.uow import UnitOfWork

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
                                 process=process, **notice_intake_reads(vault))


def notice_intake_reads(vault: CprVault) -> dict[str, Any]:
    """``receive_message``'s ``locks`` and ``look_up`` for a hospital notice (v1 JSON or MedCom): the
    person's lock with the message's, and the earlier receipt with the person, their record and notices."""
    return person_intake_reads(vault, lambda uow, cpr_hash, message, earlier: repo.look_up_notice_intake(
        uow, cpr_hash, message.sender.org, earlier))


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
    # The known citizen, row-locked so one citizen's notices are decided one at a time (the person's
    # lock, taken with the message's, covers a CPR not known yet), with their record, in one statement.
    await repo.lock_cpr(uow, cpr_hash)
    citizen = await repo.known_citizen_with_record(uow, cpr_hash)
    if citizen is not None and repo.parked_for(uow, cpr_hash)[0]:
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
            uow, citizen.citizen_id, incoming, sender_name=message.sender.name, received_at=received_at, actor=sender,
            read_back=False,
        )
    except NoticeConflict as exc:
        raise FatalMessage(str(exc), 409) from None
    return {}


async def apply_notice(
    uow: UnitOfWork,
    citizen_id: uuid.UUID,
    incoming: IncomingNotice,
    *,
    sender_name: str | None,
    received_at: datetime,
    actor: Principal | None,
    from_unmatched: uuid.UUID | None = None,
    read_back: bool = True,
) -> Registered:
    """Decide and record one notice for a known citizen: state, event, timeline and audit together.
    ``read_back=False`` when nothing later in the transaction reads the citizen's notices (a partner's
    own notice, decided last): its row goes with the commit's own rows, one statement for all.

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
    (repo.add if read_back else repo.add_unread)(uow, HospitalNotice(
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
    repo.add_unread(uow, TimelineEntry(
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
    # Parking is the intake's last step: nothing reads the row back before the commit writes it.
    repo.add_unread(uow, UnmatchedHospitalNotice(
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


# ==================================================================== portal: who is admitted now (issue 12)


async def admitted_now(uow: UnitOfWork, user: Principal, botilbud_id: str) -> dict[str, Any]:
    """The botilbud's citizens in hospital care now (admitted or on leave), for its nurse consultants —
    who may read each of these records (``Action.WRITE``'s house nurse). One audit entry per citizen shown."""
    if user.role != Role.NURSE_CONSULTANT or user.botilbud != botilbud_id:
        raise Forbidden("Kun botilbuddets egne sygeplejekonsulenter ser, hvem der er indlagt nu.")
    records = await repo.living_records_of_botilbud(uow, botilbud_id)
    notices = await repo.notice_records_of(uow, [r.citizen_id for r in records])
    admitted = []
    for record in records:
        rows = notices[record.citizen_id]
        state = admission_state([repo.notice_record(r) for r in rows])
        if not state.in_hospital_care:
            continue
        departments = []
        for episode in state.open_episodes:
            newest = [r for r in rows if r.hospital_episode_id == episode and r.status == NoticeStatus.ACTIVE.value]
            if newest and newest[-1].department not in departments:
                departments.append(newest[-1].department)
        admitted.append({"citizen_id": str(record.citizen_id), "state": state.state.value, "since": state.since,
                         "open_episodes": list(state.open_episodes), "departments": departments,
                         "tovholder_sub": record.tovholder_sub})
        uow.audit(user, "health_record.read", citizen_id=record.citizen_id, object_type="health_record",
                  object_id=record.id, detail={"via": "admitted now"})
    await uow.commit()
    admitted.sort(key=lambda a: a["since"] or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return {"botilbud_id": botilbud_id, "admitted": admitted}
