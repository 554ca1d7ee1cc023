"""Composition root of the referrals service: its settings and the ``ServiceSpec``."""

from __future__ import annotations

import functools

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.referrals import api, handlers
from services.referrals.jobs import follow_up_scheduler
from services.referrals.pages import pages
from tovholder.service import ServiceSpec, create_service


class ReferralsSettings(BaseSettings):
    """Referrals' own settings (``TOVHOLDER_REFERRALS_*``), next to the kit's shared ``Settings``."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_REFERRALS_", extra="ignore")

    follow_up_scan_interval_s: float = 3600.0  # how often due follow-ups become FollowUpDue events


def build_spec(settings: ReferralsSettings | None = None) -> ServiceSpec:
    settings = settings or ReferralsSettings()
    scheduler = functools.partial(follow_up_scheduler, interval_s=settings.follow_up_scan_interval_s)
    scheduler.__name__ = "follow_up_scheduler"  # type: ignore[attr-defined]
    return ServiceSpec(
        name="referrals",
        title="Tovholder · referrals and visitation",
        description="Referrals and visitation along the indsatstrappe: intake, screening, decisions, offers and "
                    "matching, waitlists, placements, follow-ups, move-out and step-down, the flow report.",
        routers=[*api.routers, pages],
        events=handlers.events,
        background=[scheduler],
    )


spec = build_spec()


def create_app():
    return create_service(spec)
