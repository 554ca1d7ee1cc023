"""Health and notifications together on real PostgreSQL and Tansu: a hospital notice becomes a task
in the tovholder's work queue; the same notice twice gives one task; a cancellation withdraws it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from tests.integration.health.helpers import PARTNER_ORG, known_citizen
from tests.support import eventually, run_service

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def notifications(pg, kafka, tmp_path_factory):
    async with run_service("notifications", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("notif")) as svc:
        yield svc


def notice(cpr: str, code: str, replaces: str | None = None) -> dict:
    occurred = datetime.now(CET) - timedelta(minutes=10)
    return {"message_id": str(uuid.uuid4()), "sent_at": (occurred + timedelta(minutes=1)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": code, "cpr": cpr,
            "hospital_episode_id": "EPJ-9", "department": "Afsnit P2", "occurred_at": occurred.isoformat(),
            "replaces_message_id": replaces}


async def tasks_for(notifications, citizen_id, sub="nurse-a", botilbud="orion"):
    # The work queue is read with the nurse's own token (spec §3); tokens of one test state dir differ per
    # service, so each service signs its own.
    r = await notifications.client.get("/api/v1/work-queue", headers=notifications.auth("nurse-consultant", sub, botilbud=botilbud))
    assert r.status_code == 200, r.text
    body = r.json()
    items = body if isinstance(body, list) else body.get("tasks", body.get("items", []))
    return [t for t in items if t["citizen_id"] == str(citizen_id)]


async def test_stin_becomes_one_task_and_an_stin_withdraws_it(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    partner = health.auth("partner", "partner-pck", org=PARTNER_ORG)
    admission = notice(cpr, "STIN")
    for _ in range(2):  # the same notice twice
        r = await health.client.post("/integration/v1/hospital-notifications", json=admission, headers=partner)
        assert r.status_code == 202, r.text

    async def one_admission_task():
        tasks = [t for t in await tasks_for(notifications, citizen_id) if t["kind"] == "accompany-admission"]
        return tasks or None

    tasks = await eventually(one_admission_task, timeout=30, message="admission task in the tovholder's work queue")
    assert len(tasks) == 1 and tasks[0]["owner"] == "nurse-a" and tasks[0]["status"] == "open"

    r = await health.client.post("/integration/v1/hospital-notifications", json=notice(cpr, "AN_STIN", admission["message_id"]),
                                 headers=partner)
    assert r.status_code == 202, r.text

    async def withdrawn():
        return not [t for t in await tasks_for(notifications, citizen_id) if t["kind"] == "accompany-admission"]

    await eventually(withdrawn, timeout=30, message="admission task withdrawn")


# --- issue 15: hospital stays in order ----------------------------------------------------------------


def notice_at(cpr: str, code: str, occurred, *, episode: str, replaces: str | None = None, sent=None) -> dict:
    return {"message_id": str(uuid.uuid4()), "sent_at": (sent or occurred + timedelta(minutes=1)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": code, "cpr": cpr,
            "hospital_episode_id": episode, "department": "Afsnit P2", "occurred_at": occurred.isoformat(),
            "replaces_message_id": replaces}


async def send(health, body):
    partner = health.auth("partner", "partner-pck", org=PARTNER_ORG)
    r = await health.client.post("/integration/v1/hospital-notifications", json=body, headers=partner)
    assert r.status_code == 202 and r.json()["status"] == "ok", r.text


async def all_tasks_for(notifications, citizen_id):
    """Every task of the citizen, done ones included (the citizen's task list, read by the tovholder)."""
    r = await notifications.client.get(f"/api/v1/citizens/{citizen_id}/timeline",
                                       headers=notifications.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    return r.json()["tasks"] if r.status_code == 200 else []


async def admission_of(health, citizen_id):
    nurse = health.auth("nurse-consultant", "nurse-a", botilbud="orion")
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/health-record", headers=nurse)
    assert r.status_code == 200, r.text
    return r.json()["admission"]["state"]


async def test_a_discharge_before_its_admission_makes_no_accompany_task(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    admitted_at = datetime.now(CET) - timedelta(days=2)
    await send(health, notice_at(cpr, "SLHJ", admitted_at + timedelta(days=1), episode="EPJ-A"))
    await send(health, notice_at(cpr, "STIN", admitted_at, episode="EPJ-A", sent=datetime.now(CET) - timedelta(minutes=1)))

    async def discharge_task():
        tasks = await all_tasks_for(notifications, citizen_id)
        return tasks if any(t["kind"] == "discharge-follow-up" for t in tasks) else None

    await eventually(discharge_task, timeout=30, message="discharge follow-up task")
    marker = uuid.uuid4()  # a later notice in another episode: once its task is there, the STIN was handled too
    await send(health, notice_at(cpr, "STOR", datetime.now(CET) - timedelta(minutes=5), episode=f"EPJ-{marker}"))

    async def leave_task():
        tasks = await all_tasks_for(notifications, citizen_id)
        return tasks if any(t["kind"] == "hospital-leave-contact" for t in tasks) else None

    tasks = await eventually(leave_task, timeout=30, message="the later notice's task")
    assert not [t for t in tasks if t["kind"] == "accompany-admission"], tasks
    assert await admission_of(health, citizen_id) == "on-leave"


async def test_a_discharge_closes_the_accompany_task(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    admitted_at = datetime.now(CET) - timedelta(hours=5)
    await send(health, notice_at(cpr, "STIN", admitted_at, episode="EPJ-B"))

    async def accompany():
        return [t for t in await all_tasks_for(notifications, citizen_id) if t["kind"] == "accompany-admission"] or None

    (task,) = await eventually(accompany, timeout=30, message="accompany task")
    assert task["status"] == "open"
    await send(health, notice_at(cpr, "SLHJ", admitted_at + timedelta(hours=4), episode="EPJ-B"))

    async def closed():
        tasks = [t for t in await all_tasks_for(notifications, citizen_id) if t["kind"] == "accompany-admission"]
        return tasks if tasks and tasks[0]["status"] == "done" else None

    await eventually(closed, timeout=30, message="accompany task closed by the discharge")
    assert await admission_of(health, citizen_id) == "not-admitted"


async def test_a_cancelled_admission_with_leave_notices_is_not_admitted(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    start = datetime.now(CET) - timedelta(hours=6)
    admission = notice_at(cpr, "STIN", start, episode="EPJ-C")
    await send(health, admission)
    await send(health, notice_at(cpr, "STOR", start + timedelta(hours=1), episode="EPJ-C"))
    await send(health, notice_at(cpr, "SLOR", start + timedelta(hours=2), episode="EPJ-C"))
    assert await admission_of(health, citizen_id) == "admitted"
    await send(health, notice_at(cpr, "AN_STIN", start + timedelta(hours=3), episode="EPJ-C",
                                 replaces=admission["message_id"]))
    assert await admission_of(health, citizen_id) == "not-admitted"


async def test_an_admission_dated_1970_is_recorded_with_a_routine_check_not_an_overdue_task(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    now = datetime.now(CET)
    await send(health, notice_at(cpr, "STAA", datetime(1970, 1, 1, tzinfo=timezone.utc), episode="EPJ-D",
                                 sent=now - timedelta(minutes=1)))

    async def verify():
        return [t for t in await all_tasks_for(notifications, citizen_id) if t["kind"] == "accompany-admission"] or None

    (task,) = await eventually(verify, timeout=30, message="the routine check of the old notice")
    assert task["priority"] == "routine" and task["title"].startswith("Gammel indlæggelsesadvis (dateret 01.01.1970)")
    assert datetime.fromisoformat(task["due_at"]) > now
    assert await admission_of(health, citizen_id) == "not-admitted"
    nurse = health.auth("nurse-consultant", "nurse-a", botilbud="orion")
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/health-timeline", headers=nurse)
    (line,) = [e["what"] for e in r.json()["entries"] if e["kind"] == "hospital-notice"]
    assert line.startswith("Indlagt (STAA)") and "historisk advis, dateret 01.01.1970" in line


# --- issue 15: the health check's and the medication alert's tasks close themselves ----------------


def nurse_a(health):
    return health.auth("nurse-consultant", "nurse-a", botilbud="orion")


async def tasks_of_kind(notifications, citizen_id, kind):
    return [t for t in await all_tasks_for(notifications, citizen_id) if t["kind"] == kind]


async def test_acknowledging_a_medication_alert_closes_its_urgent_task(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    admitted_at = datetime.now(CET) - timedelta(hours=3)
    await send(health, notice_at(cpr, "STAA", admitted_at, episode="EPJ-M"))
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/medication-changes", headers=nurse_a(health),
                                 json={"fmk_reference": "FMK-DM-42", "change_kind": "dose-changed",
                                       "changed_at": (admitted_at + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201 and r.json()["during_admission"] is True, r.text

    async def alert_task():
        return [t for t in await tasks_of_kind(notifications, citizen_id, "medication-change") if t["priority"] == "urgent"] or None

    (task,) = await eventually(alert_task, timeout=30, message="the alert's urgent task")
    listing = (await health.client.get(f"/api/v1/citizens/{citizen_id}/medication-changes", headers=nurse_a(health))).json()
    ack = await health.client.post(f"/api/v1/medication-alerts/{listing['alerts'][0]['alert_id']}/acknowledge",
                                   headers=nurse_a(health))
    assert ack.status_code == 200

    async def closed():
        done = [t for t in await tasks_of_kind(notifications, citizen_id, "medication-change") if t["task_id"] == task["task_id"]]
        return done if done and done[0]["status"] == "done" else None

    await eventually(closed, timeout=30, message="the alert's task closed by the acknowledgement")


async def test_a_held_check_closes_its_reminder_and_an_undated_decision_becomes_a_watch_task(health, notifications, kafka, vault):
    from datetime import date, time

    from tovholder import clock
    citizen_id, _ = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    starts_at = datetime.combine(clock.next_working_day(date.today() + timedelta(days=30)), time(10, 0), tzinfo=CET)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                 headers=nurse_a(health))
    assert r.status_code == 201, r.text
    hc_id = r.json()["health_check_id"]

    async def reminder():
        return await tasks_of_kind(notifications, citizen_id, "examination-reminder") or None

    (task,) = await eventually(reminder, timeout=30, message="the check's reminder task")
    assert task["status"] == "open"
    held = {"held_at": (starts_at + timedelta(minutes=12)).isoformat(), "minutes": "Blodsukker lidt højt.",
            "participants": [{"role": r_, "name": r_} for r_ in ("citizen", "minute-taker", "gp")],
            "decisions": [{"kind": "watch-symptom", "title": "Hold øje med blodsukkeret"}]}
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/held", json=held, headers=nurse_a(health))
    assert r.status_code == 200, r.text
    (decision,) = r.json()["decisions"]
    assert decision["review_on"] is not None and decision["due_at"] is None

    async def settled():
        tasks = await all_tasks_for(notifications, citizen_id)
        watch = [t for t in tasks if t["title"].startswith("Hold øje: Hold øje med blodsukkeret")]
        reminder_done = [t for t in tasks if t["task_id"] == task["task_id"] and t["status"] == "done"]
        return (watch, reminder_done) if watch and reminder_done else None

    watch, _ = await eventually(settled, timeout=30, message="reminder closed and the watch task made")
    assert watch[0]["status"] == "open" and watch[0]["due_at"][:10] >= decision["review_on"]
