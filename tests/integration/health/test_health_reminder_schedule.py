"""One reminder schedule through the API: the health check health publishes carries the kit's
moments (the evening before 19:00, the morning of 08:00), the same ones notifications fires and the
documentation names (issue 15: health said 19:00 / 08:00, the documentation 18:00 / 07:00)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from services.notifications.domain.scheduling import examination_reminders
from tests.integration.health.helpers import known_citizen
from tovholder.clock import COPENHAGEN
from tovholder.db import OutboxMessage
from tovholder.settings import get_settings

pytestmark = pytest.mark.integration


async def test_a_scheduled_health_check_carries_the_one_reminder_schedule(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault)
    day = date.today() + timedelta(days=30)
    starts_at = datetime.combine(day, time(10, 0), tzinfo=COPENHAGEN)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks",
                                 json={"starts_at": starts_at.isoformat(), "gp_practice": "Lægehuset Ebeltoft"},
                                 headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 201, r.text
    async with health.ctx.sessions() as session:
        body = json.loads(await session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.subject == str(citizen_id),
            OutboxMessage.event_type == "tovholder.health.health-check-scheduled.v1")))
    moments = [datetime.fromisoformat(m) for m in body["reminders_at"]]
    assert moments == [datetime.combine(day - timedelta(days=1), time(19), tzinfo=COPENHAGEN),
                       datetime.combine(day, time(8), tzinfo=COPENHAGEN)]
    assert tuple(moments) == get_settings().reminder_schedule.moments_before(starts_at)
    assert moments == [r.at for r in examination_reminders(starts_at)]  # what notifications computes
