"""Composition root of the notifications service: its settings (``TOVHOLDER_NOTIFICATIONS_*``) and
the ``ServiceSpec``.

The settings sit next to the kit's ``Settings`` (shared by all services). Tests build a config with
short delays and pass it to ``build_spec``, which hands it to the jobs, the event handlers and (as
``ctx.extras[CONFIG_KEY]``, read by the ``Config`` dependency) to the routes: nothing reads its own
copy from the environment."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifications.domain.delivery import BackoffPolicy
from services.notifications.domain.scheduling import EscalationPolicy, escalation_roles
from tovholder.service import Ctx, ServiceSpec, entry_points

CONFIG_KEY = "notifications_config"


class NotificationsConfig(BaseSettings):
    """Notifications' own settings, read from the environment when ``build_spec`` is called without one."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_NOTIFICATIONS_", extra="ignore")

    # Scheduler: reminders, escalation, overdue flags.
    sweep_interval_s: float = 15.0
    sweep_batch_size: int = 500
    escalate_urgent_after_min: float | None = 120.0
    escalate_asap_after_min: float | None = 30.0
    # Each botilbud's named escalation role: who takes over urgent work nobody claimed in time
    # (TOVHOLDER_NOTIFICATIONS_ESCALATION_ROLES='{"tangkaer": "coordinator", "*": "nurse-consultant"}').
    # Roles: coordinator, nurse-consultant, visitation (the municipality's); "*" is every other botilbud.
    escalation_roles: dict[str, str] = {"*": "nurse-consultant"}

    @field_validator("escalation_roles")
    @classmethod
    def _known_escalation_roles(cls, value: dict[str, str]) -> dict[str, str]:
        escalation_roles(value)  # refuses an unknown role with the reason
        return value

    # Partner delivery.
    delivery_poll_interval_s: float = 1.0
    delivery_batch_size: int = 20
    delivery_first_delay_s: float = 10.0
    delivery_backoff_factor: float = 2.0
    delivery_max_delay_s: float = 3600.0
    delivery_max_attempts: int = 8
    delivery_jitter: float = 0.1
    delivery_timeout_s: float = 10.0
    # A worker leases due deliveries for this long, so the HTTP call happens outside any transaction.
    delivery_lease_s: float = 60.0

    # Staff pages: how often "my work queue" asks for news (short polling).
    page_poll_interval_s: float = 5.0
    # GET /api/v1/work-queue/events: how often the stream looks for changes, and how long one stream
    # lasts before the client reconnects (and its token is checked again).
    queue_stream_interval_s: float = 2.0
    queue_stream_max_s: float = 600.0

    @property
    def escalation(self) -> EscalationPolicy:
        return EscalationPolicy.from_minutes(urgent=self.escalate_urgent_after_min, asap=self.escalate_asap_after_min,
                                             roles=self.escalation_roles)

    @property
    def backoff(self) -> BackoffPolicy:
        return BackoffPolicy(
            first_delay=timedelta(seconds=self.delivery_first_delay_s),
            factor=self.delivery_backoff_factor,
            max_delay=timedelta(seconds=self.delivery_max_delay_s),
            max_attempts=self.delivery_max_attempts,
            jitter=self.delivery_jitter,
        )


def current_config(ctx: Ctx) -> NotificationsConfig:
    """The configuration the service was composed with (``build_spec``)."""
    return ctx.extras[CONFIG_KEY]


Config = Annotated[NotificationsConfig, Depends(current_config)]


def build_spec(config: NotificationsConfig | None = None) -> ServiceSpec:
    """The service with its background jobs; tests pass a config with short delays."""
    # The layers import the settings above, so the composition root imports them when it composes.
    from services.notifications import api, handlers, jobs

    config = config or NotificationsConfig()

    scheduler = functools.partial(jobs.scheduler_job, config=config)
    scheduler.__name__ = "task-scheduler"  # type: ignore[attr-defined]
    delivery = functools.partial(jobs.delivery_job, config=config)
    delivery.__name__ = "partner-delivery"  # type: ignore[attr-defined]
    return ServiceSpec(
        name="notifications",
        title="Tovholder · work queues and notifications",
        description=(
            "Work queues for coordinators, nurse consultants and visitation (tasks from the other services' events), "
            "reminders, escalation, the staff pages and signed delivery of events to partners."
        ),
        routers=api.routers,
        events=handlers.build_events(config),
        background=[scheduler, delivery],
        extras={CONFIG_KEY: config},  # the routes read it through ``Config`` (current_config)
    )


create_app, __getattr__ = entry_points(build_spec)  # the environment is read when the app is made
