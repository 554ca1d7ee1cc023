"""The receipt flow of every partner endpoint (``tovholder.receipts``), on the two services whose
partner endpoints the contract names: receipts belong to the sender organisation, and whatever
the body holds the answer is a receipt — never a 500 and never another kind of body."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text

from services.health.models import HospitalNotice, UnmatchedHospitalNotice
from services.referrals.models import Referral
from tests.support import run_service
from tovholder.db import InboundMessage

pytestmark = pytest.mark.integration

ORG_A, ORG_B = "SOR:1234567", "SOR:2345678"
CET = timezone(timedelta(hours=1))
RECEIPT_KEYS = {"message_id", "status", "reason", "received_at"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def referrals(pg, kafka, tmp_path_factory):
    async with run_service("referrals", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("referrals")) as svc:
        yield svc


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def health(pg, kafka, tmp_path_factory):
    async with run_service("health", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("health")) as svc:
        yield svc


def partner(svc, org: str) -> dict[str, str]:
    return svc.auth("partner", f"system-{org}", org=org)


def referral(org: str = ORG_A, **changes) -> dict:
    body = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(CET).isoformat(),
            "sender": {"org": org, "name": "Psykiatrisk Center København"}, "cpr": "0101904444",
            "citizen_name": "Test Borger", "reason": "Udskrives snart", "requested_step": 7,
            "requested_offer": "SEL §108"}
    body.update(changes)
    return body


def hospital_notice(org: str = ORG_A, cpr: str = "0101905555", **changes) -> dict:
    occurred = datetime.now(CET) - timedelta(minutes=30)
    body = {"message_id": str(uuid.uuid4()), "sent_at": (occurred + timedelta(minutes=1)).isoformat(),
            "sender": {"org": org, "name": "Hospital"}, "code": "STIN", "cpr": cpr,
            "hospital_episode_id": "EPJ-1", "department": "Afsnit P2", "occurred_at": occurred.isoformat(),
            "replaces_message_id": None}
    body.update(changes)
    return body


async def stored_receipts(svc, message_id: str) -> int:
    async with svc.ctx.sessions() as s:
        return await s.scalar(select(func.count()).select_from(InboundMessage)
                              .where(InboundMessage.message_id == uuid.UUID(message_id))) or 0


# ----------------------------------------------------------------------------- receipts per sender


async def test_another_organisation_resending_a_message_gets_no_receipt_or_id_of_it(referrals):
    original = referral(ORG_A)
    first = await referrals.client.post("/integration/v1/referrals", json=original, headers=partner(referrals, ORG_A))
    assert first.status_code == 202, first.text
    referral_id = first.json()["referral_id"]

    # Org B replays org A's body word for word: refused on the sender, before any receipt is looked up.
    replay = await referrals.client.post("/integration/v1/referrals", json=original, headers=partner(referrals, ORG_B))
    assert replay.status_code == 422, replay.text
    assert replay.json()["status"] == "fatal-error" and "referral_id" not in replay.json()
    assert referral_id not in replay.text
    assert "not the organisation your token was issued to" in replay.json()["reason"]

    # The same message_id is org B's own to use: a new message (about another citizen: a referral for the
    # same citizen would join that citizen's open case) with its own referral.
    own = await referrals.client.post("/integration/v1/referrals",
                                      json=referral(ORG_B, message_id=original["message_id"], cpr="0202905555"),
                                      headers=partner(referrals, ORG_B))
    assert own.status_code == 202, own.text
    assert own.json()["referral_id"] != referral_id
    assert await stored_receipts(referrals, original["message_id"]) == 2

    # Org A's resend still gets its original receipt.
    again = await referrals.client.post("/integration/v1/referrals", json=original, headers=partner(referrals, ORG_A))
    assert again.status_code == 202 and again.json() == first.json()
    async with referrals.ctx.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Referral).where(Referral.id == uuid.UUID(referral_id))) == 1


async def test_two_organisations_may_use_one_message_id_for_hospital_notices_and_neither_touches_the_others(health):
    a = hospital_notice(ORG_A, cpr="0101906666")
    assert (await health.client.post("/integration/v1/hospital-notifications", json=a,
                                     headers=partner(health, ORG_A))).status_code == 202
    b = hospital_notice(ORG_B, cpr="0101907777", message_id=a["message_id"])
    r = await health.client.post("/integration/v1/hospital-notifications", json=b, headers=partner(health, ORG_B))
    assert r.status_code == 202, r.text

    # Org B cannot cancel org A's notice by naming its message_id: org B's id names org B's own notice.
    cancel = hospital_notice(ORG_B, cpr="0101906666", code="AN_STIN", replaces_message_id=a["message_id"])
    r = await health.client.post("/integration/v1/hospital-notifications", json=cancel, headers=partner(health, ORG_B))
    assert r.status_code == 409 and r.json()["status"] == "fatal-error", r.text
    async with health.ctx.sessions() as s:
        parked = (await s.execute(select(UnmatchedHospitalNotice).where(
            UnmatchedHospitalNotice.message_id == uuid.UUID(a["message_id"])))).scalars().all()
        assert sorted(p.sender_org for p in parked) == [ORG_A, ORG_B]
        assert all(p.status == "open" for p in parked)
        assert await s.scalar(select(func.count()).select_from(HospitalNotice)
                              .where(HospitalNotice.message_id == uuid.UUID(cancel["message_id"]))) == 0


# ----------------------------------------------------------------------------- any body gets a receipt


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (case, body as text, a fragment of the reason). Each is refused with a 422 receipt and nothing stored.
def bad_bodies(make, mid: str) -> list[tuple[str, str, str]]:
    good = make(message_id=mid)
    text_field = "reason" if "reason" in good else "department"

    def with_raw(field: str, raw_json: str) -> str:
        body = json.dumps({k: v for k, v in make(message_id=mid).items() if k != field})
        return body[:-1] + f', "{field}": {raw_json}}}'

    return [
        ("nul-in-text", json.dumps({**good, text_field: "før\u0000efter"}), f"{text_field}: contains a NUL character"),
        ("nul-in-nested-text", json.dumps({**good, "sender": {"org": good["sender"]["org"], "name": "A\u0000B"}}),
         "sender.name: contains a NUL character"),
        ("control-character", json.dumps({**good, text_field: "a\u0007b"}), "control character"),
        ("deep-nesting", with_raw("extra", _deep(10_000)), "nested too deeply"),
        ("nesting-past-the-cap", with_raw("extra", _deep(40)), "nested too deeply"),
        ("integer-beyond-64-bits", with_raw("extra", str(2**70)), "extra: the number is out of range"),
        ("integer-of-5000-digits", with_raw("extra", "9" * 5000), "out of range"),
        ("not-finite", with_raw("extra", "1e400"), "too large"),
        ("not-json", '{"message_id": "' + mid + '", ', "not valid JSON"),
        ("not-utf8", b'{"message_id": "\xff"}'.decode("latin-1"), "not valid JSON"),
        ("empty", "", "empty"),
        ("array", "[]", "JSON object"),
    ]


def typed_bad_bodies() -> list[tuple[str, dict, str]]:
    return [
        ("true-is-not-a-step", referral(requested_step=True), "requested_step"),
        ("string-is-not-an-integer", referral(requested_step="7"), "requested_step"),
        ("step-beyond-int32", referral(requested_step=2**40), "requested_step"),
        ("number-is-not-text", referral(citizen_name=7), "citizen_name"),
    ]


ENDPOINTS = {
    "referrals": ("/integration/v1/referrals", referral),
    "health": ("/integration/v1/hospital-notifications", hospital_notice),
}


def assert_fatal_receipt(r, fragment: str) -> dict:
    assert r.status_code == 422, r.text
    body = r.json()
    assert RECEIPT_KEYS <= set(body) and body["status"] == "fatal-error", body
    assert fragment in body["reason"], body["reason"]
    return body


@pytest.mark.parametrize("service", ["referrals", "health"])
@pytest.mark.parametrize("case", [c for c, _, _ in bad_bodies(referral, str(uuid.uuid4()))])
async def test_any_body_is_answered_with_a_fatal_receipt(referrals, health, service, case):
    svc = {"referrals": referrals, "health": health}[service]
    path, make = ENDPOINTS[service]
    mid = str(uuid.uuid4())
    raw, fragment = next((raw, fragment) for c, raw, fragment in bad_bodies(make, mid) if c == case)
    r = await svc.client.post(path, content=raw.encode("latin-1" if case == "not-utf8" else "utf-8"),
                              headers={**partner(svc, ORG_A), "content-type": "application/json"})
    assert_fatal_receipt(r, fragment)
    if r.json()["message_id"] is not None:
        assert r.json()["message_id"] == mid
    assert await stored_receipts(svc, mid) == 0


@pytest.mark.parametrize("case", [c for c, _, _ in typed_bad_bodies()])
async def test_partner_messages_are_validated_strictly(referrals, case):
    body, fragment = next((body, fragment) for c, body, fragment in typed_bad_bodies() if c == case)
    r = await referrals.client.post("/integration/v1/referrals", json=body, headers=partner(referrals, ORG_A))
    assert_fatal_receipt(r, fragment)
    assert await stored_receipts(referrals, body["message_id"]) == 0


async def test_a_nul_in_a_hospital_notice_field_gives_a_receipt_naming_the_field(health):
    body = hospital_notice(hospital_episode_id="EPJ\u00001")
    r = await health.client.post("/integration/v1/hospital-notifications", json=body, headers=partner(health, ORG_A))
    assert_fatal_receipt(r, "hospital_episode_id: contains a NUL character")
    assert "EPJ" not in r.json()["reason"]  # the reason names the field, never the value


# ----------------------------------------------------------------------------- every service's schema


@pytest.mark.parametrize("service", ["referrals", "plans", "health", "notifications"])
async def test_every_service_keys_its_receipts_by_sender_and_message_id(pg, service):
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.support import fresh_database

    engine = create_async_engine(fresh_database(pg, service))  # all of the service's migrations, fresh
    try:
        async with engine.connect() as conn:
            key = (await conn.execute(text(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = 'inbound_message'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"
            ))).scalars().all()
    finally:
        await engine.dispose()
    assert key == ["sender_org", "message_id"]


async def test_a_fault_of_ours_is_still_a_receipt_and_stores_nothing(referrals, monkeypatch, caplog):
    """A bug in a use case (here: opening the case raises) must not answer a partner with a bare 500: the
    receipt says transient-error (nothing was stored, so the resend is safe) with a reference the
    operator finds in the ERROR log; once the fault is mended, the resend of the same message is ok."""
    import services.referrals.services as referral_services

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug in opening the case")

    message = referral(ORG_A, cpr="0303905555")
    with monkeypatch.context() as patched:
        patched.setattr(referral_services, "_open_referral", broken)
        with caplog.at_level("ERROR", logger="tovholder.receipts"):
            r = await referrals.client.post("/integration/v1/referrals", json=message, headers=partner(referrals, ORG_A))
    assert r.status_code == 503 and r.headers["retry-after"], r.text
    receipt = r.json()
    assert set(receipt) >= RECEIPT_KEYS and receipt["status"] == "transient-error"
    assert receipt["message_id"] == message["message_id"] and "nothing was stored" in receipt["reason"]
    reference = receipt["reason"].rsplit(" ", 1)[-1].rstrip(".")
    assert any(reference in rec.getMessage() and rec.exc_info for rec in caplog.records)
    assert "a bug in opening the case" not in r.text  # the partner gets no internals
    assert await stored_receipts(referrals, message["message_id"]) == 0

    again = await referrals.client.post("/integration/v1/referrals", json=message, headers=partner(referrals, ORG_A))
    assert again.status_code == 202 and again.json()["status"] == "ok", again.text
