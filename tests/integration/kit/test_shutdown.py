"""Stopping a service while its relay is publishing returns promptly (no hang on shutdown)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest

from contracts.plans import PlanOpenedV1
from tests.support import run_service

pytestmark = pytest.mark.integration


async def test_stopping_while_the_relay_publishes_does_not_hang(pg, kafka, state_dir):
    for _ in range(3):
        started = None
        async with run_service("plans", pg=pg, kafka=kafka, state_dir=state_dir) as plans:
            async with plans.ctx.uow() as uow:
                for _ in range(200):
                    uow.emit(PlanOpenedV1(citizen_id=uuid.uuid4(), plan_id=uuid.uuid4(), botilbud_id="orion",
                                          opened_at=datetime.now(timezone.utc)))
                await uow.commit()
            started = time.monotonic()  # leave at once: the relay is mid-publish
        assert time.monotonic() - started < 12
