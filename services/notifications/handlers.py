"""Notifications' event handlers: every event from referrals, plans and health goes to one use case,
``services.take_in_event`` — read models (citizen, network, timeline, visitation board) → task rules
(``domain/rules.py``) → queued deliveries for partner subscriptions — in the kit's unit of work, so the
inbox entry and all of it commit together. Plans' consents go to the kit's consent read model as well."""

from __future__ import annotations

from contracts.base import BaseEvent
from services.notifications import services as sl
from services.notifications.main import NotificationsConfig
from services.notifications.models import ConsentRecord
from tovholder.consent_read_model import consent_events
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

    events.prepares_events(sl.prepare_events)
    events.include(consent_events(ConsentRecord))  # the kit's consent read model: the delivery gate reads it
    return events
