"""End to end on real PostgreSQL + Tansu, with the real consumer: a partner referral through
visitation to placement, follow-up and step-down, and the work-queue tasks the notifications service
makes from the referrals events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import update

from services.referrals.services import today
from services.referrals.models import Referral
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tests.support import eventually, run_service

pytestmark = pytest.mark.integration

V = dict(role="visitation", sub="visitation-1")
PARTNER = dict(role="partner", sub="pck", org="SOR:1234567")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def notifications(pg, kafka, tmp_path_factory):
    async with run_service("notifications", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("n-state")) as svc:
        yield svc


async def tasks(svc, kind, citizen_id, **auth):
    r = await svc.client.get(f"/api/v1/work-queue?kind={kind}&citizen_id={citizen_id}", headers=svc.auth(**auth))
    assert r.status_code == 200, r.text
    return r.json()


async def test_partner_referral_to_placement_and_step_down_drives_the_work_queue(referrals, notifications):
    ref = referrals
    home = "samspil-hus"
    coordinator = dict(role="coordinator", sub="samspil-koordinator-1", botilbud=home)
    await ref.client.put(f"/api/v1/offers/{home}", headers=ref.auth("admin"), json=offer_body(home, approved_places=4))
    await ref.client.put("/api/v1/offers/bostotte-syd", headers=ref.auth("admin"), json=offer_body(
        "bostotte-syd", botilbud_id=None, legal_basis="SEL §85", step=3, approved_places=30, target_group={}))

    receipt = await ref.client.post("/integration/v1/referrals", json=partner_message(cpr="1012854321"),
                                    headers=ref.auth(**PARTNER))
    rid = receipt.json()["referral_id"]
    base = f"/api/v1/referrals/{rid}"
    assert (await ref.client.post(f"{base}/screening", headers=ref.auth(**V))).status_code == 200
    assert (await ref.client.put(f"{base}/assessment", json=ASSESSMENT, headers=ref.auth(**V))).status_code == 200
    r = await ref.client.post(f"{base}/decision", headers=ref.auth(**V), json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": home, "reason": "Behov for døgnstøtte.",
        "start_date": (today() + timedelta(days=7)).isoformat()})
    assert r.status_code == 200, r.text
    citizen_id = (await ref.client.get(base, headers=ref.auth(**V))).json()["citizen_id"]

    meeting = await eventually(lambda: tasks(notifications, "first-network-meeting", citizen_id, **coordinator),
                               message="first network meeting task for the botilbud's coordinators")
    assert len(meeting) == 1

    assert (await ref.client.post(f"{base}/move-in", json={}, headers=ref.auth(**V))).status_code == 200

    # The follow-up falls due: the scan emits FollowUpDue; visitation gets a task ...
    async with ref.ctx.sessions() as s:
        await s.execute(update(Referral).where(Referral.id == uuid.UUID(rid)).values(follow_up_date=today() + timedelta(days=2)))
        await s.commit()
    assert (await ref.client.post("/api/v1/follow-ups/scan", headers=ref.auth(**V))).json()["signalled"] >= 1
    follow_up = await eventually(lambda: tasks(notifications, "visitation-follow-up", citizen_id, **V),
                                 message="visitation follow-up task")
    assert len(follow_up) == 1
    # ... which is completed when the follow-up is recorded.
    r = await ref.client.post(f"{base}/follow-ups", headers=ref.auth(**V), json={
        "next_follow_up_date": (today() + timedelta(days=100)).isoformat()})
    assert r.status_code == 200

    async def follow_up_closed():
        return not await tasks(notifications, "visitation-follow-up", citizen_id, **V)

    await eventually(follow_up_closed, message="visitation follow-up task completed")

    # Move-out to a lighter offer: the home gets a move-out task; the step-down closes the case.
    r = await ref.client.put(f"{base}/move-out-plan", headers=ref.auth(**V), json={
        "destination": "offer", "receiving_offer_id": "bostotte-syd",
        "planned_on": (today() + timedelta(days=20)).isoformat()})
    assert r.status_code == 200, r.text
    move_out = await eventually(lambda: tasks(notifications, "move-out", citizen_id, **coordinator),
                                message="move-out task for the home")
    assert "4 udslusningsbesøg" in str(move_out[0])
    r = await ref.client.post(f"{base}/end", headers=ref.auth(**V), json={})
    assert r.status_code == 200 and r.json()["end_cause"] == "stepped_down"

    partner_view = (await ref.client.get(f"/integration/v1/referrals/{rid}", headers=ref.auth(**PARTNER))).json()
    assert [h["status"] for h in partner_view["history"]][-1] == "ended"
