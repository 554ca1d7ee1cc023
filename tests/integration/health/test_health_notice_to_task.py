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
