"""Composition root of the referrals service: its settings and the ``ServiceSpec``."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.referrals import api, handlers
from services.referrals.domain.clocks import VisitationRules
from services.referrals.services import RULES_KEY
from services.referrals.jobs import follow_up_scheduler
from services.referrals.pages import old_staff_pages
from tovholder.service import ServiceSpec, entry_points


class ReferralsSettings(BaseSettings):
    """Referrals' own settings (``TOVHOLDER_REFERRALS_*``), next to the kit's shared ``Settings``."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_REFERRALS_", extra="ignore")

    follow_up_scan_interval_s: float = 3600.0  # how often due follow-ups (and drifting stays) become events
    # Drift of a § 107 (temporary) stay: past its planned period, or this many follow-ups with no move-out plan.
    temporary_stay_years: int = 2
    follow_ups_without_movement: int = 3
    # The municipality's processing time limit for a decision on a referral, in working days.
    decision_working_days: int = 20
    # Where visitation's old pages (/visitation, /visitation/report) send the browser: the portal.
    portal_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8100")

    @property
    def portal_base(self) -> str:
        """The portal's address without path, query or fragment (so a redirect can only go there)."""
        parts = urlsplit(str(self.portal_url))
        return f"{parts.scheme}://{parts.netloc}"

    def visitation_rules(self) -> VisitationRules:
        return VisitationRules(temporary_stay_years=self.temporary_stay_years,
                               follow_ups_without_movement=self.follow_ups_without_movement,
                               decision_working_days=self.decision_working_days)


def build_spec(settings: ReferralsSettings | None = None) -> ServiceSpec:
    settings = settings or ReferralsSettings()
    rules = settings.visitation_rules()
    scheduler = functools.partial(follow_up_scheduler, interval_s=settings.follow_up_scan_interval_s, rules=rules)
    scheduler.__name__ = "follow_up_scheduler"  # type: ignore[attr-defined]
    return ServiceSpec(
        name="referrals",
        title="Tovholder · referrals and visitation",
        description="Referrals and visitation along the indsatstrappe: intake, screening, decisions, offers and "
                    "matching, waitlists, placements, follow-ups, move-out and step-down, the flow report.",
        routers=[*api.routers, old_staff_pages(settings.portal_base)],
        events=handlers.events,
        background=[scheduler],
        extras={RULES_KEY: rules},  # the use cases read it through services.visitation_rules(ctx)
    )


create_app, __getattr__ = entry_points(build_spec)  # the environment is read when the app is made
