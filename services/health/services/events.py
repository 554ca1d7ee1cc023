"""Events from the other services (referrals, plans): they keep health's copies and open records."""

from __future__ import annotations

import uuid

from contracts.health import HealthRecordOpenedV1
from contracts.plans import NetworkMemberAddedV1, NetworkMemberRemovedV1
from contracts.referrals import CitizenRegisteredV1, PlacementStartedV1, VisitationDecidedV1
from services.health import repository as repo
from services.health.models import HealthRecord
from services.health.services.common import now_utc
from services.health.services.hospital_notices import match_parked_notices
from services.health.services.partner_documents import match_parked_partner_messages
from tovholder.uow import UnitOfWork

# ==================================================================== events from the other services
# These run inside the kit's consumer transaction (with the inbox entry): they do not commit.


async def prepare_events(uow: UnitOfWork, events: list[object]) -> None:
    """Before a consumer batch's handlers: its people's CPR locks and what is parked for them, and the
    records its grants ask about — a few statements for the batch instead of several per event."""
    await repo.lock_cprs_and_look_up_parked(uow, {e.cpr_hash for e in events if isinstance(e, CitizenRegisteredV1)})
    await repo.look_up_health_records(uow, {e.citizen_id for e in events if isinstance(e, VisitationDecidedV1)})


async def citizen_registered(uow: UnitOfWork, event: CitizenRegisteredV1) -> tuple[int, int, int]:
    """Remember the citizen; what was parked for their CPR finds its owner. Returns (notices matched,
    notices rejected, partner messages recorded)."""
    await repo.lock_cpr(uow, event.cpr_hash)
    await repo.upsert_known_citizen(uow, citizen_id=event.citizen_id, cpr_hash=event.cpr_hash, name=event.citizen_name)
    notices_parked, messages_parked = repo.parked_for(uow, event.cpr_hash)
    matched = rejected = recorded = 0
    if notices_parked:
        # Hospital notices that arrived before the municipality knew the citizen now find their owner.
        matched, rejected = await match_parked_notices(uow, event.citizen_id, event.cpr_hash, actor=None)
    if messages_parked:
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

