"""Hospital notices from health become work-queue tasks; claim, complete, correction, cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from contracts.health import HospitalNoticeCancelledV1, HospitalNoticeCorrectedV1, HospitalNoticeRegisteredV1
from contracts.topics import NOTIFICATIONS
from services.notifications import models as m
from tests.support import eventually, json_body, publish_event, read_topic

pytestmark = pytest.mark.integration

BOTILBUD = "orion"


def notice(citizen_id, *, notice_id=None, kind="admission", tovholder="nurse-a", department="Afsnit P2"):
    return HospitalNoticeRegisteredV1(
        citizen_id=citizen_id, notice_id=notice_id or uuid.uuid4(), message_id=uuid.uuid4(), code="STIN", kind=kind,
        hospital_episode_id="EPJ-778812", department=department, sender_org="SOR:1234567",
        occurred_at=datetime.now(timezone.utc), legal_basis="retssikkerhedsloven § 12 c",
        tovholder_sub=tovholder, botilbud_id=BOTILBUD,
    )


async def queue(svc, sub, role="nurse-consultant", botilbud=BOTILBUD, **params):
    response = await svc.client.get("/api/v1/work-queue", params=params, headers=svc.auth(role, sub, botilbud=botilbud))
    assert response.status_code == 200, response.text
    return response.json()


async def test_admission_becomes_the_tovholders_task_then_claim_and_complete(notifications, kafka):
    citizen = uuid.uuid4()
    event_id = await publish_event(kafka, notice(citizen))

    async def task_seen():
        return [t for t in await queue(notifications, "nurse-a") if t["citizen_id"] == str(citizen)]

    (task,) = await eventually(task_seen, message="admission task in the tovholder's queue")
    assert task["kind"] == "accompany-admission" and task["priority"] == "urgent"
    assert task["owner"] == "nurse-a" and task["status"] == "open" and task["source_event_id"] == event_id
    for key in ("task_id", "citizen_id", "title", "kind", "status", "priority", "due_at", "owner", "created_at", "source_event_id"):
        assert key in task
    # Another nurse at the same botilbud does not get it in her queue.
    assert not [t for t in await queue(notifications, "nurse-b") if t["citizen_id"] == str(citizen)]

    headers = notifications.auth("nurse-consultant", "nurse-a", botilbud=BOTILBUD)
    claimed = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    status = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/business-status", headers=headers,
                                             json={"business_status": "afventer svar fra afdelingen"})
    assert status.status_code == 200 and status.json()["business_status"] == "afventer svar fra afdelingen"
    done = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=headers, json={"note": "Besøgt"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert not await task_seen()

    detail = (await notifications.client.get(f"/api/v1/tasks/{task['task_id']}", headers=headers)).json()
    assert [h["change"] for h in detail["history"]] == ["created", "claimed", "business-status", "completed"]
    assert detail["history"][-1]["note"] == "Besøgt"

    records = await read_topic(kafka, NOTIFICATIONS.name, min_count=3,
                               until=lambda r: r["headers"].get("ce_type") == "tovholder.notifications.task-completed.v1"
                               and json_body(r)["task_id"] == task["task_id"])
    types = [r["headers"]["ce_type"] for r in records if json_body(r).get("task_id") == task["task_id"]]
    # (a business-status change is history only, no event)
    assert types == ["tovholder.notifications.task-created.v1", "tovholder.notifications.task-claimed.v1",
                     "tovholder.notifications.task-completed.v1"]


async def test_admission_without_tovholder_lands_in_the_nurse_pool_and_only_one_can_claim(notifications, kafka):
    citizen = uuid.uuid4()
    await publish_event(kafka, notice(citizen, tovholder=None))

    async def pooled():
        return [t for t in await queue(notifications, "nurse-b") if t["citizen_id"] == str(citizen)]

    (task,) = await eventually(pooled)
    assert task["owner"] is None and task["pool"] == {"role": "nurse-consultant", "botilbud": BOTILBUD}
    # Not visible to a nurse at another botilbud, nor to a coordinator's queue.
    assert not [t for t in await queue(notifications, "nurse-x", botilbud="tangkaer") if t["citizen_id"] == str(citizen)]
    first = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/claim",
                                            headers=notifications.auth("nurse-consultant", "nurse-b", botilbud=BOTILBUD))
    assert first.status_code == 200
    second = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/claim",
                                             headers=notifications.auth("nurse-consultant", "nurse-c", botilbud=BOTILBUD))
    assert second.status_code == 409 and "taget" in second.json()["detail"]
    elsewhere = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/claim",
                                                headers=notifications.auth("nurse-consultant", "nurse-x", botilbud="tangkaer"))
    assert elsewhere.status_code == 404  # not even told it exists
    partner = await notifications.client.get("/api/v1/work-queue", headers=notifications.auth("partner", "p", org="SOR:1"))
    assert partner.status_code == 403


async def test_correction_updates_and_cancellation_withdraws_keeping_history(notifications, kafka):
    citizen, first_notice = uuid.uuid4(), uuid.uuid4()
    await publish_event(kafka, notice(citizen, notice_id=first_notice))

    async def tasks():
        return [t for t in await queue(notifications, "nurse-a") if t["citizen_id"] == str(citizen)]

    (task,) = await eventually(tasks)
    corrected_id = uuid.uuid4()
    original = notice(citizen)
    await publish_event(kafka, HospitalNoticeCorrectedV1(
        **{**original.model_dump(), "notice_id": corrected_id, "corrects_notice_id": first_notice, "department": "Afsnit P7"}
    ))

    async def corrected():
        rows = await tasks()
        return rows if rows and "Afsnit P7" in rows[0]["title"] else None

    (revised,) = await eventually(corrected, message="the correction changed the title")
    assert revised["task_id"] == task["task_id"]

    await publish_event(kafka, HospitalNoticeCancelledV1(citizen_id=citizen, notice_id=uuid.uuid4(),
                                                         cancels_notice_id=corrected_id))
    await eventually(lambda: _empty(tasks), message="the cancellation withdrew the task")
    async with notifications.ctx.sessions() as session:
        row = await session.get(m.Task, uuid.UUID(task["task_id"]))
        history = (await session.execute(select(m.TaskChange.change).where(m.TaskChange.task_id == row.id)
                                         .order_by(m.TaskChange.id))).scalars().all()
    assert row.status == "cancelled"
    assert history == ["created", "revised", "cancelled"]


async def _empty(fetch):
    return not await fetch()


async def test_unmatched_notice_is_work_for_visitation_until_resolved(notifications, kafka):
    from contracts.health import HospitalNoticeParkedV1, HospitalNoticeUnparkedV1

    notice_id = uuid.uuid4()
    await publish_event(kafka, HospitalNoticeParkedV1(
        subject_id=notice_id, unmatched_notice_id=notice_id, code="STAA", sender_org="SOR:1234567",
        department="Afsnit P2", occurred_at=datetime.now(timezone.utc), received_at=datetime.now(timezone.utc),
        legal_basis="retssikkerhedsloven § 12 c"))

    async def parked():
        rows = await queue(notifications, "visitation-1", role="visitation", botilbud=None, kind="unmatched-hospital-notice")
        return [t for t in rows if f"unmatched-notice:{notice_id}" in t["links"]]

    (task,) = await eventually(parked, message="visitation gets the unmatched notice")
    assert task["citizen_id"] is None and task["priority"] == "urgent"
    await publish_event(kafka, HospitalNoticeUnparkedV1(subject_id=notice_id, unmatched_notice_id=notice_id,
                                                        resolution="matched", resolved_by="visitation-1",
                                                        resolved_at=datetime.now(timezone.utc)))
    await eventually(lambda: _empty(parked), message="resolved in health → done here")
    page = await notifications.client.get("/fragmenter/arbejdsko")  # renders without a citizen (no cookie → 401)
    assert page.status_code == 401


async def test_the_same_notice_under_a_new_event_id_makes_no_second_task(notifications, kafka):
    """A business key, not only the CloudEvent id: health's outbox replayed, or the notice published
    again upstream, arrives with a new event id — one task per source notice and task kind, even
    after the first was completed."""
    from contracts.health import HospitalNoticeParkedV1

    citizen = uuid.uuid4()
    same = notice(citizen)
    first = await publish_event(kafka, same)

    async def tasks_of_citizen():
        async with notifications.ctx.sessions() as s:
            return list((await s.execute(select(m.Task).where(m.Task.citizen_id == citizen))).scalars())

    (task,) = await eventually(tasks_of_citizen, message="the first delivery makes the task")
    headers = notifications.auth("nurse-consultant", "nurse-a", botilbud=BOTILBUD)
    assert (await notifications.client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers)).status_code == 200
    second = await publish_event(kafka, same)  # the same body, a new CloudEvent id
    assert second != first
    marker = await publish_event(kafka, notice(citizen, kind="discharge"))  # behind it on the same partition

    async def marker_handled():
        rows = await tasks_of_citizen()
        return rows if any(r.source_event_id == marker for r in rows) else None

    rows = await eventually(marker_handled, message="the event behind the repeat was handled")
    assert [r.id for r in rows if r.kind == "accompany-admission"] == [task.id]

    notice_id = uuid.uuid4()
    parked = HospitalNoticeParkedV1(
        subject_id=notice_id, unmatched_notice_id=notice_id, code="STAA", sender_org="SOR:1234567",
        department="Afsnit P2", occurred_at=datetime.now(timezone.utc), received_at=datetime.now(timezone.utc),
        legal_basis="retssikkerhedsloven § 12 c")
    parked_ids = [await publish_event(kafka, parked), await publish_event(kafka, parked)]

    async def unmatched_tasks():
        async with notifications.ctx.sessions() as s:
            return list((await s.execute(select(m.Task).where(
                m.Task.citizen_id.is_(None), m.Task.links.contains([f"unmatched-notice:{notice_id}"])))).scalars())

    from tovholder.db import InboxEntry

    async def both_handled():
        async with notifications.ctx.sessions() as s:
            handled = set((await s.execute(select(InboxEntry.event_id).where(InboxEntry.event_id.in_(parked_ids)))).scalars())
        return handled == set(parked_ids)
    await eventually(both_handled, message="both deliveries of the parked notice handled")
    assert len(await unmatched_tasks()) == 1
