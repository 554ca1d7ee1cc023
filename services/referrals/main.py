"""Composition root of the referrals service."""

from services.referrals import api, handlers
from tovholder.service import ServiceSpec, create_service

spec = ServiceSpec(
    name="referrals",
    title="Tovholder · referrals and visitation",
    description="Referrals and visitation along the indsatstrappe: intake, decisions, offers, placements.",
    routers=api.routers,
    events=handlers.events,
)


def create_app():
    return create_service(spec)
