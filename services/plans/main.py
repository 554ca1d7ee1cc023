"""Composition root of the plans service: its settings and its ServiceSpec."""

from __future__ import annotations

import functools

from services.plans import api, handlers, jobs
from tovholder.service import ServiceSpec, entry_points
from tovholder.settings import Settings


class PlansSettings(Settings):
    """The kit's settings plus plans' own (environment ``TOVHOLDER_PLANS_…``)."""

    # How often the follow-up job looks for due follow-ups (TOVHOLDER_PLANS_FOLLOW_UP_INTERVAL_S).
    plans_follow_up_interval_s: float = 30.0


def build_spec(settings: PlansSettings | None = None) -> ServiceSpec:
    settings = settings or PlansSettings(service="plans")
    follow_ups = functools.partial(jobs.follow_up_scheduler, interval_s=settings.plans_follow_up_interval_s)
    follow_ups.__name__ = "follow_up_scheduler"  # type: ignore[attr-defined]
    return ServiceSpec(
        name="plans",
        title="Tovholder · Borgerens Plan",
        description="The citizen's plan, network, safety plans, FIT and the consent registry.",
        routers=api.routers,
        events=handlers.events,
        background=[follow_ups],
    )


create_app, __getattr__ = entry_points(build_spec)  # the environment is read when the app is made
