"""Composition root of the referrals service."""

from services.referrals import api, handlers
from services.referrals.jobs import follow_up_scheduler
from services.referrals.pages import pages
from tovholder.service import ServiceSpec, create_service

spec = ServiceSpec(
    name="referrals",
    title="Tovholder · referrals and visitation",
    description="Referrals and visitation along the indsatstrappe: intake, screening, decisions, offers and "
                "matching, waitlists, placements, follow-ups, move-out and step-down, the flow report.",
    routers=[*api.routers, pages],
    events=handlers.events,
    background=[follow_up_scheduler],
)


def create_app():
    return create_service(spec)
