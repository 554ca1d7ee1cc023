"""Notifications' own settings (``TOVHOLDER_NOTIFICATIONS_*``), next to the kit's ``Settings``.

Kept separate because the kit's settings are shared by all services; tests build a config with
short delays and pass it to ``main.build_spec``, which hands it to the jobs, the event handlers and
(as ``ctx.extras[CONFIG_KEY]``) to the routes: nothing reads its own copy from the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifications.domain.delivery import BackoffPolicy
from services.notifications.domain.scheduling import EscalationPolicy
from tovholder.service import Ctx

CONFIG_KEY = "notifications_config"


class NotificationsConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_NOTIFICATIONS_", extra="ignore")

    # Scheduler: reminders, escalation, overdue flags.
    sweep_interval_s: float = 15.0
    sweep_batch_size: int = 500
    escalate_urgent_after_min: float | None = 120.0
    escalate_asap_after_min: float | None = 30.0

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

    @property
    def escalation(self) -> EscalationPolicy:
        return EscalationPolicy.from_minutes(urgent=self.escalate_urgent_after_min, asap=self.escalate_asap_after_min)

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
    """The configuration the service was composed with (``main.build_spec``)."""
    return ctx.extras[CONFIG_KEY]


Config = Annotated[NotificationsConfig, Depends(current_config)]
