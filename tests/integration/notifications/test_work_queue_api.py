"""The work-queue API on PostgreSQL: filters, keyset pagination, access by role/botilbud/network,
escalation and reminders through the scheduler, the timeline and the visitation board."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from contracts.health import HealthCheckScheduledV1, HospitalNoticeRegisteredV1
from contracts.plans import NetworkMemberAddedV1, SafetyRatingChangedV1
from contracts.referrals import CitizenRegisteredV1, ReferralReceivedV1, VisitationDecidedV1
from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications.domain import tasks as d
from services.notifications.jobs import sweep_once
from tests.support import eventually, publish_event
from tovholder.db import OutboxMessage

from .conftest import FAST

pytestmark = pytest.mark.integration
NOW = datetime.now(timezone.utc)


def make_task(citizen_id, *, due_in_h: float | None, kind=d.TaskKind.OTHER, owner=None, pool=None,
              botilbud="tangkaer", priority=d.Priority.ROUTINE) -> d.Task:
    spec = d.TaskSpec(kind=kind, title=f"Opgave {uuid.uuid4().hex[:6]}", priority=priority,
                      due_at=NOW + timedelta(hours=due_in_h) if due_in_h is not None else None,
                      owner_sub=owner, pool=pool if owner is None else None)
    return d.new_task(spec, task_id=uuid.uuid4(), citizen_id=citizen_id, botilbud_id=botilbud,
                      source_event_id=str(uuid.uuid4()), source_event_type="test", now=NOW)


async def store(svc, tasks):
    async with svc.ctx.uow() as uow:
        for task in tasks:
            repo.save(uow, task, FAST.escalation)
        await uow.commit()


async def get_queue(svc, sub, role="coordinator", botilbud="tangkaer", **params):
    return await svc.client.get("/api/v1/work-queue", params=params, headers=svc.auth(role, sub, botilbud=botilbud))


async def test_filters_and_keyset_pages(notifications):
    citizen_a, citizen_b = uuid.uuid4(), uuid.uuid4()
    pool = d.Pool(d.Role.COORDINATOR, "tangkaer")
    tasks = [make_task(citizen_a, due_in_h=h, pool=pool) for h in (-5, -1, 2, 30, 60)]
    tasks += [make_task(citizen_b, due_in_h=None, pool=pool), make_task(citizen_b, due_in_h=3, owner="koord-1",
                                                                      kind=d.TaskKind.PLAN_FOLLOW_UP)]
    tasks += [make_task(citizen_b, due_in_h=1, pool=d.Pool(d.Role.COORDINATOR, "orion"), botilbud="orion")]
    await store(notifications, tasks)

    everything = (await get_queue(notifications, "koord-1")).json()
    assert len(everything) == 7
    keys = [(t["due_at"] is None, t["due_at"] or "", t["task_id"]) for t in everything]
    assert keys == sorted(keys)  # due first, undated last

    overdue = (await get_queue(notifications, "koord-1", overdue="true")).json()
    assert len(overdue) == 2 and all(t["overdue"] for t in overdue)
    assert len((await get_queue(notifications, "koord-1", overdue="false")).json()) == 5
    assert [t["kind"] for t in (await get_queue(notifications, "koord-1", kind="plan-follow-up")).json()] == ["plan-follow-up"]
    assert {t["citizen_id"] for t in (await get_queue(notifications, "koord-1", citizen_id=str(citizen_b))).json()} == {str(citizen_b)}
    soon = (await get_queue(notifications, "koord-1", due_before=(NOW + timedelta(hours=4)).isoformat())).json()
    assert len(soon) == 4
    later = (await get_queue(notifications, "koord-1", due_after=(NOW + timedelta(hours=20)).isoformat())).json()
    assert len(later) == 2

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await get_queue(notifications, "koord-1", **params)
        seen += response.json()
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        if not cursor:
            break
        assert 'rel="next"' in response.headers["Link"]
    assert pages == 3 and [t["task_id"] for t in seen] == [t["task_id"] for t in everything]


@pytest.mark.parametrize(("params", "reason"), [
    ({"kind": "nope"}, "kind 'nope'"), ({"limit": 0}, "limit"), ({"cursor": "xyz"}, "cursor"),
    ({"overdue": "maybe"}, "overdue"), ({"citizen_id": "42"}, "UUID"),
])
async def test_bad_filters_get_422_with_a_reason(notifications, params, reason):
    response = await get_queue(notifications, "koord-1", **params)
    assert response.status_code == 422 and reason in response.json()["detail"]


async def test_network_membership_and_coordinator_overview_grant_sight_but_not_claim(notifications, kafka):
    citizen = uuid.uuid4()
    task = make_task(citizen, due_in_h=5, owner="nurse-other", botilbud="vista-hus")
    await store(notifications, [task])
    outsider = notifications.auth("nurse-consultant", "nurse-net", botilbud="cirklen")
    assert (await notifications.client.get(f"/api/v1/tasks/{task.task_id}", headers=outsider)).status_code == 404

    await publish_event(kafka, NetworkMemberAddedV1(citizen_id=citizen, staff_id="nurse-net", role="nurse-consultant",
                                                    added_at=NOW, basis="citizen-choice", botilbud_id="vista-hus"))

    async def visible():
        return (await notifications.client.get(f"/api/v1/tasks/{task.task_id}", headers=outsider)).status_code == 200

    await eventually(visible, message="network member sees the citizen's task")
    claim = await notifications.client.post(f"/api/v1/tasks/{task.task_id}/claim", headers=outsider)
    assert claim.status_code == 403
    coordinator = notifications.auth("coordinator", "koord-vista", botilbud="vista-hus")
    assert (await notifications.client.get(f"/api/v1/tasks/{task.task_id}", headers=coordinator)).status_code == 200
    timeline = await notifications.client.get(f"/api/v1/citizens/{citizen}/timeline", headers=outsider)
    assert timeline.status_code == 200 and timeline.json()["timeline"][0]["title"] == "Ny i netværket"


async def test_a_red_la2_reassessment_nobody_claims_escalates_to_the_botilbuds_escalation_role(notifications, kafka):
    """Regression (issue 15): a red LA2 re-assessment waiting in the coordinators' pool escalated to no one."""
    citizen = uuid.uuid4()
    await publish_event(kafka, SafetyRatingChangedV1(
        citizen_id=citizen, rating_id=uuid.uuid4(), level="red", rated_at=NOW, reassess_at=NOW + timedelta(hours=12),
        citizen_told=True, rated_by="tangkaer-koordinator-1", botilbud_id="tangkaer"))

    async def created():
        async with notifications.ctx.sessions() as session:
            return await session.scalar(select(m.Task).where(m.Task.citizen_id == citizen))

    task = await eventually(created, message="re-assessment task created")
    assert (task.pool_role, task.pool_botilbud, task.priority) == ("coordinator", "tangkaer", "urgent")
    counts = await sweep_once(notifications.ctx.sessions, FAST, now=task.created_at + timedelta(minutes=121))
    assert counts.escalated == 1
    nurse = notifications.auth("nurse-consultant", "tangkaer-sygeplejekonsulent-1", botilbud="tangkaer")
    detail = (await notifications.client.get(f"/api/v1/tasks/{task.id}", headers=nurse)).json()
    assert detail["pool"] == {"role": "nurse-consultant", "botilbud": "tangkaer"} and detail["escalated_at"]
    last = detail["history"][-1]
    assert last["change"] == "escalated" and last["by"] == "system"
    assert last["note"] == "Ikke taget efter 121 minutter – sendt til Sygeplejekonsulenter – tangkaer " \
                           "(botilbuddets eskaleringsrolle)"
    claimed = await notifications.client.post(f"/api/v1/tasks/{task.id}/claim", headers=nurse)
    assert claimed.status_code == 200, claimed.text
    async with notifications.ctx.sessions() as session:
        escalated = json.loads(await session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.subject == str(citizen), OutboxMessage.event_type == "tovholder.notifications.task-escalated.v1")))
    assert (escalated["to_role"], escalated["botilbud_id"]) == ("nurse-consultant", "tangkaer")


async def test_unclaimed_urgent_task_escalates_to_coordinators_with_a_notice(notifications):
    citizen = uuid.uuid4()
    task = make_task(citizen, due_in_h=8, pool=d.Pool(d.Role.NURSE_CONSULTANT, "tuesten-huse"), botilbud="tuesten-huse",
                     priority=d.Priority.URGENT)
    await store(notifications, [task])
    # Two hours and a bit later (FAST escalates urgent after 120 minutes): sweep as the scheduler does.
    counts = await sweep_once(notifications.ctx.sessions, FAST, now=NOW + timedelta(minutes=121))
    assert counts.escalated >= 1
    queue = (await get_queue(notifications, "koord-t", botilbud="tuesten-huse")).json()
    (escalated,) = [t for t in queue if t["task_id"] == str(task.task_id)]
    assert escalated["pool"] == {"role": "coordinator", "botilbud": "tuesten-huse"} and escalated["escalated_at"]
    notices = (await notifications.client.get("/api/v1/notices",
                                              headers=notifications.auth("coordinator", "koord-t", botilbud="tuesten-huse"))).json()
    assert any(n["kind"] == "escalation" and n["task_id"] == str(task.task_id) for n in notices)


async def test_examination_reminders_fire_the_evening_before(notifications, kafka):
    citizen = uuid.uuid4()
    starts = datetime.combine(date.today() + timedelta(days=20), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
    evening = starts - timedelta(hours=15)
    morning = starts - timedelta(hours=2)
    await publish_event(kafka, HealthCheckScheduledV1(
        citizen_id=citizen, health_check_id=uuid.uuid4(), year=2026, extended=False, starts_at=starts, gp_practice=None,
        pre_assessment_due=date.today(), preparation_due=date.today(), reminders_at=[evening, morning],
        tovholder_sub="nurse-r", botilbud_id="orion",
    ))

    async def task_row():
        async with notifications.ctx.sessions() as session:
            return (await session.execute(select(m.Task).where(m.Task.citizen_id == citizen))).scalar_one_or_none()

    row = await eventually(task_row)
    assert row.next_check_at == evening
    await sweep_once(notifications.ctx.sessions, FAST, now=evening + timedelta(minutes=1))
    row = await task_row()
    assert row.next_check_at == morning and row.reminders[0]["sent_at"]
    notices = (await notifications.client.get("/api/v1/notices",
                                              headers=notifications.auth("nurse-consultant", "nurse-r", botilbud="orion"))).json()
    assert notices[0]["kind"] == "reminder" and "Påmind borgeren" in notices[0]["text"]


async def test_visitation_flow_gives_first_network_meeting_timeline_and_board(notifications, kafka):
    citizen, referral = uuid.uuid4(), uuid.uuid4()
    await publish_event(kafka, CitizenRegisteredV1(citizen_id=citizen, cpr_hash="h", citizen_name="Ida Jensen"))
    await publish_event(kafka, ReferralReceivedV1(citizen_id=citizen, referral_id=referral, received_at=NOW,
                                                  channel="partner", referrer_org="SOR:1234567", requested_step=6))
    await publish_event(kafka, VisitationDecidedV1(citizen_id=citizen, referral_id=referral, decision="granted",
                                                   decided_at=NOW, decided_by="visitation-1", legal_basis="SEL §107",
                                                   step=6, botilbud_id="cirklen", start_date=date.today()))

    async def meeting():
        queue = (await get_queue(notifications, "koord-c", botilbud="cirklen", citizen_id=str(citizen))).json()
        return [t for t in queue if t["kind"] == "first-network-meeting"]

    (task,) = await eventually(meeting, message="first network meeting in the coordinator pool")
    assert task["title"] == "Første netværksmøde" and task["pool"] == {"role": "coordinator", "botilbud": "cirklen"}

    board = (await notifications.client.get("/api/v1/visitation-board",
                                            headers=notifications.auth("visitation", "visitation-1"))).json()
    granted = next(c for c in board["columns"] if c["status"] == "granted")
    assert any(case["citizen_id"] == str(citizen) and case["citizen_name"] == "Ida Jensen" for case in granted["cases"])
    assert (await notifications.client.get("/api/v1/visitation-board",
                                           headers=notifications.auth("nurse-consultant", "n"))).status_code == 403
    timeline = (await notifications.client.get(f"/api/v1/citizens/{citizen}/timeline",
                                               headers=notifications.auth("coordinator", "koord-c", botilbud="cirklen"))).json()
    titles = [e["title"] for e in timeline["timeline"]]
    assert "Visitation bevilget (SEL §107, trin 6)" in titles and "Henvisning modtaget fra SOR:1234567" in titles
    assert timeline["name"] == "Ida Jensen" and timeline["botilbud_id"] == "cirklen"
    elsewhere = await notifications.client.get(f"/api/v1/citizens/{citizen}/timeline",
                                               headers=notifications.auth("coordinator", "koord-o", botilbud="orion"))
    assert elsewhere.status_code == 403


async def test_death_notice_closes_the_citizens_open_tasks(notifications, kafka):
    citizen = uuid.uuid4()
    other = make_task(citizen, due_in_h=48, owner="nurse-d", botilbud="orion")
    await store(notifications, [other])
    await publish_event(kafka, HospitalNoticeRegisteredV1(
        citizen_id=citizen, notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="MORS", kind="death",
        hospital_episode_id="EPJ-1", department="Afsnit P2", sender_org="SOR:1234567", occurred_at=NOW,
        legal_basis="retssikkerhedsloven § 12 c", tovholder_sub="nurse-d", botilbud_id="orion",
    ))

    async def only_inform():
        queue = (await get_queue(notifications, "nurse-d", role="nurse-consultant", botilbud="orion",
                                 citizen_id=str(citizen))).json()
        return queue if [t["kind"] for t in queue] == ["inform-network-of-death"] else None

    await eventually(only_inform, message="only the 'tell the network' task is left")
