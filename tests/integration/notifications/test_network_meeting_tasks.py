"""A network meeting the citizen called becomes a task for the coordinator (issue 13): due at the end
of the fifth working day, once per meeting however often the event arrives, its status showing the
date once set, done when held, withdrawn when cancelled — and escalated when it is late."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from contracts.plans import NetworkMeetingClosedV1, NetworkMeetingRequestedV1, NetworkMeetingScheduledV1
from services.notifications import models as m
from services.notifications.jobs import sweep_once
from tests.support import eventually, publish_event
from tovholder import clock

from .conftest import FAST

pytestmark = pytest.mark.integration
BOTILBUD = "tangkaer"
COORDINATOR = "tangkaer-koordinator-1"


def requested(citizen, meeting, at, assignee=COORDINATOR):
    return NetworkMeetingRequestedV1(citizen_id=citizen, meeting_id=meeting, plan_id=uuid.uuid4(), requested_at=at,
                                     due_on=clock.add_working_days(clock.local_date(at), 5), wanted_count=2,
                                     assignee=assignee, botilbud_id=BOTILBUD)


async def tasks_of(svc, citizen):
    async with svc.ctx.sessions() as session:
        return list((await session.scalars(select(m.Task).where(m.Task.citizen_id == citizen))).all())


async def test_the_meeting_becomes_the_coordinators_task_and_follows_the_meeting(notifications, kafka):
    citizen, meeting = uuid.uuid4(), uuid.uuid4()
    at = datetime.now(timezone.utc)
    event = requested(citizen, meeting, at)
    event_id = await publish_event(kafka, event)
    await publish_event(kafka, event, event_id=event_id)  # the same event again (a redelivery)
    await publish_event(kafka, event)  # and once more under a new id (a resend upstream)
    [task] = await eventually(lambda: tasks_of(notifications, citizen), message="meeting task")
    coordinator = notifications.auth("coordinator", COORDINATOR, botilbud=BOTILBUD)
    queue = (await notifications.client.get("/api/v1/work-queue", headers=coordinator)).json()
    [mine] = [t for t in queue if t["citizen_id"] == str(citizen)]
    assert (mine["kind"], mine["owner"], mine["business_status"]) == ("network-meeting", COORDINATOR, "ikke planlagt")
    assert datetime.fromisoformat(mine["due_at"]) == clock.end_of_local_day(event.due_on)
    assert len(await tasks_of(notifications, citizen)) == 1

    when = at + timedelta(days=1)
    await publish_event(kafka, NetworkMeetingScheduledV1(citizen_id=citizen, meeting_id=meeting, meeting_at=when,
                                                         due_on=event.due_on, scheduled_by=COORDINATOR,
                                                         botilbud_id=BOTILBUD))

    async def planned():
        [row] = await tasks_of(notifications, citizen)
        return row.business_status if row.business_status.startswith("planlagt") else None

    assert await eventually(planned, message="date on the task") == f"planlagt {clock.local_date(when):%d.%m.%Y}"
    await publish_event(kafka, NetworkMeetingClosedV1(citizen_id=citizen, meeting_id=meeting, outcome="held",
                                                      closed_at=when, closed_by=COORDINATOR, botilbud_id=BOTILBUD))

    async def done():
        [row] = await tasks_of(notifications, citizen)
        return row.status == "done"

    await eventually(done, message="task done when the meeting is held")


async def test_a_late_meeting_escalates_and_a_cancelled_one_is_withdrawn(notifications, kafka):
    citizen, meeting = uuid.uuid4(), uuid.uuid4()
    event = requested(citizen, meeting, datetime.now(timezone.utc))
    await publish_event(kafka, event)
    [task] = await eventually(lambda: tasks_of(notifications, citizen), message="meeting task")
    # Not late yet: the sweep leaves it with the coordinator.
    assert (await sweep_once(notifications.ctx.sessions, FAST, now=task.due_at - timedelta(minutes=1))).escalated == 0
    counts = await sweep_once(notifications.ctx.sessions, FAST, now=task.due_at + timedelta(minutes=1))
    assert counts.escalated == 1
    [late] = await tasks_of(notifications, citizen)
    assert (late.owner, late.pool_role, late.pool_botilbud) == (None, "nurse-consultant", BOTILBUD)
    assert late.escalated_at is not None

    other_citizen, other_meeting = uuid.uuid4(), uuid.uuid4()
    await publish_event(kafka, requested(other_citizen, other_meeting, datetime.now(timezone.utc), assignee=None))
    [pooled] = await eventually(lambda: tasks_of(notifications, other_citizen), message="pool task")
    assert (pooled.owner, pooled.pool_role) == (None, "coordinator")
    await publish_event(kafka, NetworkMeetingClosedV1(citizen_id=other_citizen, meeting_id=other_meeting,
                                                      outcome="cancelled", closed_at=datetime.now(timezone.utc),
                                                      closed_by=COORDINATOR, botilbud_id=BOTILBUD))

    async def withdrawn():
        [row] = await tasks_of(notifications, other_citizen)
        return row.status == "cancelled"

    await eventually(withdrawn, message="task withdrawn when the meeting is cancelled")


async def test_a_late_meeting_someone_took_stays_theirs_and_the_escalation_role_is_told(notifications, kafka):
    """Taken but not held by the deadline: moving it away helps nobody, so the coordinator keeps it, it is
    flagged overdue, and the botilbud's escalation role (the nurse consultants) gets a notice, once."""
    citizen, meeting = uuid.uuid4(), uuid.uuid4()
    await publish_event(kafka, requested(citizen, meeting, datetime.now(timezone.utc)))
    [task] = await eventually(lambda: tasks_of(notifications, citizen), message="meeting task")
    coordinator = notifications.auth("coordinator", COORDINATOR, botilbud=BOTILBUD)
    claimed = await notifications.client.post(f"/api/v1/tasks/{task.id}/claim", headers=coordinator)
    assert claimed.status_code == 200, claimed.text
    nurses = notifications.auth("nurse-consultant", "tangkaer-sygeplejekonsulent-1", botilbud=BOTILBUD)

    async def told() -> list[dict]:
        answer = await notifications.client.get("/api/v1/notices", headers=nurses)
        assert answer.status_code == 200, answer.text
        return [n for n in answer.json() if n["task_id"] == str(task.id)]

    assert await told() == []
    counts = await sweep_once(notifications.ctx.sessions, FAST, now=task.due_at + timedelta(minutes=1))
    assert counts.escalated == 0 and counts.overdue == 1
    [late] = await tasks_of(notifications, citizen)
    assert (late.owner, late.status) == (COORDINATOR, "claimed") and late.escalated_at is None
    [notice] = await told()
    assert notice["kind"] == "escalation" and notice["text"].startswith("Over fristen, borgeren venter")
    detail = (await notifications.client.get(f"/api/v1/tasks/{task.id}", headers=coordinator)).json()
    assert any("har fået besked" in (entry.get("note") or "") for entry in detail["history"])
    await sweep_once(notifications.ctx.sessions, FAST, now=task.due_at + timedelta(hours=3))
    assert len(await told()) == 1  # told once
