"""POST /integration/v1/hospital-notifications on real PostgreSQL and Tansu: receipts, effects,
events, the unmatched queue, idempotency, access and audit."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from contracts.referrals import CitizenRegisteredV1
from contracts.topics import HEALTH
from services.health.models import HospitalNotice, TimelineEntry, UnmatchedHospitalNotice
from tests.support import eventually, json_body, publish_event, read_topic, run_service
from tovholder.db import AuditEntry, OutboxMessage

from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


def notice(cpr: str, code: str = "STIN", *, occurred_at: datetime | None = None, replaces: str | None = None,
           episode: str = "EPJ-778812", **overrides) -> dict:
    occurred_at = occurred_at or datetime.now(CET) - timedelta(minutes=20)
    body = {
        "message_id": str(uuid.uuid4()),
        "sent_at": (occurred_at + timedelta(minutes=2)).isoformat(),
        "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"},
        "code": code,
        "cpr": cpr,
        "hospital_episode_id": episode,
        "department": "Afsnit P2",
        "occurred_at": occurred_at.isoformat(),
        "replaces_message_id": replaces,
    }
    body.update(overrides)
    return body


def partner(health):
    return health.auth("partner", "partner-pck", org=PARTNER_ORG)


async def post(health, body) -> tuple[int, dict, dict]:
    r = await health.client.post("/integration/v1/hospital-notifications", json=body, headers=partner(health))
    return r.status_code, r.json(), dict(r.headers)


async def health_events(kafka, citizen_id, *, event_type: str, count: int = 1) -> list[dict]:
    key = str(citizen_id).encode()

    async def ours():
        found = [r for r in await read_topic(kafka, HEALTH.name, min_count=1, timeout=2)
                 if r["key"] == key and r["headers"]["ce_type"] == event_type]
        return found if len(found) >= count else None

    return await eventually(ours, timeout=20, message=f"{count} {event_type}")


async def rows(health, model, *where):
    async with health.ctx.sessions() as s:
        return list((await s.execute(select(model).where(*where))).scalars())


async def test_admission_is_registered_with_event_timeline_and_audit(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    body = notice(cpr, "STIN")
    status, receipt, _ = await post(health, body)
    assert status == 202, receipt
    assert receipt["status"] == "ok" and receipt["message_id"] == body["message_id"] and receipt["reason"] is None
    assert receipt["received_at"].endswith("Z")

    (stored,) = await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)
    assert (stored.code, stored.kind, stored.status, stored.legal_basis) == ("STIN", "admission", "active",
                                                                             "retssikkerhedsloven § 12 c")
    (event,) = await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-registered.v1")
    payload = json_body(event)
    assert payload["notice_id"] == str(stored.id) and payload["kind"] == "admission" and payload["code"] == "STIN"
    assert payload["tovholder_sub"] == "nurse-a" and payload["botilbud_id"] == "orion"
    assert payload["legal_basis"] == "retssikkerhedsloven § 12 c"
    assert cpr not in event["value"].decode()
    timeline = await rows(health, TimelineEntry, TimelineEntry.citizen_id == citizen_id, TimelineEntry.kind == "hospital-notice")
    assert timeline and timeline[0].org == PARTNER_ORG
    audit = await rows(health, AuditEntry, AuditEntry.citizen_id == citizen_id, AuditEntry.action == "hospital_notice.new")
    assert audit and audit[0].actor_role == "partner" and audit[0].detail["legal_basis"] == "retssikkerhedsloven § 12 c"

    nurse = health.auth("nurse-consultant", "nurse-a", botilbud="orion")
    record = (await health.client.get(f"/api/v1/citizens/{citizen_id}/health-record", headers=nurse)).json()
    assert record["admission"]["state"] == "admitted" and record["admission"]["open_episodes"] == ["EPJ-778812"]


async def test_the_same_notice_twice_has_one_effect_and_the_same_receipt(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    body = notice(cpr, "STAA")
    first = await post(health, body)
    second = await post(health, body)
    assert first[0] == second[0] == 202 and first[1] == second[1]
    assert len(await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)) == 1
    async with health.ctx.sessions() as s:
        outbox = await s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.subject == str(citizen_id), OutboxMessage.event_type.like("%hospital-notice%")))
    assert outbox == 1


async def test_same_message_id_with_another_body_is_a_conflict(health, kafka, vault):
    _, cpr = await known_citizen(health, kafka, vault)
    body = notice(cpr, "STIN")
    assert (await post(health, body))[0] == 202
    status, receipt, _ = await post(health, {**body, "department": "Afsnit P7"})
    assert status == 409 and receipt["status"] == "fatal-error" and "message_id" in receipt["reason"]


async def test_cancellation_withdraws_and_keeps_history(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    admission = notice(cpr, "STIN")
    assert (await post(health, admission))[0] == 202
    status, receipt, _ = await post(health, notice(cpr, "AN_STIN", replaces=admission["message_id"]))
    assert status == 202, receipt
    stored = {r.action: r for r in await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)}
    assert stored["new"].status == "cancelled" and stored["cancel"].replaces_notice_id == stored["new"].id
    (event,) = await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-cancelled.v1")
    assert json_body(event)["cancels_notice_id"] == str(stored["new"].id)


async def test_correction_updates(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    admission = notice(cpr, "STAA")
    assert (await post(health, admission))[0] == 202
    fix = notice(cpr, "RE_STAA", replaces=admission["message_id"], department="Afsnit P5")
    status, receipt, _ = await post(health, fix)
    assert status == 202, receipt
    (event,) = await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-corrected.v1")
    payload = json_body(event)
    assert payload["department"] == "Afsnit P5" and payload["code"] == "STAA" and payload["kind"] == "admission"
    original = (await rows(health, HospitalNotice, HospitalNotice.message_id == uuid.UUID(admission["message_id"])))[0]
    assert payload["corrects_notice_id"] == str(original.id) and original.status == "superseded"


@pytest.mark.parametrize(
    "change,status,reason",
    [
        ({"code": "XXXX"}, 422, "unknown code"),
        ({"code": "RE_STIN"}, 422, "needs replaces_message_id"),
        ({"replaces_message_id": str(uuid.uuid4())}, 422, "must be null"),
        ({"code": "RE_STIN", "replaces_message_id": str(uuid.uuid4())}, 409, "not a notice Tovholder has received"),
        ({"cpr": "3213901234"}, 422, "valid date"),
        ({"cpr": "12345"}, 422, "10 digits"),
        ({"sent_at": "2020-01-01T00:00:00+01:00"}, 422, "wrong order"),
        ({"occurred_at": "2026-11-22T09:41:00"}, 422, "time zone"),
        ({"sender": {"org": "SOR:9999999", "name": "x"}}, 422, "not the organisation"),
        ({"message_id": "not-a-uuid"}, 422, "message_id"),
        ({"department": ""}, 422, "department"),
    ],
)
async def test_bad_input_gets_a_fatal_receipt_and_changes_nothing(health, kafka, vault, change, status, reason):
    citizen_id, cpr = await known_citizen(health, kafka, vault, tovholder=None)
    body = {**notice(cpr), **change}
    got, receipt, _ = await post(health, body)
    assert got == status, receipt
    assert receipt["status"] == "fatal-error" and reason in receipt["reason"]
    assert "3213901234" not in json.dumps(receipt) and cpr not in json.dumps(receipt)
    assert await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id) == []


async def test_dates_contradicting_earlier_notices_are_a_conflict(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    admitted_at = datetime.now(CET) - timedelta(hours=2)
    assert (await post(health, notice(cpr, "STIN", occurred_at=admitted_at)))[0] == 202
    status, receipt, _ = await post(health, notice(cpr, "SLHJ", occurred_at=admitted_at - timedelta(hours=3)))
    assert status == 409 and "wrong order" in receipt["reason"]
    assert len(await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)) == 1


async def test_only_partners_send_notices(health, kafka, vault):
    _, cpr = await known_citizen(health, kafka, vault, tovholder=None)
    r = await health.client.post("/integration/v1/hospital-notifications", json=notice(cpr),
                                 headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 403
    r = await health.client.post("/integration/v1/hospital-notifications", json=notice(cpr))
    assert r.status_code == 401


async def test_unmatched_cpr_is_parked_encrypted_then_matched_when_the_citizen_becomes_known(health, kafka, vault):
    cpr = new_cpr()
    admission = notice(cpr, "STAA")
    status, receipt, _ = await post(health, admission)
    assert status == 202 and receipt["status"] == "ok"
    (parked,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.message_id == uuid.UUID(admission["message_id"]))
    assert parked.status == "open" and parked.legal_basis == "retssikkerhedsloven § 12 c"
    assert cpr not in parked.cpr_encrypted and vault.decrypt(parked.cpr_encrypted) == cpr

    # Visitation's work queue learns of it through an event about the parked notice (no citizen, no CPR).
    parked_events = await read_topic(kafka, HEALTH.name, until=lambda r: r["headers"].get("ce_subject") == str(parked.id))
    (parked_event,) = [r for r in parked_events if r["headers"].get("ce_subject") == str(parked.id)]
    assert parked_event["headers"]["ce_type"] == "tovholder.health.hospital-notice-parked.v1"
    assert parked_event["key"] == str(parked.id).encode() and cpr.encode() not in parked_event["value"]
    assert json.loads(parked_event["value"])["code"] == "STAA"

    # A correction of a parked notice waits with it.
    fix = notice(cpr, "RE_STAA", replaces=admission["message_id"], department="Akutmodtagelsen")
    assert (await post(health, fix))[0] == 202

    # Visitation sees the queue with the CPR masked; other roles do not.
    queue = await health.client.get("/api/v1/unmatched-hospital-notices", headers=health.auth("visitation", "visitation-1"))
    assert queue.status_code == 200
    mine = [n for n in queue.json()["notices"] if n["message_id"] == admission["message_id"]]
    assert mine and mine[0]["cpr"] == f"{cpr[:6]}-XXXX"
    denied = await health.client.get("/api/v1/unmatched-hospital-notices",
                                     headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert denied.status_code == 403

    # No CPR anywhere else in the database: not in the outbox, not in the audit log.
    async with health.ctx.sessions() as s:
        for table in ("outbox", "audit_log", "hospital_notice", "timeline_entry"):
            dump = (await s.execute(text(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} t"))).scalar_one()
            assert cpr not in dump, table

    # The municipality registers the citizen: the parked notices move onto them, in order.
    citizen_id = uuid.uuid4()
    await publish_event(kafka, CitizenRegisteredV1(citizen_id=citizen_id, cpr_hash=vault.hash(cpr), citizen_name="Ny Borger"))

    async def matched():
        got = await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)
        return got if len(got) == 2 else None

    moved = {r.action: r for r in await eventually(matched, message="parked notices matched")}
    assert moved["new"].status == "superseded" and moved["correct"].department == "Akutmodtagelsen"
    resolved = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.cpr_hash == vault.hash(cpr))
    assert {r.status for r in resolved} == {"matched"} and all(r.cpr_encrypted == "" for r in resolved)
    unparked = await read_topic(kafka, HEALTH.name, until=lambda r: r["headers"].get("ce_subject") == str(parked.id)
                                and r["headers"]["ce_type"] == "tovholder.health.hospital-notice-unparked.v1")
    assert any(json.loads(r["value"]).get("resolution") == "matched" for r in unparked
               if r["headers"].get("ce_subject") == str(parked.id))
    await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-registered.v1")
    await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-corrected.v1")


async def test_visitation_matches_or_dismisses_by_hand(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, with_record=False)
    typo_cpr = new_cpr()
    body = notice(typo_cpr, "STIN")
    assert (await post(health, body))[0] == 202
    (parked,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.message_id == uuid.UUID(body["message_id"]))
    visit = health.auth("visitation", "visitation-1")
    one = await health.client.get(f"/api/v1/unmatched-hospital-notices/{parked.id}", headers=visit)
    assert one.json()["cpr"] == typo_cpr
    # The CPR on the notice is not the citizen's: matching needs an explicit, audited override.
    url = f"/api/v1/unmatched-hospital-notices/{parked.id}/match"
    r = await health.client.post(url, json={"citizen_id": str(citizen_id)}, headers=visit)
    assert r.status_code == 409 and r.json()["code"] == "cpr-differs", r.text
    assert "CPR-nummeret på advisen er ikke borgerens" in r.json()["detail"]
    r = await health.client.post(url, json={"citizen_id": str(citizen_id), "override_reason": "kort"}, headers=visit)
    assert r.status_code == 409
    (still,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.id == parked.id)
    assert still.status == "open"
    reason = "Afdelingen bekræfter i telefonen, at CPR er tastet forkert"
    r = await health.client.post(url, json={"citizen_id": str(citizen_id), "override_reason": reason}, headers=visit)
    assert r.status_code == 200 and r.json()["matched"] == 1
    audits = await rows(health, AuditEntry, AuditEntry.object_id == str(parked.id))
    actions = {a.action: a for a in audits}
    assert "unmatched_hospital_notice.match_refused" in actions
    assert actions["unmatched_hospital_notice.match_override"].detail["reason"] == reason
    (event,) = await health_events(kafka, citizen_id, event_type="tovholder.health.hospital-notice-registered.v1")
    assert json_body(event)["botilbud_id"] is None and json_body(event)["tovholder_sub"] is None

    other = notice(new_cpr(), "STIN")
    assert (await post(health, other))[0] == 202
    (parked,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.message_id == uuid.UUID(other["message_id"]))
    r = await health.client.post(f"/api/v1/unmatched-hospital-notices/{parked.id}/dismiss", json={"reason": "not ours"},
                                 headers=visit)
    assert r.status_code == 200
    (parked,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.id == parked.id)
    assert parked.status == "dismissed" and parked.cpr_encrypted == ""


async def test_death_closes_the_record_and_cancels_the_planned_health_check(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    nurse = health.auth("nurse-consultant", "nurse-a", botilbud="orion")
    starts_at = (datetime.now(CET) + timedelta(days=40)).replace(hour=10, minute=0, second=0, microsecond=0)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                 headers=nurse)
    assert r.status_code == 201, r.text
    assert (await post(health, notice(cpr, "MORS")))[0] == 202
    (cancelled,) = await health_events(kafka, citizen_id, event_type="tovholder.health.health-check-cancelled.v1")
    assert json_body(cancelled)["reason"] == "deceased"
    record = (await health.client.get(f"/api/v1/citizens/{citizen_id}/health-record", headers=nurse)).json()
    assert record["admission"]["state"] == "deceased" and record["deceased_at"]


async def test_database_down_is_a_transient_error_with_retry_after(pg, kafka, tmp_path):
    dead = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    async with run_service("health", pg=pg, kafka=kafka, state_dir=tmp_path, database_url=dead, wait=False,
                           database_connect_timeout_s=0.5) as down:
        r = await down.client.post("/integration/v1/hospital-notifications", json=notice(new_cpr()),
                                   headers=down.auth("partner", "p", org=PARTNER_ORG))
    assert r.status_code == 503 and r.headers["retry-after"] and r.json()["status"] == "transient-error"


async def test_the_endpoints_are_documented(health):
    spec = (await health.client.get("/openapi.json")).json()
    body = spec["paths"]["/integration/v1/hospital-notifications"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"message_id", "code", "cpr", "replaces_message_id"} <= set(body["properties"])
    assert "$ref" not in json.dumps(body)
    for path in ("/integration/v1/pharmacist-reviews", "/integration/v1/lab-results", "/integration/v1/psychiatrist-notes",
                 "/integration/v1/medication-changes", "/api/v1/unmatched-hospital-notices"):
        assert path in spec["paths"]
    asyncapi = (await health.client.get("/asyncapi")).json()
    assert "tovholder.health.hospital-notice-registered.v1" in json.dumps(asyncapi)


async def test_a_correction_cannot_move_a_notice_to_another_person(health, kafka, vault):
    _, cpr_a = await known_citizen(health, kafka, vault)
    _, cpr_b = await known_citizen(health, kafka, vault)
    admission = notice(cpr_a, "STIN")
    assert (await post(health, admission))[0] == 202
    status, receipt, _ = await post(health, notice(cpr_b, "RE_STIN", replaces=admission["message_id"]))
    assert status == 409 and "another person" in receipt["reason"]
    parked = notice(new_cpr(), "STIN")
    assert (await post(health, parked))[0] == 202
    status, receipt, _ = await post(health, notice(new_cpr(), "AN_STIN", replaces=parked["message_id"]))
    assert status == 409 and "another person" in receipt["reason"]


async def test_a_notice_contradicting_the_senders_earlier_ones_gets_the_same_409_for_a_known_and_an_unknown_cpr(
        health, kafka, vault):
    _, known_cpr = await known_citizen(health, kafka, vault)
    answers, admitted = [], datetime.now(CET).replace(microsecond=0) - timedelta(minutes=20)
    for cpr in (known_cpr, new_cpr()):  # the second is parked: no citizen has it
        first = notice(cpr, "STIN", episode="EPJ-X", occurred_at=admitted)
        second = notice(cpr, "STAA", episode="EPJ-X", occurred_at=admitted + timedelta(minutes=15))
        assert (await post(health, first))[0] == 202
        status, receipt, _ = await post(health, second)
        answers.append((status, receipt["status"], receipt["reason"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 409 and "already has an admission" in answers[0][2]


async def test_a_parked_notice_that_contradicts_history_is_rejected_at_matching_with_a_reason(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    assert (await post(health, notice(cpr, "STIN", episode="EPJ-X")))[0] == 202
    # The same admission arrives under a mistyped CPR (parked), and visitation attaches it to the citizen.
    typo = notice(new_cpr(), "STAA", episode="EPJ-X", occurred_at=datetime.now(CET) - timedelta(minutes=5))
    assert (await post(health, typo))[0] == 202
    (parked,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.message_id == uuid.UUID(typo["message_id"]))
    visit = health.auth("visitation", "visitation-1")
    r = await health.client.post(f"/api/v1/unmatched-hospital-notices/{parked.id}/match",
                                 json={"citizen_id": str(citizen_id), "override_reason": "CPR tastet forkert af afdelingen"},
                                 headers=visit)
    assert r.status_code == 200 and r.json() == {"matched": 0, "rejected": 1, "citizen_id": str(citizen_id)}
    (rejected,) = await rows(health, UnmatchedHospitalNotice, UnmatchedHospitalNotice.id == parked.id)
    assert rejected.status == "rejected" and "already has an admission" in rejected.resolution
    queue = await health.client.get("/api/v1/unmatched-hospital-notices?status=rejected", headers=visit)
    assert typo["message_id"] in [n["message_id"] for n in queue.json()["notices"]]


async def test_concurrent_notices_for_one_citizen_and_concurrent_resends(health, kafka, vault):
    import asyncio

    citizen_id, cpr = await known_citizen(health, kafka, vault)
    bodies = [notice(cpr, "STIN", episode=f"EPJ-C{i}") for i in range(8)]
    results = await asyncio.gather(*(post(health, b) for b in bodies))
    assert [r[0] for r in results] == [202] * 8
    same = notice(cpr, "STAA", episode="EPJ-SAME")
    results = await asyncio.gather(*(post(health, same) for _ in range(5)))
    assert {r[0] for r in results} == {202} and len({r[1]["received_at"] for r in results}) == 1
    stored = await rows(health, HospitalNotice, HospitalNotice.citizen_id == citizen_id)
    assert len(stored) == 9


# --- issue 12: who is admitted now, for the portal's nurse consultant --------------------------------


async def test_the_botilbuds_nurse_consultants_see_who_is_admitted_now(health, kafka, vault):
    admitted_id, admitted_cpr = await known_citizen(health, kafka, vault, botilbud="cirklen", tovholder="nurse-c")
    discharged_id, discharged_cpr = await known_citizen(health, kafka, vault, botilbud="cirklen", tovholder="nurse-c")
    assert (await post(health, notice(admitted_cpr, "STAA", episode="EPJ-NOW", department="Afsnit P7")))[0] == 202
    assert (await post(health, notice(discharged_cpr, "STIN", episode="EPJ-GONE")))[0] == 202
    assert (await post(health, notice(discharged_cpr, "SLHJ", episode="EPJ-GONE",
                                      occurred_at=datetime.now(CET) - timedelta(minutes=5))))[0] == 202

    nurse = health.auth("nurse-consultant", "nurse-other", botilbud="cirklen")
    r = await health.client.get("/api/v1/botilbud/cirklen/admitted-now", headers=nurse)
    assert r.status_code == 200, r.text
    rows = {row["citizen_id"]: row for row in r.json()["admitted"]}
    assert str(discharged_id) not in rows
    assert rows[str(admitted_id)]["state"] == "admitted" and rows[str(admitted_id)]["departments"] == ["Afsnit P7"]
    assert rows[str(admitted_id)]["open_episodes"] == ["EPJ-NOW"] and rows[str(admitted_id)]["tovholder_sub"] == "nurse-c"
    async with health.ctx.sessions() as s:
        seen = (await s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor_sub == "nurse-other", AuditEntry.citizen_id == admitted_id))).scalar_one()
    assert seen == 1  # each citizen shown is in their own access log

    for role, botilbud in (("nurse-consultant", "orion"), ("coordinator", "cirklen"), ("admin", None)):
        r = await health.client.get("/api/v1/botilbud/cirklen/admitted-now", headers=health.auth(role, "x", botilbud=botilbud))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, r.text)
