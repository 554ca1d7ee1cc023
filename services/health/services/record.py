"""The health record, its timeline, the chosen tovholder, the botilbud's nurse consultants,
external contacts and the GP practice."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from contracts.health import ExternalContactRecordedV1, TovholderChosenV1
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain.access import Action, Role
from services.health.domain.hospital_notices import admission_state
from services.health.domain.tovholder import ContactKind, ExternalContact, choose_tovholder, validate_contact
from services.health.models import TimelineEntry
from services.health.services.common import _aware, _uuid_or_none, authorize, now_utc
from tovholder.auth import Principal
from tovholder.errors import DomainError, Forbidden
from tovholder.uow import UnitOfWork

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
    choice = choose_tovholder(current_sub=record.tovholder_sub, chosen_sub=body.nurse_consultant_sub,
                  botilbud_id=record.botilbud_id, nurse_consultants_of_botilbud=roster)
    if choice.changed:
        record.tovholder_sub = choice.nurse_consultant_sub
        name = next((n.name for n in await repo.nurse_consultants(uow, record.botilbud_id)
                     if n.sub == choice.nurse_consultant_sub), None)
        uow.emit(TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub=choice.nurse_consultant_sub,
                                   botilbud_id=record.botilbud_id, previous_nurse_consultant_sub=choice.previous_sub,
                                   nurse_consultant_name=name))
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
    contact = validate_contact(ExternalContact(ContactKind(body.kind), body.counterpart, body.org, body.who, body.what,
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
