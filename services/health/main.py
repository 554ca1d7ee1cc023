"""Composition root of the health service."""

from services.health import api, handlers
from tovholder.service import ServiceSpec, create_service

spec = ServiceSpec(
    name="health",
    title="Tovholder · health coordination",
    description="The nurse consultant as tovholder: hospital notices, the annual health check, medication, forensic psychiatry.",
    routers=api.routers,
    events=handlers.events,
    background=[handlers.depot_watch],
)


def create_app():
    return create_service(spec)
