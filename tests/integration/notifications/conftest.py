"""A notifications service per test module, with short scheduler and delivery delays."""

from __future__ import annotations

import pytest

from services.notifications.main import NotificationsConfig
from services.notifications.main import build_spec
from tests.support import run_service

FAST = NotificationsConfig(
    sweep_interval_s=0.2,
    escalate_urgent_after_min=120,
    escalate_asap_after_min=30,
    delivery_poll_interval_s=0.05,
    delivery_first_delay_s=0.2,
    delivery_backoff_factor=2.0,
    delivery_max_delay_s=2.0,
    delivery_max_attempts=3,
    delivery_jitter=0.0,
    delivery_timeout_s=2.0,
    delivery_lease_s=5.0,
)


@pytest.fixture
async def notifications(pg, kafka, state_dir):
    # The receivers in these tests listen on 127.0.0.1, which only this explicit setting allows.
    async with run_service(build_spec(FAST), pg=pg, kafka=kafka, state_dir=state_dir, webhook_allow_loopback=True) as svc:
        yield svc
