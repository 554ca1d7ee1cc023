"""Plans' event handlers: typed on the contract, each calls one use case in ``services.plans.services``.

The kit commits each handler's effect together with the inbox entry; handlers do not commit.
"""

from __future__ import annotations

from contracts.health import HealthCheckPlanEntryProposedV1, TovholderChosenV1
from contracts.referrals import VisitationDecidedV1
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork
from services.plans import services

events = EventRouter()
events.prepares_events(services.prepare_events)


@events.handles(VisitationDecidedV1)
async def open_plan_when_place_granted(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await services.open_plan(uow, event, cause=meta.event_id)


@events.handles(TovholderChosenV1)
async def keep_the_chosen_tovholder_in_the_network(event: TovholderChosenV1, meta: EventMeta,
                                                   uow: UnitOfWork) -> None:
    """The citizen chose (or changed) their nurse consultant as tovholder in health: the network's
    nurse-consultant seat follows that choice."""
    await services.follow_the_chosen_tovholder(uow, event, cause=meta.event_id)


@events.handles(HealthCheckPlanEntryProposedV1)
async def propose_from_the_health_check(event: HealthCheckPlanEntryProposedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """A decision in the health check's minutes is proposed for the plan; the coordinator confirms it
    with the citizen."""
    await services.record_plan_proposal(uow, event, cause=meta.event_id)
