"""Health's event handlers: typed on the contract, each calls a use case in ``services``.

The kit runs them in one transaction with the inbox entry: they do not commit."""

from __future__ import annotations

import logging

from contracts.plans import NetworkMemberAddedV1, NetworkMemberRemovedV1
from contracts.referrals import CitizenRegisteredV1, PlacementStartedV1, VisitationDecidedV1
from services.health import services
from services.health.models import ConsentRecord
from tovholder.consent_read_model import consent_events
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)

events = EventRouter()
events.prepares_events(services.prepare_events)
events.include(consent_events(ConsentRecord))  # the kit's consent read model (health passes on by it)


@events.handles(CitizenRegisteredV1)
async def remember_citizen(event: CitizenRegisteredV1, meta: EventMeta, uow: UnitOfWork) -> None:
    matched, rejected, recorded = await services.citizen_registered(uow, event)
    if matched or rejected:
        log.info("matched parked hospital notices", extra={"matched": matched, "rejected": rejected, "event_id": meta.event_id})
    if recorded:
        log.info("recorded parked partner messages", extra={"recorded": recorded, "event_id": meta.event_id})


@events.handles(VisitationDecidedV1)
async def open_health_record_when_place_granted(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await services.place_granted(uow, event, cause=meta.event_id)


@events.handles(PlacementStartedV1)
async def follow_the_citizen_to_their_botilbud(event: PlacementStartedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await services.placement_started(uow, event, cause=meta.event_id)


@events.handles(NetworkMemberAddedV1)
async def network_member_added(event: NetworkMemberAddedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await services.network_member_added(uow, event)


@events.handles(NetworkMemberRemovedV1)
async def network_member_removed(event: NetworkMemberRemovedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await services.network_member_removed(uow, event)
