"""Composition root of the plans service."""

from services.plans import api, handlers
from services.plans.scheduler import follow_up_scheduler
from tovholder.service import ServiceSpec, create_service

spec = ServiceSpec(
    name="plans",
    title="Tovholder · Borgerens Plan",
    description="The citizen's plan, network, safety plans, FIT and the consent registry.",
    routers=api.routers,
    events=handlers.events,
    background=[follow_up_scheduler],
)


def create_app():
    return create_service(spec)
