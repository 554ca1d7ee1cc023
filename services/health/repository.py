"""Every SQL statement of the health service, and the mapping between rows and domain objects.

Functions take the unit of work and keyword arguments; none commits (the use case in ``services``
does, together with its events and audit rows)."""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import Select, String, and_, bindparam, delete, func, literal, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from services.health.domain import forensic as fx
from services.health.domain import health_check as hc
from services.health.domain.access import CitizenContext, Consent
from services.health.domain.hospital_notices import BaseCode, IncomingNotice, NoticeAction, NoticeRecord, NoticeStatus, validate_incoming
from services.health.models import (
    CoercionLogEntry,
    ConsentRecord,
    DepotSchedule,
    DepotVisit,
    DocumentShare,
    HealthCheck,
    HealthCheckCadence,
    HealthCheckDecision,
    HealthRecord,
    HospitalNotice,
    KnownCitizen,
    MedComAcknowledgement,
    MedicationAlert,
    MedicationChange,
    MissedDepotVisit,
    NetworkMember,
    NurseConsultant,
    PartnerDocument,
    TimelineEntry,
    TreatmentOrder,
    UnmatchedHospitalNotice,
    UnmatchedPartnerMessage,
)
from tovholder import consent_read_model
from tovholder.receipts import EARLIER_RECEIPT
from tovholder.uow import UnitOfWork

# ``lock_cpr``'s key space (``hashtextextended(cpr_hash, 0)``): a person, known or not.
CPR_LOCK_SEED = 0


def add(uow: UnitOfWork, row: Any) -> None:
    """A new row, inserted when the unit of work flushes or commits."""
    uow.session.add(row)


def add_unread(uow: UnitOfWork, row: Any) -> None:
    """A new row nothing in this transaction reads back (a timeline entry, the notice a partner's intake
    decides last): written with the commit's own rows in one statement (``uow.add_at_commit``)."""
    uow.add_at_commit(row)


async def flush(uow: UnitOfWork) -> None:
    await uow.session.flush()


# ==================================================================== locks


async def lock_cpr(uow: UnitOfWork, cpr_hash: str) -> None:
    """Serialise everything about one person (notices, parking, matching) until the transaction ends,
    also before the municipality knows them (no citizen row to lock yet). A partner message's intake
    takes it with the message's own lock (``cpr_locks``); a consumer batch, for all its people."""
    await uow.lock(cpr_locks(cpr_hash))


async def lock_cprs_and_look_up_parked(uow: UnitOfWork, cpr_hashes: set[str]) -> None:
    """A consumer batch's people: their CPR locks in one statement (in one order, so two batches
    never deadlock), then which of them have parked notices or partner messages waiting. Under the
    locks nothing new is parked for them until the batch commits, so "nothing parked" stays true."""
    wanted = sorted(h for h in cpr_hashes if ("parked", h) not in uow.looked_up)
    if not wanted:
        return
    await uow.lock([(h, CPR_LOCK_SEED) for h in wanted])
    notices = set((await uow.session.execute(
        select(UnmatchedHospitalNotice.cpr_hash).distinct()
        .where(UnmatchedHospitalNotice.cpr_hash.in_(wanted), UnmatchedHospitalNotice.status == "open"))).scalars())
    messages = set((await uow.session.execute(
        select(UnmatchedPartnerMessage.cpr_hash).distinct()
        .where(UnmatchedPartnerMessage.cpr_hash.in_(wanted), UnmatchedPartnerMessage.status == "open"))).scalars())
    for cpr_hash in wanted:
        uow.looked_up[("parked", cpr_hash)] = (cpr_hash in notices, cpr_hash in messages)


def cpr_locks(cpr_hash: str) -> list[tuple[str, int]]:
    """The lock ``lock_cpr`` takes for a person, as ``uow.lock`` and ``receive_message(locks=…)`` name it."""
    return [(cpr_hash, CPR_LOCK_SEED)]


def parked_for(uow: UnitOfWork, cpr_hash: str) -> tuple[bool, bool]:
    """(notices parked?, partner messages parked?) when the batch looked; (True, True) = go and look."""
    return uow.looked_up.get(("parked", cpr_hash), (True, True))


# ==================================================================== citizens, records, network, consent


async def known_citizen_by_cpr_hash(uow: UnitOfWork, cpr_hash: str, *, lock: bool = False) -> KnownCitizen | None:
    if not lock and ("citizen", cpr_hash) in uow.looked_up:  # a partner message's first lookup brought them
        return uow.looked_up[("citizen", cpr_hash)]
    query = select(KnownCitizen).where(KnownCitizen.cpr_hash == cpr_hash)
    return (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


@functools.cache
def _notice_intake_statement() -> Select:
    """Built once (its parameters bound at execution): SQLAlchemy makes its cache key and compiles it once."""
    cpr_hash, sender_org = bindparam("cpr_hash", type_=String), bindparam("sender_org", type_=String)
    person = aliased(KnownCitizen, select(KnownCitizen).where(KnownCitizen.cpr_hash == cpr_hash)
                     .with_for_update().subquery("person"))
    parked = (select(UnmatchedHospitalNotice.id)
              .where(UnmatchedHospitalNotice.cpr_hash == cpr_hash, UnmatchedHospitalNotice.status == "open")
              .exists().label("parked"))
    # One row at least (the receipt's), whoever the CPR is; one more a notice, or a parked notice.
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (select(EARLIER_RECEIPT, parked, person, HealthRecord, HospitalNotice, UnmatchedHospitalNotice)
            .select_from(anchor)
            .outerjoin(person, true())
            .outerjoin(HealthRecord, HealthRecord.citizen_id == person.citizen_id)
            .outerjoin(HospitalNotice, and_(HospitalNotice.citizen_id == person.citizen_id,
                                            HospitalNotice.action != NoticeAction.CANCEL.value))
            .outerjoin(UnmatchedHospitalNotice, and_(person.citizen_id.is_(None),
                                                     UnmatchedHospitalNotice.cpr_hash == cpr_hash,
                                                     UnmatchedHospitalNotice.sender_org == sender_org,
                                                     UnmatchedHospitalNotice.status == "open"))
            .order_by(HospitalNotice.occurred_at, UnmatchedHospitalNotice.received_at))


async def look_up_notice_intake(uow: UnitOfWork, cpr_hash: str, sender_org: str, earlier: dict[str, Any]) -> Any:
    """Everything a hospital notice's intake reads before it decides, in one statement (after its locks),
    with the kit's earlier receipt (``earlier`` its parameters; its value is returned): the person,
    row-locked, with their health record and whether notices are parked for the CPR; then the citizen's
    notices when they are known, or the sender's open parked notices for the CPR when not. Kept for
    ``known_citizen_with_record``, ``health_record``, ``parked_for``, ``notice_history`` and
    ``open_unmatched_notices``, which then ask nothing of the database."""
    rows = (await uow.session.execute(_notice_intake_statement(),
                                      {"cpr_hash": cpr_hash, "sender_org": sender_org, **earlier})).all()
    found_earlier, notices_parked, citizen, record = rows[0][:4]
    uow.looked_up[("citizen", cpr_hash)] = citizen
    uow.looked_up[("parked", cpr_hash)] = (bool(notices_parked), parked_for(uow, cpr_hash)[1])
    if citizen is not None:
        uow.looked_up[("record", citizen.citizen_id)] = record
        uow.looked_up[("notices", citizen.citizen_id)] = [row[4] for row in rows if row[4] is not None]
    else:
        uow.looked_up[("parked notices", cpr_hash, sender_org)] = [row[5] for row in rows if row[5] is not None]
    return found_earlier


@functools.cache
def _partner_message_intake_statement() -> Select:
    """Built once (its parameter bound at execution): SQLAlchemy makes its cache key and compiles it once."""
    cpr_hash = bindparam("cpr_hash", type_=String)
    person = aliased(KnownCitizen, select(KnownCitizen).where(KnownCitizen.cpr_hash == cpr_hash).subquery("person"))
    next_check = aliased(HealthCheck, select(HealthCheck)
                         .where(HealthCheck.citizen_id == person.citizen_id,
                                HealthCheck.status == hc.CheckStatus.PLANNED.value)
                         .order_by(HealthCheck.starts_at).limit(1).lateral("next_check"))
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (select(EARLIER_RECEIPT, person, HealthRecord, next_check)
            .select_from(anchor)
            .outerjoin(person, true())
            .outerjoin(HealthRecord, HealthRecord.citizen_id == person.citizen_id)
            .outerjoin(next_check, true()))


async def look_up_partner_message_intake(uow: UnitOfWork, cpr_hash: str, earlier: dict[str, Any]) -> Any:
    """What a partner document's intake reads before it decides, in one statement (after its locks, the
    person's among them), with the kit's earlier receipt (``earlier`` its parameters; its value is
    returned): the person, their health record and their next planned health check. Kept for
    ``known_citizen_by_cpr_hash``, ``health_record`` and ``next_planned_check``."""
    found_earlier, citizen, record, next_check = (await uow.session.execute(
        _partner_message_intake_statement(), {"cpr_hash": cpr_hash, **earlier})).one()
    uow.looked_up[("citizen", cpr_hash)] = citizen
    if citizen is not None:
        uow.looked_up[("record", citizen.citizen_id)] = record
        uow.looked_up[("next planned check", citizen.citizen_id)] = next_check
    return found_earlier


async def known_citizen_with_record(uow: UnitOfWork, cpr_hash: str) -> KnownCitizen | None:
    """The person a hospital notice names, row-locked: as the intake's first lookup kept them (with their
    record and what is parked for the CPR); outside the receipt flow, from the database (``health_record``
    and ``parked_for`` then ask for themselves)."""
    if ("citizen", cpr_hash) in uow.looked_up:
        return uow.looked_up[("citizen", cpr_hash)]
    return await known_citizen_by_cpr_hash(uow, cpr_hash, lock=True)


async def known_citizen(uow: UnitOfWork, citizen_id: uuid.UUID, *, lock: bool = False) -> KnownCitizen | None:
    query = select(KnownCitizen).where(KnownCitizen.citizen_id == citizen_id)
    return (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def upsert_known_citizen(uow: UnitOfWork, *, citizen_id: uuid.UUID, cpr_hash: str, name: str) -> None:
    await uow.session.execute(
        insert(KnownCitizen)
        .values(citizen_id=citizen_id, cpr_hash=cpr_hash, name=name)
        .on_conflict_do_update(index_elements=[KnownCitizen.citizen_id], set_={"cpr_hash": cpr_hash, "name": name})
    )


async def look_up_health_records(uow: UnitOfWork, citizen_ids: set[uuid.UUID]) -> None:
    """The records of a consumer batch's citizens in one SELECT, kept for this transaction."""
    wanted = {c for c in citizen_ids if ("record", c) not in uow.looked_up}
    if not wanted:
        return
    found = {r.citizen_id: r for r in
             (await uow.session.execute(select(HealthRecord).where(HealthRecord.citizen_id.in_(wanted)))).scalars()}
    for citizen_id in wanted:
        uow.looked_up[("record", citizen_id)] = found.get(citizen_id)


async def health_record(uow: UnitOfWork, citizen_id: uuid.UUID | None, *, lock: bool = False) -> HealthRecord | None:
    if citizen_id is None:
        return None
    if not lock and ("record", citizen_id) in uow.looked_up:
        return uow.looked_up[("record", citizen_id)]
    query = select(HealthRecord).where(HealthRecord.citizen_id == citizen_id)
    return (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def any_health_record(uow: UnitOfWork) -> bool:
    return (await uow.session.execute(select(HealthRecord).limit(1))).first() is not None


async def living_records_of_botilbud(uow: UnitOfWork, botilbud_id: str) -> list[HealthRecord]:
    return list((await uow.session.execute(select(HealthRecord).where(
        HealthRecord.botilbud_id == botilbud_id, HealthRecord.deceased_at.is_(None)))).scalars())


async def network_subs(uow: UnitOfWork, citizen_id: uuid.UUID) -> set[str]:
    return set((await uow.session.execute(
        select(NetworkMember.staff_sub).where(NetworkMember.citizen_id == citizen_id))).scalars())


async def citizen_context(uow: UnitOfWork, record: HealthRecord) -> CitizenContext:
    """What the access rule needs to know about the citizen whose record this is."""
    return CitizenContext(
        citizen_id=str(record.citizen_id),
        botilbud_id=record.botilbud_id,
        tovholder_sub=record.tovholder_sub,
        network_subs=frozenset(await network_subs(uow, record.citizen_id)),
    )


async def upsert_network_member(uow: UnitOfWork, *, citizen_id: uuid.UUID, staff_sub: str, role: str) -> None:
    await uow.session.execute(
        insert(NetworkMember)
        .values(citizen_id=citizen_id, staff_sub=staff_sub, role=role)
        .on_conflict_do_update(index_elements=["citizen_id", "staff_sub"], set_={"role": role})
    )


async def delete_network_member(uow: UnitOfWork, *, citizen_id: uuid.UUID, staff_sub: str) -> None:
    await uow.session.execute(
        delete(NetworkMember).where(NetworkMember.citizen_id == citizen_id, NetworkMember.staff_sub == staff_sub)
    )


async def consents(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[Consent]:
    return await consent_read_model.consents(uow.session, ConsentRecord, citizen_id)


# ==================================================================== nurse consultants


async def nurse_consultant_subs(uow: UnitOfWork, botilbud_id: str) -> set[str]:
    return set((await uow.session.execute(
        select(NurseConsultant.sub).where(NurseConsultant.botilbud_id == botilbud_id))).scalars())


async def nurse_consultants(uow: UnitOfWork, botilbud_id: str) -> list[NurseConsultant]:
    return list((await uow.session.execute(select(NurseConsultant).where(NurseConsultant.botilbud_id == botilbud_id)
                                           .order_by(NurseConsultant.sub))).scalars())


async def add_nurse_consultant(uow: UnitOfWork, *, botilbud_id: str, sub: str, name: str | None) -> None:
    await uow.session.execute(
        insert(NurseConsultant).values(botilbud_id=botilbud_id, sub=sub, name=name).on_conflict_do_nothing())


async def replace_nurse_consultants(uow: UnitOfWork, botilbud_id: str, roster: Sequence[tuple[str, str | None]]) -> None:
    await uow.session.execute(delete(NurseConsultant).where(NurseConsultant.botilbud_id == botilbud_id))
    for sub, name in roster:
        await add_nurse_consultant(uow, botilbud_id=botilbud_id, sub=sub, name=name)


# ==================================================================== hospital notices


def notice_record(row: HospitalNotice) -> NoticeRecord:
    return NoticeRecord(
        notice_id=row.id,
        message_id=row.message_id,
        code=BaseCode(row.code),
        hospital_episode_id=row.hospital_episode_id,
        occurred_at=row.occurred_at,
        status=NoticeStatus(row.status),
        replaced_by_message_id=row.replaced_by_message_id,
        received_at=row.received_at,
    )


async def notice_history(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[HospitalNotice]:
    """The citizen's notices that carry content (new and corrections, all statuses). Looked up once
    by the intake's first statement, they are taken from there the first time (nothing has changed
    them yet); after that, from the database, with what this transaction added."""
    if (kept := uow.looked_up.pop(("notices", citizen_id), None)) is not None:
        return kept
    rows = await uow.session.execute(
        select(HospitalNotice)
        .where(HospitalNotice.citizen_id == citizen_id, HospitalNotice.action != NoticeAction.CANCEL.value)
        .order_by(HospitalNotice.occurred_at)
    )
    return list(rows.scalars())


async def notice_records(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[NoticeRecord]:
    return [notice_record(r) for r in await notice_history(uow, citizen_id)]


async def hospital_notices(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[HospitalNotice]:
    """Every notice of the citizen, cancellations included, in arrival order."""
    return list((await uow.session.execute(select(HospitalNotice).where(HospitalNotice.citizen_id == citizen_id)
                                           .order_by(HospitalNotice.received_at))).scalars())


async def hospital_notice_by_message(uow: UnitOfWork, *, sender_org: str, message_id: uuid.UUID) -> HospitalNotice | None:
    return (await uow.session.execute(select(HospitalNotice).where(
        HospitalNotice.sender_org == sender_org, HospitalNotice.message_id == message_id))).scalar_one_or_none()


async def unmatched_notice_by_message(uow: UnitOfWork, *, sender_org: str,
                                      message_id: uuid.UUID) -> UnmatchedHospitalNotice | None:
    return (await uow.session.execute(select(UnmatchedHospitalNotice).where(
        UnmatchedHospitalNotice.sender_org == sender_org,
        UnmatchedHospitalNotice.message_id == message_id))).scalar_one_or_none()


async def open_unmatched_notices(uow: UnitOfWork, cpr_hash: str, *, sender_org: str | None = None,
                                 lock: bool = False) -> list[UnmatchedHospitalNotice]:
    """The open parked notices for one person (of one sender, if given), in arrival order."""
    if not lock and (kept := uow.looked_up.pop(("parked notices", cpr_hash, sender_org), None)) is not None:
        return kept  # the intake's first lookup brought them (once: nothing has changed them yet)
    query = select(UnmatchedHospitalNotice).where(UnmatchedHospitalNotice.cpr_hash == cpr_hash,
                                                  UnmatchedHospitalNotice.status == "open")
    if sender_org is not None:
        query = query.where(UnmatchedHospitalNotice.sender_org == sender_org)
    query = query.order_by(UnmatchedHospitalNotice.received_at)
    return list((await uow.session.execute(query.with_for_update() if lock else query)).scalars())


def incoming_from_parked(row: UnmatchedHospitalNotice) -> IncomingNotice:
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


async def unmatched_notices(uow: UnitOfWork, *, status: str, limit: int = 500) -> list[UnmatchedHospitalNotice]:
    return list((await uow.session.execute(select(UnmatchedHospitalNotice).where(UnmatchedHospitalNotice.status == status)
                                           .order_by(UnmatchedHospitalNotice.received_at).limit(limit))).scalars())


async def unmatched_notice(uow: UnitOfWork, unmatched_id: uuid.UUID, *, lock: bool = False) -> UnmatchedHospitalNotice | None:
    if lock:
        return await uow.session.get(UnmatchedHospitalNotice, unmatched_id, with_for_update=True)
    return await uow.session.get(UnmatchedHospitalNotice, unmatched_id)


# ==================================================================== partner messages and documents


async def open_unmatched_partner_messages(uow: UnitOfWork, cpr_hash: str) -> list[UnmatchedPartnerMessage]:
    return list((await uow.session.execute(
        select(UnmatchedPartnerMessage)
        .where(UnmatchedPartnerMessage.cpr_hash == cpr_hash, UnmatchedPartnerMessage.status == "open")
        .order_by(UnmatchedPartnerMessage.received_at).with_for_update()
    )).scalars())


async def partner_document(uow: UnitOfWork, document_id: uuid.UUID) -> PartnerDocument | None:
    return await uow.session.get(PartnerDocument, document_id)


async def partner_documents(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[PartnerDocument]:
    return list((await uow.session.execute(select(PartnerDocument).where(PartnerDocument.citizen_id == citizen_id)
                                           .order_by(PartnerDocument.received_at.desc()))).scalars())


async def share_document(uow: UnitOfWork, *, document: PartnerDocument, recipient_org: str, shared_by: str,
                         shared_at: datetime) -> None:
    """Record the share once per (document, recipient)."""
    await uow.session.execute(insert(DocumentShare).values(
        id=uuid.uuid4(), document_id=document.id, citizen_id=document.citizen_id, recipient_org=recipient_org,
        shared_by=shared_by, shared_at=shared_at,
    ).on_conflict_do_nothing())


async def documents_shared_with(uow: UnitOfWork, org: str, *, limit: int = 500) -> list[tuple[DocumentShare, PartnerDocument]]:
    return [tuple(r) for r in (await uow.session.execute(
        select(DocumentShare, PartnerDocument)
        .join(PartnerDocument, PartnerDocument.id == DocumentShare.document_id)
        .where(DocumentShare.recipient_org == org)
        .order_by(DocumentShare.shared_at.desc()).limit(limit))).all()]


# ==================================================================== medication


async def medication_changes(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[MedicationChange]:
    return list((await uow.session.execute(select(MedicationChange).where(MedicationChange.citizen_id == citizen_id)
                                           .order_by(MedicationChange.changed_at.desc()))).scalars())


async def medication_alerts(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[MedicationAlert]:
    return list((await uow.session.execute(select(MedicationAlert).where(MedicationAlert.citizen_id == citizen_id)
                                           .order_by(MedicationAlert.raised_at.desc()))).scalars())


async def medication_alert(uow: UnitOfWork, alert_id: uuid.UUID) -> MedicationAlert | None:
    return await uow.session.get(MedicationAlert, alert_id)


# ==================================================================== timeline


async def timeline(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int) -> list[TimelineEntry]:
    return list((await uow.session.execute(
        select(TimelineEntry).where(TimelineEntry.citizen_id == citizen_id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.recorded_at.desc()).limit(limit))).scalars())


# ==================================================================== health checks


async def cadence_row(uow: UnitOfWork, botilbud_id: str | None) -> HealthCheckCadence | None:
    return await uow.session.get(HealthCheckCadence, botilbud_id) if botilbud_id else None


async def cadence_of(uow: UnitOfWork, botilbud_id: str | None) -> hc.Cadence:
    """The botilbud's health-check cadence, or the GP agreement's default."""
    row = await cadence_row(uow, botilbud_id)
    return hc.Cadence(row.every_years, row.extended_every_years) if row else hc.DEFAULT_CADENCE


async def set_cadence(uow: UnitOfWork, *, botilbud_id: str, cadence: hc.Cadence, set_by: str) -> None:
    values = dict(every_years=cadence.every_years, extended_every_years=cadence.extended_every_years, set_by=set_by)
    await uow.session.execute(insert(HealthCheckCadence).values(botilbud_id=botilbud_id, **values)
                              .on_conflict_do_update(index_elements=["botilbud_id"], set_={**values, "set_at": func.now()}))


async def last_held_years(uow: UnitOfWork, citizen_ids: list[uuid.UUID], before_year: int) -> dict[uuid.UUID, int]:
    """Each citizen's last year with a held health check before ``before_year``."""
    if not citizen_ids:
        return {}
    rows = await uow.session.execute(
        select(HealthCheck.citizen_id, func.max(HealthCheck.year))
        .where(HealthCheck.citizen_id.in_(citizen_ids), HealthCheck.year < before_year,
               HealthCheck.status == hc.CheckStatus.HELD.value)
        .group_by(HealthCheck.citizen_id))
    return {citizen_id: year for citizen_id, year in rows.all()}


def domain_pre_assessment(check: HealthCheck) -> hc.PreAssessment | None:
    """The pre-assessment recorded on the check, as the domain sees it."""
    pre = check.pre_assessment
    if not pre:
        return None
    return hc.PreAssessment(
        tuple(hc.ThemeAnswer(hc.PreAssessmentTheme(a["theme"]), a["citizens_words"], a.get("symptom_score"))
              for a in pre.get("answers", [])),
        pre.get("wants_to_talk_about", ""), date.fromisoformat(pre["done_on"]), pre.get("done_by", ""),
        pre.get("setting"),
        tuple(hc.ThemeSkipped(hc.PreAssessmentTheme(k["theme"]), k["reason"]) for k in pre.get("skipped", [])))


def domain_check(check: HealthCheck) -> hc.HealthCheck:
    return hc.HealthCheck(str(check.citizen_id), check.year, check.starts_at.astimezone(hc.DANISH_TIME).date(),
                          check.extended, hc.CheckStatus(check.status), frozenset(hc.PreparationStep(s) for s in check.steps_done),
                          check.decline_reason)


async def health_check(uow: UnitOfWork, health_check_id: uuid.UUID, *, lock: bool = False) -> HealthCheck | None:
    if lock:
        return await uow.session.get(HealthCheck, health_check_id, with_for_update=True)
    return await uow.session.get(HealthCheck, health_check_id)


async def next_planned_check(uow: UnitOfWork, citizen_id: uuid.UUID) -> HealthCheck | None:
    if ("next planned check", citizen_id) in uow.looked_up:  # the intake's first lookup brought it (once)
        return uow.looked_up.pop(("next planned check", citizen_id))
    return (await uow.session.execute(
        select(HealthCheck).where(HealthCheck.citizen_id == citizen_id, HealthCheck.status == hc.CheckStatus.PLANNED.value)
        .order_by(HealthCheck.starts_at).limit(1))).scalar_one_or_none()


async def planned_checks(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[HealthCheck]:
    return list((await uow.session.execute(
        select(HealthCheck).where(HealthCheck.citizen_id == citizen_id, HealthCheck.status == "planned"))).scalars())


async def check_of_year(uow: UnitOfWork, citizen_id: uuid.UUID, year: int) -> HealthCheck | None:
    return (await uow.session.execute(select(HealthCheck).where(
        HealthCheck.citizen_id == citizen_id, HealthCheck.year == year))).scalar_one_or_none()


async def extended_check_years(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[int]:
    """The years the citizen had (or has planned) an extended check they did not decline."""
    return list((await uow.session.execute(select(HealthCheck.year).where(
        HealthCheck.citizen_id == citizen_id, HealthCheck.extended.is_(True),
        HealthCheck.status != hc.CheckStatus.DECLINED.value))).scalars())


async def health_checks(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[HealthCheck]:
    return list((await uow.session.execute(select(HealthCheck).where(HealthCheck.citizen_id == citizen_id)
                                           .order_by(HealthCheck.year.desc()))).scalars())


async def checks_of(uow: UnitOfWork, citizen_ids: Sequence[uuid.UUID], years: set[int]) -> list[HealthCheck]:
    return list((await uow.session.execute(select(HealthCheck).where(
        HealthCheck.citizen_id.in_(list(citizen_ids)), HealthCheck.year.in_(years)))).scalars())


async def botilbud_checks(uow: UnitOfWork, botilbud_id: str, year: int) -> list[HealthCheck]:
    return list((await uow.session.execute(
        select(HealthCheck).join(HealthRecord, HealthRecord.citizen_id == HealthCheck.citizen_id)
        .where(HealthRecord.botilbud_id == botilbud_id, HealthCheck.year == year)
        .order_by(HealthCheck.starts_at))).scalars())


async def check_decisions(uow: UnitOfWork, health_check_id: uuid.UUID) -> list[HealthCheckDecision]:
    return list((await uow.session.execute(select(HealthCheckDecision).where(
        HealthCheckDecision.health_check_id == health_check_id))).scalars())


# ==================================================================== forensic psychiatry


async def current_treatment_orders(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[TreatmentOrder]:
    return list((await uow.session.execute(select(TreatmentOrder).where(
        TreatmentOrder.citizen_id == citizen_id, TreatmentOrder.current.is_(True)))).scalars())


async def has_current_treatment_order(uow: UnitOfWork, citizen_id: uuid.UUID) -> bool:
    return (await uow.session.execute(select(func.count()).select_from(TreatmentOrder).where(
        TreatmentOrder.citizen_id == citizen_id, TreatmentOrder.current.is_(True)))).scalar_one() > 0


async def treatment_orders(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[TreatmentOrder]:
    return list((await uow.session.execute(select(TreatmentOrder).where(TreatmentOrder.citizen_id == citizen_id)
                                           .order_by(TreatmentOrder.recorded_at.desc()))).scalars())


async def depot_schedule(uow: UnitOfWork, schedule_id: uuid.UUID) -> DepotSchedule | None:
    return await uow.session.get(DepotSchedule, schedule_id)


async def depot_schedules(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[DepotSchedule]:
    return list((await uow.session.execute(select(DepotSchedule).where(DepotSchedule.citizen_id == citizen_id))).scalars())


async def all_depot_schedules_to_scan(uow: UnitOfWork) -> list[DepotSchedule]:
    """Every schedule not being scanned by another worker right now (row-locked until commit)."""
    return list((await uow.session.execute(select(DepotSchedule).with_for_update(skip_locked=True))).scalars())


def depot_rules(schedule: DepotSchedule) -> fx.DepotSchedule:
    return fx.DepotSchedule(schedule.weekday, schedule.at, schedule.starts_on, schedule.ends_on,
                            timedelta(minutes=schedule.grace_minutes), schedule.interval_weeks)


async def depot_visits_since(uow: UnitOfWork, schedule_id: uuid.UUID, since: datetime) -> list[fx.DepotVisit]:
    return [fx.DepotVisit(v.visited_at, fx.VisitOutcome(v.outcome)) for v in (await uow.session.execute(
        select(DepotVisit).where(DepotVisit.schedule_id == schedule_id, DepotVisit.visited_at >= since))).scalars()]


async def depot_visits(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int = 100) -> list[DepotVisit]:
    return list((await uow.session.execute(select(DepotVisit).where(DepotVisit.citizen_id == citizen_id)
                                           .order_by(DepotVisit.visited_at.desc()).limit(limit))).scalars())


async def missed_depot_visits(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int = 100) -> list[MissedDepotVisit]:
    return list((await uow.session.execute(select(MissedDepotVisit).where(MissedDepotVisit.citizen_id == citizen_id)
                                           .order_by(MissedDepotVisit.scheduled_for.desc()).limit(limit))).scalars())


async def insert_missed_depot_visit(uow: UnitOfWork, *, schedule: DepotSchedule, scheduled_for: datetime, reason: str,
                                    detected_at: datetime) -> uuid.UUID | None:
    """The missed slot's id, or None when it was already recorded (one alert per slot)."""
    inserted = (await uow.session.execute(
        insert(MissedDepotVisit)
        .values(id=uuid.uuid4(), schedule_id=schedule.id, citizen_id=schedule.citizen_id,
                scheduled_for=scheduled_for, reason=reason, detected_at=detected_at)
        .on_conflict_do_nothing()
        .returning(MissedDepotVisit.id)
    )).first()
    return inserted[0] if inserted is not None else None


async def coercion_log(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[CoercionLogEntry]:
    return list((await uow.session.execute(select(CoercionLogEntry).where(CoercionLogEntry.citizen_id == citizen_id)
                                           .order_by(CoercionLogEntry.considered_at.desc()))).scalars())


# ==================================================================== MedCom acknowledgements


async def medcom_acknowledgement(uow: UnitOfWork, *, sender_org: str, header_id: str) -> MedComAcknowledgement | None:
    """The acknowledgement the sender's message ``header_id`` got (kept at least the duplicate window)."""
    return await uow.session.get(MedComAcknowledgement, (sender_org, header_id), populate_existing=True)


async def keep_medcom_acknowledgement(uow: UnitOfWork, *, sender_org: str, header_id: str, response_code: str,
                                      status_code: int, acknowledgement: dict[str, Any]) -> None:
    """Store an acknowledgement, unless one is already there (a copy of the message that won the race):
    then that one stands."""
    await uow.session.execute(
        insert(MedComAcknowledgement)
        .values(sender_org=sender_org, message_header_id=header_id, response_code=response_code,
                status_code=status_code, acknowledgement=acknowledgement)
        .on_conflict_do_nothing(index_elements=["sender_org", "message_header_id"])
    )


async def forget_medcom_acknowledgements(uow: UnitOfWork, *, before: datetime) -> int:
    result = await uow.session.execute(delete(MedComAcknowledgement).where(MedComAcknowledgement.received_at < before))
    return result.rowcount or 0


# ==================================================================== portal: who is admitted now (issue 12)


async def notice_records_of(uow: UnitOfWork, citizen_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[HospitalNotice]]:
    """Several citizens' notices that carry content (as ``notice_history``), in one query."""
    found: dict[uuid.UUID, list[HospitalNotice]] = {c: [] for c in citizen_ids}
    if not citizen_ids:
        return found
    rows = await uow.session.execute(
        select(HospitalNotice)
        .where(HospitalNotice.citizen_id.in_(list(citizen_ids)), HospitalNotice.action != NoticeAction.CANCEL.value)
        .order_by(HospitalNotice.occurred_at))
    for row in rows.scalars():
        found[row.citizen_id].append(row)
    return found
