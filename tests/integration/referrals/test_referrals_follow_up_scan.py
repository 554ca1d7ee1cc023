"""The follow-up scan (services.referrals.services.signal_due_follow_ups, run hourly by jobs.py) on
its own database: it reports how many follow-ups it signalled, not how many rows it looked at."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import update

from contracts.topics import REFERRALS
from services.referrals.services import today
from services.referrals.models import Referral
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tests.support import json_body, read_topic, run_service

pytestmark = pytest.mark.integration

V = dict(role="visitation", sub="visitation-1")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def referrals(pg, kafka, tmp_path_factory):
    async with run_service("referrals", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("scan")) as svc:
        yield svc


async def granted(svc, cpr: str) -> str:
    r = await svc.client.post("/integration/v1/referrals", json=partner_message(cpr=cpr),
                              headers=svc.auth("partner", "pck", org="SOR:1234567"))
    rid = r.json()["referral_id"]
    assert (await svc.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT,
                                 headers=svc.auth(**V))).status_code == 200
    r = await svc.client.post(f"/api/v1/referrals/{rid}/decision", headers=svc.auth(**V), json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": "scan-hus", "reason": "Døgnstøtte."})
    assert r.status_code == 200, r.text
    return rid


async def test_the_scan_counts_what_it_signalled(referrals, kafka):
    r = await referrals.client.put("/api/v1/offers/scan-hus", headers=referrals.auth("admin"),
                                   json=offer_body("scan-hus", approved_places=10))
    assert r.status_code == 200, r.text
    due = today() + timedelta(days=3)
    placed = await granted(referrals, "0106804321")
    r = await referrals.client.post(f"/api/v1/referrals/{placed}/move-in", headers=referrals.auth(**V),
                                    json={"follow_up_date": due.isoformat()})
    assert r.status_code == 200, r.text
    # A row marked placed without a move-in (e.g. carried over from an older system): no placement the
    # domain can follow up, so the scan skips it — and must neither count it nor let it fill its batches.
    without_move_in = await granted(referrals, "0206804321")
    async with referrals.ctx.sessions() as s:
        await s.execute(update(Referral).where(Referral.id == uuid.UUID(without_move_in))
                        .values(status="placed", follow_up_date=due))
        await s.commit()

    first = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth("admin"))
    assert first.status_code == 200 and first.json() == {"signalled": 1, "drifting": 0}
    again = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth("admin"))
    assert again.json() == {"signalled": 0, "drifting": 0}

    records = await read_topic(kafka, REFERRALS.name, until=lambda rec: rec["headers"]["ce_type"].endswith(
        "follow-up-due.v1") and json_body(rec)["referral_id"] == placed)
    signalled = {json_body(r)["referral_id"] for r in records if r["headers"]["ce_type"].endswith("follow-up-due.v1")}
    assert placed in signalled and without_move_in not in signalled


def test_the_background_job_does_not_import_the_routes():
    probe = "import sys, services.referrals.jobs; print('services.referrals.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
