"""A partner's receipt never reveals whether a CPR belongs to a citizen known here: documents and
medication changes about an unknown CPR are accepted like any other, parked (only the CPR's keyed
hash is kept) and recorded on the citizen once the municipality registers them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from contracts.referrals import CitizenRegisteredV1
from services.health.models import MedicationChange, PartnerDocument
from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr
from tests.support import eventually, publish_event

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


def message(endpoint: str, cpr: str, **extra) -> dict:
    now = datetime.now(CET) - timedelta(minutes=10)
    body = {"message_id": str(uuid.uuid4()), "sent_at": now.isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "Partner"}, "cpr": cpr}
    body.update({
        "lab-results": {"taken_at": now.isoformat(), "results": [{"test": "HbA1c", "value": "48", "unit": "mmol/mol"}]},
        "pharmacist-reviews": {"reviewed_at": now.isoformat(), "summary": "Two interactions to look at."},
        "psychiatrist-notes": {"written_at": now.isoformat(), "psychiatrist": "Overlæge Berg", "notes": "Stable."},
        "medication-changes": {"fmk_reference": "FMK-DM-4711", "change_kind": "dose-changed",
                               "changed_at": now.isoformat(), "note": "Raised"},
    }[endpoint])
    body.update(extra)
    return body


ENDPOINTS = ["lab-results", "pharmacist-reviews", "psychiatrist-notes", "medication-changes"]


async def post(health, body: dict, endpoint: str):
    return await health.client.post(f"/integration/v1/{endpoint}", json=body,
                                    headers=health.auth("partner", "partner-system", org=PARTNER_ORG))


def shape(r) -> tuple:
    body = r.json()
    return r.status_code, body["status"], body["reason"], sorted(body)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_known_and_unknown_cprs_get_the_same_receipt(health, kafka, vault, endpoint):
    _, with_record = await known_citizen(health, kafka, vault)
    _, without_record = await known_citizen(health, kafka, vault, with_record=False)
    unknown = new_cpr()
    answers = [shape(await post(health, message(endpoint, cpr), endpoint)) for cpr in (with_record, without_record, unknown)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:3] == (202, "ok", None)
    if endpoint != "medication-changes":
        check_id = str(uuid.uuid4())  # no health check of any of them
        answers = [shape(await post(health, message(endpoint, cpr, health_check_id=check_id), endpoint))
                   for cpr in (with_record, without_record, unknown)]
        assert answers[0] == answers[1] == answers[2] and answers[0][0] == 409


async def test_parked_messages_are_recorded_when_the_municipality_registers_the_citizen(health, kafka, vault):
    from services.health.models import UnmatchedPartnerMessage

    cpr = new_cpr()
    sent = {endpoint: message(endpoint, cpr) for endpoint in ENDPOINTS}
    for endpoint, body in sent.items():
        assert (await post(health, body, endpoint)).status_code == 202
    async with health.ctx.sessions() as s:
        parked = (await s.execute(select(UnmatchedPartnerMessage).where(
            UnmatchedPartnerMessage.cpr_hash == vault.hash(cpr)))).scalars().all()
    assert len(parked) == 4 and all(p.status == "open" for p in parked)
    assert all(cpr not in str(p.content) for p in parked)

    citizen_id = uuid.uuid4()
    await publish_event(kafka, CitizenRegisteredV1(citizen_id=citizen_id, cpr_hash=vault.hash(cpr), citizen_name="X"))

    async def recorded():
        async with health.ctx.sessions() as s:
            docs = (await s.execute(select(PartnerDocument).where(PartnerDocument.citizen_id == citizen_id))).scalars().all()
            changes = (await s.execute(select(MedicationChange).where(MedicationChange.citizen_id == citizen_id))).scalars().all()
        return (docs, changes) if len(docs) == 3 and len(changes) == 1 else None

    docs, (change,) = await eventually(recorded, message="parked partner messages recorded")
    assert {d.kind for d in docs} == {"lab-results", "pharmacist-review", "psychiatrist-notes"}
    assert {str(d.message_id) for d in docs} | {str(change.message_id)} == {b["message_id"] for b in sent.values()}
    assert change.fmk_reference == "FMK-DM-4711" and change.recorded_by == f"partner:{PARTNER_ORG}"
    async with health.ctx.sessions() as s:
        parked = (await s.execute(select(UnmatchedPartnerMessage).where(
            UnmatchedPartnerMessage.cpr_hash == vault.hash(cpr)))).scalars().all()
    assert all(p.status == "matched" and p.matched_citizen_id == citizen_id and p.content == {} for p in parked)
