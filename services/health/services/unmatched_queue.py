"""The unmatched hospital notices (visitation's queue): list, read the CPR, match to a citizen, dismiss."""

from __future__ import annotations

import uuid
from typing import Any

from services.health import repository as repo
from services.health import schemas as s
from services.health.domain.errors import NoticeConflict
from services.health.domain.hospital_notices import may_match
from services.health.models import UnmatchedHospitalNotice
from services.health.services.common import now_utc, require_unmatched_queue
from services.health.services.hospital_notices import _unparked, match_parked_notices
from tovholder.auth import Principal
from tovholder.cpr import CprVault, mask
from tovholder.errors import Conflict, DomainError, NotFound
from tovholder.uow import UnitOfWork

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
