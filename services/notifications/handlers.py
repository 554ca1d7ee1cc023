"""Notifications' event handlers: every event from referrals, plans and health goes to one use case,
``services.take_in_event`` — read models (citizen, network, consents, timeline, visitation board) →
task rules (``domain/rules.py``) → queued deliveries for partner subscriptions — in the kit's unit of
work, so the inbox entry and all of it commit together."""

from __future__ import annotations

from contracts.base import BaseEvent
from services.notifications import services as sl
from services.notifications.main import NotificationsConfig
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork


async def on_event(event: BaseEvent, meta: EventMeta, uow: UnitOfWork, *, config: NotificationsConfig) -> None:
    await sl.take_in_event(uow, event, meta, config=config)


def build_events(config: NotificationsConfig) -> EventRouter:
    """The service's event handlers, bound to the configuration the composition root was given."""
    events = EventRouter()

    async def handle(event: BaseEvent, meta: EventMeta, uow: UnitOfWork) -> None:
        await on_event(event, meta, uow, config=config)

    events.handles(*sl.consumed_event_models())(handle)

    @events.prepares
    async def look_up_what_the_batch_asks_about(batch: list[tuple[BaseEvent, EventMeta]], uow: UnitOfWork) -> None:
        await sl.prepare_events(uow, [event for event, _ in batch])

    return events
