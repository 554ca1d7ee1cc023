"""Health's boundaries on real PostgreSQL and Tansu: the unmatched-notice queue belongs to the
municipality the installation serves (TOVHOLDER_MUNICIPALITY), and a record or object the caller may
not see answers exactly like one that does not exist."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
import pytest_asyncio

from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr
from tests.support import run_service

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))
SERVED = "København"
KBH = dict(role="visitation", sub="visitation-kbh", municipality=SERVED)
AARHUS = dict(role="visitation", sub="visitation-aarhus", municipality="Aarhus")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def health(pg, kafka, tmp_path_factory):
    async with run_service("health", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("health-scope"),
                           municipality=SERVED) as svc:
        yield svc


async def parked_notice(health) -> str:
    occurred = datetime.now(CET) - timedelta(minutes=30)
    body = {"message_id": str(uuid.uuid4()), "sent_at": (occurred + timedelta(minutes=1)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "PC København"}, "code": "STIN", "cpr": new_cpr(),
            "hospital_episode_id": "EPJ-9", "department": "Afsnit P2", "occurred_at": occurred.isoformat(),
            "replaces_message_id": None}
    r = await health.client.post("/integration/v1/hospital-notifications", json=body,
                                 headers=health.auth("partner", "epj", org=PARTNER_ORG))
    assert r.status_code == 202, r.text
    queue = (await health.client.get("/api/v1/unmatched-hospital-notices", headers=health.auth(**KBH))).json()
    (mine,) = [n for n in queue["notices"] if n["message_id"] == body["message_id"]]
    return mine["unmatched_id"]


async def test_the_unmatched_queue_is_the_receiving_municipalitys(health):
    unmatched_id = await parked_notice(health)
    base = "/api/v1/unmatched-hospital-notices"
    # The municipality the installation serves works the queue (and reads the full CPR, audited);
    # so do visitation staff not limited to one municipality.
    assert (await health.client.get(f"{base}/{unmatched_id}", headers=health.auth(**KBH))).status_code == 200
    assert (await health.client.get(base, headers=health.auth("visitation", "visitation-all"))).status_code == 200

    # Another municipality's visitation sees neither the list nor any notice — one answer for all.
    other = health.auth(**AARHUS)
    listed = await health.client.get(base, headers=other)
    one = await health.client.get(f"{base}/{unmatched_id}", headers=other)
    none = await health.client.get(f"{base}/{uuid.uuid4()}", headers=other)
    assert listed.status_code == one.status_code == none.status_code == 403
    assert one.json() == none.json() and "notices" not in listed.text
    match = await health.client.post(f"{base}/{unmatched_id}/match", json={"citizen_id": str(uuid.uuid4())}, headers=other)
    dismiss = await health.client.post(f"{base}/{unmatched_id}/dismiss", headers=other)
    assert match.status_code == dismiss.status_code == 403
    still = (await health.client.get(f"{base}/{unmatched_id}", headers=health.auth(**KBH))).json()
    assert still["status"] == "open"


async def test_an_object_of_a_record_out_of_reach_answers_like_a_missing_one(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, botilbud="orion", tovholder="nurse-a")
    starts_at = datetime.combine(date.today() + timedelta(days=40), time(10, 0), tzinfo=CET)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                 headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 201, r.text
    check_id = r.json()["health_check_id"]
    elsewhere = health.auth("nurse-consultant", "nurse-z", botilbud="tangkaer")
    for hidden_path, missing_path in (
        (f"/api/v1/health-checks/{check_id}", f"/api/v1/health-checks/{uuid.uuid4()}"),
        (f"/api/v1/citizens/{citizen_id}/health-record", f"/api/v1/citizens/{uuid.uuid4()}/health-record"),
        (f"/api/v1/citizens/{citizen_id}/hospital-notices", f"/api/v1/citizens/{uuid.uuid4()}/hospital-notices"),
    ):
        hidden = await health.client.get(hidden_path, headers=elsewhere)
        missing = await health.client.get(missing_path, headers=elsewhere)
        assert hidden.status_code == missing.status_code == 404, hidden_path
        assert hidden.json() == missing.json()
