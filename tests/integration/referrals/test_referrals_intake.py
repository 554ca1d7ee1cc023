"""Partner intake exactly as the spec: receipts, idempotency by message_id, the sender's status view."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from contracts.topics import REFERRALS
from services.referrals.models import Citizen, Referral
from tests.integration.referrals.conftest import partner_message
from tests.support import json_body, read_topic
from tovholder.db import AuditEntry, OutboxMessage

pytestmark = pytest.mark.integration

PARTNER = dict(role="partner", sub="pck-system", org="SOR:1234567")


async def count(svc, model, *where) -> int:
    async with svc.ctx.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_referral_gets_a_receipt_and_is_idempotent(referrals):
    msg = partner_message(cpr="1203854321")
    r = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**PARTNER))
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert receipt["status"] == "ok" and receipt["message_id"] == msg["message_id"] and receipt["reason"] is None
    referral_id = uuid.UUID(receipt["referral_id"])
    again = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**PARTNER))
    assert again.status_code == 202 and again.json() == receipt
    assert await count(referrals, Referral, Referral.id == referral_id) == 1
    assert await count(referrals, Referral, Referral.reason == msg["reason"], Referral.referrer_org == "SOR:1234567") >= 1

    changed = dict(msg, reason="En anden tekst")
    conflict = await referrals.client.post("/integration/v1/referrals", json=changed, headers=referrals.auth(**PARTNER))
    assert conflict.status_code == 409 and conflict.json()["status"] == "fatal-error"
    assert "message_id" in conflict.json()["reason"]

    status = await referrals.client.get(f"/integration/v1/referrals/{referral_id}", headers=referrals.auth(**PARTNER))
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "received" and body["history"][0]["status"] == "received"
    assert "internal_note" not in json.dumps(body)


async def test_partner_cannot_read_another_orgs_referral(referrals):
    msg = partner_message(cpr="1303854321")
    r = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**PARTNER))
    referral_id = r.json()["referral_id"]
    other = await referrals.client.get(f"/integration/v1/referrals/{referral_id}",
                                       headers=referrals.auth("partner", sub="auh", org="SOR:2345678"))
    assert other.status_code == 404
    assert "your organisation" in other.json()["detail"]
    unknown = await referrals.client.get(f"/integration/v1/referrals/{uuid.uuid4()}", headers=referrals.auth(**PARTNER))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "cpr,reason",
    [("12345", "10 digits"), ("3102904321", "birth date"), ("0101304000", "future")],
)
async def test_invalid_cpr_gets_a_fatal_receipt_and_stores_nothing(referrals, cpr, reason):
    before = await count(referrals, Citizen)
    before_ref = await count(referrals, Referral)
    msg = partner_message(cpr=cpr)
    r = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**PARTNER))
    assert r.status_code == 422, r.text
    assert r.json()["status"] == "fatal-error" and reason in r.json()["reason"]
    assert cpr not in r.text
    assert (await count(referrals, Citizen), await count(referrals, Referral)) == (before, before_ref)


@pytest.mark.parametrize(
    "change,reason",
    [({"requested_step": 8}, "requested_step"), ({"requested_offer": "SEL §110"}, "requested_offer"),
     ({"sender": {"org": "SOR:999", "name": "X"}}, "is not the organisation your token was issued to"), ({"reason": ""}, "reason")],
)
async def test_bad_partner_messages(referrals, change, reason):
    msg = partner_message(cpr="1403854321", **change)
    r = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**PARTNER))
    assert r.status_code == 422 and r.json()["status"] == "fatal-error", r.text
    assert reason in r.json()["reason"]


async def test_only_partners_post_referrals(referrals):
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(),
                                    headers=referrals.auth("citizen", sub=str(uuid.uuid4())))
    assert r.status_code == 403


async def test_same_citizen_twice_is_one_citizen_one_case_and_events_carry_no_cpr(referrals, kafka):
    cpr = "1503854321"
    ids = []
    for _ in range(2):
        r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr=cpr),
                                        headers=referrals.auth(**PARTNER))
        ids.append(r.json()["referral_id"])
    async with referrals.ctx.sessions() as s:
        citizens = {row for row in (await s.execute(select(Referral.citizen_id).where(
            Referral.id.in_([uuid.UUID(i) for i in ids])))).scalars()}
        assert len(citizens) == 1
        bodies = (await s.execute(select(OutboxMessage.body))).scalars().all()
        assert all(cpr not in b and "1503854321" not in b for b in bodies)
        audits = (await s.execute(select(AuditEntry.action).where(
            AuditEntry.action.in_(["referral.create", "referral.add"]), AuditEntry.citizen_id == next(iter(citizens))))).scalars()
        assert sorted(audits) == ["referral.add", "referral.create"]
    # one case per citizen: the second referral joined the open case, and its receipt names it
    assert ids[0] == ids[1]
    records = await read_topic(kafka, REFERRALS.name,
                               until=lambda rec: json_body(rec).get("referral_id") == ids[1])
    received = [json_body(r) for r in records if r["headers"].get("ce_type") == "tovholder.referrals.referral-received.v1"]
    assert any(b["referral_id"] == ids[1] and b["channel"] == "partner" for b in received)
    assert all(cpr not in r["value"].decode() for r in records)


async def test_concurrent_referrals_for_one_new_citizen_are_one_citizen_and_one_case(referrals):
    """Two partners refer the same person, not known here yet, at the same moment: both get an ok receipt
    (neither a 500 from the second registration's unique violation), one citizen, one case."""
    import asyncio

    cpr = "2203854321"
    answers = await asyncio.gather(*(
        referrals.client.post("/integration/v1/referrals", json=partner_message(cpr=cpr),
                              headers=referrals.auth(**PARTNER)) for _ in range(6)))
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert len({a.json()["referral_id"] for a in answers}) == 1
    assert await count(referrals, Citizen, Citizen.cpr_hash == referrals.ctx.cpr_vault().hash(cpr)) == 1

