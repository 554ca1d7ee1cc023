"""Composition root of the notifications service."""

from services.notifications import api, handlers
from tovholder.service import ServiceSpec, create_service

spec = ServiceSpec(
    name="notifications",
    title="Tovholder · work queues and notifications",
    description="Work queues for coordinators and nurse consultants, reminders, escalation, delivery to partners.",
    routers=api.routers,
    events=handlers.events,
)


def create_app():
    return create_service(spec)
