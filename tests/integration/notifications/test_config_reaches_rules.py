"""The configuration given to ``build_spec`` reaches the task rules (event handlers) and the task
use cases (routes): a non-default escalation delay decides when an unclaimed urgent task is due for
escalation, both when an event creates it and when a route puts it back in its pool."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from contracts.health import HospitalNoticeRegisteredV1
from services.notifications import models as m
from services.notifications.main import build_spec
from tests.support import eventually, publish_event, run_service

from .conftest import FAST

pytestmark = pytest.mark.integration

ESCALATE_AFTER = timedelta(seconds=42)  # far from the default two hours
CONFIG = FAST.model_copy(update={"escalate_urgent_after_min": ESCALATE_AFTER.total_seconds() / 60,
                                 "sweep_interval_s": 3600})  # the scheduler must not move anything here


@pytest.fixture
async def notifications(pg, kafka, state_dir):
    async with run_service(build_spec(CONFIG), pg=pg, kafka=kafka, state_dir=state_dir) as svc:
        yield svc


async def test_escalation_delay_from_build_spec_reaches_handlers_and_routes(notifications, kafka):
    citizen = uuid.uuid4()
    await publish_event(kafka, HospitalNoticeRegisteredV1(
        citizen_id=citizen, notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="STIN", kind="admission",
        hospital_episode_id="EPJ-1", department="Afsnit P2", sender_org="SOR:1234567",
        occurred_at=datetime.now(timezone.utc), legal_basis="retssikkerhedsloven § 12 c",
        tovholder_sub=None, botilbud_id="orion"))  # no tovholder: the task sits in the nurses' pool

    async def created():
        async with notifications.ctx.sessions() as session:
            return (await session.execute(m.Task.__table__.select().where(m.Task.citizen_id == citizen))).first()

    task = await eventually(created, message="admission task created")
    assert task.next_check_at - task.created_at == ESCALATE_AFTER  # the handler used the composed config

    headers = notifications.auth("nurse-consultant", "nurse-b", botilbud="orion")
    for action in ("claim", "release"):
        response = await notifications.client.post(f"/api/v1/tasks/{task.id}/{action}", headers=headers)
        assert response.status_code == 200, response.text
    async with notifications.ctx.sessions() as session:
        released = await session.get(m.Task, task.id)
    assert released.status == "open"
    assert released.next_check_at - released.created_at == ESCALATE_AFTER  # so did the route's use case
