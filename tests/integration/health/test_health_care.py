"""The tovholder's API on real PostgreSQL and Tansu: choice of tovholder, access and audit, the
timeline, medication (alert during an admission), partner intake, the health check cycle and
forensic psychiatry."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from contracts.topics import HEALTH
from services.health.services import detect_missed_depot_visits
from services.health.models import MissedDepotVisit
from tests.integration.health.helpers import PARTNER_ORG, join_roster, known_citizen, new_cpr
from tests.support import eventually, json_body, read_topic
from tovholder import clock
from tovholder.db import AuditEntry
from tovholder.uow import UnitOfWork

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


def nurse(health, sub="nurse-a", botilbud="orion"):
    return health.auth("nurse-consultant", sub, botilbud=botilbud)


def partner(health):
    return health.auth("partner", "partner-pck", org=PARTNER_ORG)


async def events_of(kafka, citizen_id, event_type, count=1):
    key = str(citizen_id).encode()

    async def ours():
        found = [json_body(r) for r in await read_topic(kafka, HEALTH.name, min_count=1, timeout=2)
                 if r["key"] == key and r["headers"]["ce_type"] == event_type]
        return found if len(found) >= count else None

    return await eventually(ours, timeout=20, message=f"{count} {event_type}")


async def audit_actions(health, citizen_id) -> list[str]:
    async with health.ctx.sessions() as s:
        return list((await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id)
                                     .order_by(AuditEntry.id))).scalars())


# ----------------------------------------------------------------------- tovholder and access


async def test_citizen_chooses_among_the_botilbuds_nurse_consultants(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    await join_roster(health, "orion", "nurse-b")  # the administrator keeps the roster
    citizen = health.auth("citizen", str(citizen_id))
    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": "nurse-b"}, headers=citizen)
    assert r.status_code == 200 and r.json()["changed"] is True
    (chosen,) = [e for e in await events_of(kafka, citizen_id, "tovholder.health.tovholder-chosen.v1", 2)
                 if e["nurse_consultant_sub"] == "nurse-b"]
    assert chosen["previous_nurse_consultant_sub"] == "nurse-a" and chosen["botilbud_id"] == "orion"

    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": "nurse-x"}, headers=citizen)
    assert r.status_code == 422 and "ikke sygeplejekonsulent på botilbud orion" in r.json()["detail"]


async def test_reading_never_changes_the_roster_an_administrator_set(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, botilbud="roster-home", tovholder="nurse-kept")
    admin = health.auth("admin", "admin-1")
    url = "/api/v1/botilbud/roster-home/nurse-consultants"
    # The administrator takes nurse-left off the roster (she has moved on) ...
    r = await health.client.put(url, headers=admin, json=[{"sub": "nurse-kept", "name": "Kept"}])
    assert r.status_code == 200, r.text
    # ... and her reads (she still holds a token for the botilbud) do not put her back.
    left = nurse(health, "nurse-left", "roster-home")
    assert (await health.client.get(url, headers=left)).status_code == 200
    assert (await health.client.get(f"/api/v1/citizens/{citizen_id}/health-timeline", headers=left)).status_code == 200
    roster = (await health.client.get(url, headers=admin)).json()["nurse_consultants"]
    assert [n["sub"] for n in roster] == ["nurse-kept"]
    # So the citizen cannot choose her.
    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": "nurse-left"},
                                headers=health.auth("citizen", str(citizen_id)))
    assert r.status_code == 422


async def test_only_the_tovholder_network_and_house_nurses_see_health_data_and_every_access_is_audited(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault, tovholder="nurse-a")
    url = f"/api/v1/citizens/{citizen_id}/health-timeline"
    assert (await health.client.get(url, headers=nurse(health))).status_code == 200
    assert (await health.client.get(url, headers=health.auth("citizen", str(citizen_id)))).status_code == 200
    unknown = f"/api/v1/citizens/{uuid.uuid4()}/health-timeline"
    # Staff of the citizen's botilbud who may do other things with the record (the coordinator
    # records the tovholder choice) know it exists and are told why not; roles that never read
    # health data get the same 403 for every citizen.
    for headers in (health.auth("coordinator", "coord-x", botilbud="orion"), health.auth("admin", "admin-1"),
                    health.auth("partner", "p", org=PARTNER_ORG), health.auth("visitation", "visitation-1")):
        r = await health.client.get(url, headers=headers)
        assert r.status_code == 403, headers
        assert r.json()["detail"]
    # Anyone else who could see some citizens' records is answered exactly as for a citizen who does
    # not exist: nothing reveals that this one does.
    for headers in (nurse(health, "nurse-z", "tangkaer"), health.auth("citizen", str(uuid.uuid4()))):
        hidden, missing = await health.client.get(url, headers=headers), await health.client.get(unknown, headers=headers)
        assert hidden.status_code == missing.status_code == 404, headers
        assert hidden.json() == missing.json()
    actions = await audit_actions(health, citizen_id)
    assert actions.count("health_timeline.read") == 2
    assert actions.count("health.access_denied") >= 6


async def test_external_contacts_go_on_the_timeline(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault)
    body = {"kind": "court", "counterpart": "lawyer", "org": "Advokathuset", "who": "Adv. Holm",
            "what": "Court date moved to 14 January", "occurred_at": datetime.now(CET).isoformat()}
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/external-contacts", json=body, headers=nurse(health))
    assert r.status_code == 201, r.text
    timeline = (await health.client.get(f"/api/v1/citizens/{citizen_id}/health-timeline", headers=nurse(health))).json()
    (entry,) = [e for e in timeline["entries"] if e["kind"] == "court"]
    assert (entry["org"], entry["who"], entry["recorded_by"]) == ("Advokathuset", "Adv. Holm", "nurse-a")
    bad = await health.client.post(f"/api/v1/citizens/{citizen_id}/external-contacts",
                                   json={**body, "occurred_at": (datetime.now(CET) + timedelta(days=2)).isoformat()},
                                   headers=nurse(health))
    assert bad.status_code == 422 and "fremtiden" in bad.json()["detail"]


# ----------------------------------------------------------------------- medication


def hospital_notice(cpr, code, occurred_at, replaces=None):
    return {"message_id": str(uuid.uuid4()), "sent_at": (occurred_at + timedelta(minutes=1)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "PC København"}, "code": code, "cpr": cpr,
            "hospital_episode_id": "EPJ-1", "department": "P2", "occurred_at": occurred_at.isoformat(),
            "replaces_message_id": replaces}


async def test_medication_change_during_an_admission_raises_an_alert_for_the_tovholder(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    admitted_at = datetime.now(CET) - timedelta(hours=5)
    r = await health.client.post("/integration/v1/hospital-notifications", json=hospital_notice(cpr, "STAA", admitted_at),
                                 headers=partner(health))
    assert r.status_code == 202, r.text
    change = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(CET).isoformat(),
              "sender": {"org": PARTNER_ORG, "name": "PC København"}, "cpr": cpr, "fmk_reference": "FMK-DM-778812",
              "change_kind": "dose-changed", "changed_at": (admitted_at + timedelta(hours=2)).isoformat(),
              "note": "Quetiapin raised on the ward"}
    r = await health.client.post("/integration/v1/medication-changes", json=change, headers=partner(health))
    assert r.status_code == 202 and r.json()["status"] == "ok", r.text
    (changed,) = await events_of(kafka, citizen_id, "tovholder.health.medication-changed.v1")
    assert changed["during_admission"] is True and changed["source"] == "partner" and changed["fmk_reference"] == "FMK-DM-778812"
    (alert,) = await events_of(kafka, citizen_id, "tovholder.health.medication-alert-raised.v1")
    assert alert["tovholder_sub"] == "nurse-a" and alert["hospital_episode_ids"] == ["EPJ-1"]

    # A staff-recorded change before the admission raises no alert; a copy of FMK is refused.
    staff_change = {"fmk_reference": "FMK-DM-1", "change_kind": "stopped",
                    "changed_at": (admitted_at - timedelta(days=3)).isoformat()}
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/medication-changes", json=staff_change, headers=nurse(health))
    assert r.status_code == 201 and r.json()["during_admission"] is False
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/medication-changes",
                                 json={**staff_change, "fmk_reference": "Quetiapin 100 mg x 2"}, headers=nurse(health))
    assert r.status_code == 422 and "FMK" in r.json()["detail"]

    listing = (await health.client.get(f"/api/v1/citizens/{citizen_id}/medication-changes", headers=nurse(health))).json()
    assert len(listing["changes"]) == 2 and len(listing["alerts"]) == 1
    ack = await health.client.post(f"/api/v1/medication-alerts/{listing['alerts'][0]['alert_id']}/acknowledge", headers=nurse(health))
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "nurse-a"


async def test_partner_intake_answers_alike_for_known_and_unknown_cprs_and_resend_is_idempotent(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    notes = {"sent_at": datetime.now(CET).isoformat(), "sender": {"org": PARTNER_ORG, "name": "Lokalpsykiatrien"},
             "written_at": datetime.now(CET).isoformat(), "psychiatrist": "Overlæge Berg", "notes": "Stable."}
    unknown = await health.client.post("/integration/v1/psychiatrist-notes", headers=partner(health),
                                       json={**notes, "message_id": str(uuid.uuid4()), "cpr": new_cpr()})
    ok = {**notes, "message_id": str(uuid.uuid4()), "cpr": cpr}
    first = await health.client.post("/integration/v1/psychiatrist-notes", json=ok, headers=partner(health))
    again = await health.client.post("/integration/v1/psychiatrist-notes", json=ok, headers=partner(health))
    assert unknown.status_code == first.status_code == again.status_code == 202 and first.json() == again.json()
    assert set(unknown.json()) == set(first.json()) and unknown.json()["status"] == "ok"
    (received,) = await events_of(kafka, citizen_id, "tovholder.health.partner-document-received.v1")
    assert received["kind"] == "psychiatrist-notes" and "notes" not in received


# ----------------------------------------------------------------------- the health check cycle


async def test_the_health_check_cycle(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    # Orion runs the check yearly with an extended one every fifth year (as Tangkær does).
    r = await health.client.put("/api/v1/botilbud/orion/health-check-cadence", headers=health.auth("admin", "admin-1"),
                                json={"every_years": 1, "extended_every_years": 5})
    assert r.status_code == 200 and r.json()["description"] == "hvert år, udvidet hvert 5. år", r.text
    starts_at = datetime.combine(date.today() + timedelta(days=40), time(10, 0), tzinfo=CET)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks",
                                 json={"starts_at": starts_at.isoformat(), "gp_practice": "Lægehuset Ebeltoft"},
                                 headers=nurse(health))
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["extended"] is True  # the first check in Tovholder is the larger one
    steps = {s["step"]: s for s in check["steps"]}
    assert steps["pre-assessment"]["deadline"] == str(starts_at.date() - timedelta(days=21))
    assert steps["medication-review"]["target"] == str(starts_at.date() - timedelta(days=5))
    (scheduled,) = await events_of(kafka, citizen_id, "tovholder.health.health-check-scheduled.v1")
    assert scheduled["tovholder_sub"] == "nurse-a" and len(scheduled["reminders_at"]) == 2
    due = await events_of(kafka, citizen_id, "tovholder.health.health-check-step-due.v1", 4)
    assert {d["step"] for d in due} == {"pre-assessment", "examination", "medication-reconciliation", "medication-review"}

    # One check a year.
    again = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                     headers=nurse(health))
    assert again.status_code == 409
    too_soon = await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks",
                                        json={"starts_at": (datetime.now(CET) + timedelta(days=400)).isoformat()},
                                        headers=nurse(health))
    assert too_soon.status_code in (201, 409)  # next year is allowed

    hc_id = check["health_check_id"]
    pre = {"answers": [{"theme": "sleep", "citizens_words": "I sleep badly when I drink cola", "symptom_score": 2}],
           "wants_to_talk_about": "whether I can stop the yellow pills", "done_on": str(date.today()), "setting": "on a walk"}
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/pre-assessment", json=pre, headers=nurse(health))
    assert r.status_code == 200, r.text
    # One theme of seven: saved, not done.
    assert {s["step"]: s["status"] for s in r.json()["steps"]}["pre-assessment"] != "done"
    assert "teeth" in r.json()["pre_assessment"]["themes_not_covered"]
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/steps/pre-assessment/complete", headers=nurse(health))
    assert r.status_code == 422 and "ikke færdig" in r.json()["detail"]
    pre["skipped"] = [{"theme": t, "reason": "borgeren ville ikke tale om det i dag"}
                      for t in ("teeth", "diet", "exercise", "dependence", "pain", "nada")]
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/pre-assessment", json=pre, headers=nurse(health))
    assert r.status_code == 200, r.text
    assert {s["step"]: s["status"] for s in r.json()["steps"]}["pre-assessment"] == "done"
    assert r.json()["pre_assessment"]["themes_not_covered"] == []

    # The pharmacist's review arrives through the partner endpoint and completes its step.
    review = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(CET).isoformat(),
              "sender": {"org": PARTNER_ORG, "name": "Klinisk farmaceut"}, "cpr": cpr,
              "reviewed_at": datetime.now(CET).isoformat(), "summary": "Laxative has run on since January.",
              "recommendations": ["Reduce the laxative"], "hours_spent": 2.5}
    r = await health.client.post("/integration/v1/pharmacist-reviews", json=review, headers=partner(health))
    assert r.status_code == 202, r.text
    completed = await events_of(kafka, citizen_id, "tovholder.health.health-check-step-completed.v1", 2)
    assert {c["step"] for c in completed} == {"pre-assessment", "medication-review"}

    held_at = starts_at + timedelta(minutes=12)
    ecg_at = datetime.combine(starts_at.date() + timedelta(days=14), time(11, 0), tzinfo=CET)
    held = {"held_at": held_at.isoformat(), "minutes": "Laxative reduced; ECG booked.",
            "participants": [{"role": r, "name": r} for r in ("citizen", "staff", "minute-taker", "gp", "psychiatrist", "pharmacist")],
            "decisions": [{"kind": "reduce-dose", "title": "Halve the laxative"},
                          {"kind": "book-examination", "title": "ECG at the GP", "due_at": ecg_at.isoformat()}]}
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/held", json=held,
                                 headers=health.auth("coordinator", "coord-1", botilbud="orion"))
    assert r.status_code == 200, r.text
    decisions = await events_of(kafka, citizen_id, "tovholder.health.health-check-decision-recorded.v1", 2)
    ecg = next(d for d in decisions if d["kind"] == "book-examination")
    assert len(ecg["reminders_at"]) == 2 and ecg["plan_update"] is True and ecg["responsible_sub"] == "nurse-a"
    (done,) = await events_of(kafka, citizen_id, "tovholder.health.health-check-held.v1")
    assert done["decisions"] == 2 and done["tovholder_sub"] == "nurse-a"
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/decline", json={}, headers=health.auth("citizen", str(citizen_id)))
    assert r.status_code == 422 and "allerede holdt" in r.json()["detail"]


async def test_declining_is_recorded_without_pressure(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault)
    starts_at = datetime.combine(date.today() + timedelta(days=30), time(9, 0), tzinfo=CET)
    hc_id = (await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                      headers=nurse(health))).json()["health_check_id"]
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/decline", headers=health.auth("citizen", str(citizen_id)))
    assert r.status_code == 200 and r.json()["status"] == "declined" and r.json()["decline_reason"] is None
    assert {s["status"] for s in r.json()["steps"]} == {"not-applicable"}
    await events_of(kafka, citizen_id, "tovholder.health.health-check-declined.v1")
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/accept", headers=health.auth("citizen", str(citizen_id)))
    assert r.status_code == 200 and r.json()["status"] == "planned"


async def test_check_days_group_citizens_of_one_gp_practice(health, kafka, vault):
    botilbud = f"tangkaer-{uuid.uuid4().hex[:6]}"
    citizens = [await known_citizen(health, kafka, vault, botilbud=botilbud, tovholder="nurse-t") for _ in range(3)]
    headers = nurse(health, "nurse-t", botilbud)
    for i, (citizen_id, _) in enumerate(citizens):
        practice = "Lægehuset Ebeltoft" if i < 2 else "Lægehuset Rønne"
        assert (await health.client.put(f"/api/v1/citizens/{citizen_id}/gp-practice", json={"gp_practice": practice},
                                        headers=headers)).status_code == 200
    first = clock.next_working_day(date.today() + timedelta(days=35))
    days = [str(first), str(clock.next_working_day(first))]
    r = await health.client.post(f"/api/v1/botilbud/{botilbud}/health-check-days",
                                 json={"days": days, "one_practice_per_day": True, "schedule": True}, headers=headers)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert [d["gp_practices"] for d in plan["days"]] == [["Lægehuset Ebeltoft"], ["Lægehuset Rønne"]]
    assert len(plan["scheduled_health_check_ids"]) == 3
    first_day = plan["days"][0]["slots"]
    assert first_day[1]["starts_at"] == first_day[0]["ends_at"]
    other = await health.client.post(f"/api/v1/botilbud/{botilbud}/health-check-days", json={"days": days},
                                     headers=nurse(health, "nurse-a", "orion"))
    assert other.status_code == 403


# ----------------------------------------------------------------------- forensic psychiatry


async def test_treatment_order_depot_visits_and_missed_visit_alert(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault)
    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/treatment-order", headers=nurse(health), json={
        "court": "Retten i Aarhus", "judgment_date": "2025-06-01",
        "conditions": ["Depot medication weekly", "Lives at the botilbud"], "forensic_team_org": "Retspsykiatrisk Team"})
    assert r.status_code == 200, r.text
    await events_of(kafka, citizen_id, "tovholder.health.treatment-order-recorded.v1")

    today = datetime.now(CET).date()
    start = today - timedelta(days=15)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/depot-schedules", headers=nurse(health), json={
        "weekday": start.weekday(), "at": "10:00:00", "starts_on": str(start), "forensic_team_org": "Retspsykiatrisk Team"})
    assert r.status_code == 201, r.text
    schedule_id = r.json()["schedule_id"]
    # The first visit was given; the one a week later was not recorded.
    given = datetime.combine(start, time(10, 30), tzinfo=CET)
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/depot-visits", headers=nurse(health),
                                 json={"schedule_id": schedule_id, "visited_at": given.isoformat(), "outcome": "given"})
    assert r.status_code == 201, r.text

    now = datetime.combine(start + timedelta(days=7), time(20, 0), tzinfo=CET)
    async with UnitOfWork(health.ctx.sessions, service="health") as uow:
        assert await detect_missed_depot_visits(uow, now=now) >= 1
    async with UnitOfWork(health.ctx.sessions, service="health") as uow:
        await detect_missed_depot_visits(uow, now=now)  # once per slot
    async with health.ctx.sessions() as s:
        missed = list((await s.execute(select(MissedDepotVisit).where(MissedDepotVisit.citizen_id == citizen_id))).scalars())
    assert len(missed) == 1 and missed[0].reason == "not-recorded"
    (event,) = await events_of(kafka, citizen_id, "tovholder.health.depot-visit-missed.v1")
    assert event["schedule_id"] == schedule_id and event["tovholder_sub"] == "nurse-a"


async def test_coercion_log_needs_the_least_intrusive_alternative(health, kafka, vault):
    citizen_id, _ = await known_citizen(health, kafka, vault)
    entry = {"considered_at": datetime.now(CET).isoformat(), "measure": "compulsory-admission",
             "situation": "Has not slept for four nights", "least_intrusive_alternative": "",
             "decision": "not-used"}
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/coercion-log", json=entry, headers=nurse(health))
    assert r.status_code == 422 and "mindstemiddelsprincippet" in r.json()["detail"]
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/coercion-log", headers=nurse(health),
                                 json={**entry, "least_intrusive_alternative": "Offered PN and a walk; called the forensic team"})
    assert r.status_code == 201, r.text
    (event,) = await events_of(kafka, citizen_id, "tovholder.health.coercion-considered.v1")
    assert event["decided_by_sub"] == "nurse-a" and "situation" not in event
    r = await health.client.post(f"/api/v1/citizens/{citizen_id}/coercion-log", headers=nurse(health),
                                 json={**entry, "measure": "activate-treatment-order", "least_intrusive_alternative": "x"})
    assert r.status_code == 422 and "behandlingsdom" in r.json()["detail"]
    forensic = (await health.client.get(f"/api/v1/citizens/{citizen_id}/forensic", headers=nurse(health))).json()
    assert forensic["coercion_log"][0]["least_intrusive_alternative"].startswith("Offered PN")


# ----------------------------------------------------------------------- passing on by consent


async def test_partner_documents_are_passed_on_only_with_consent(health, kafka, vault):
    from contracts.plans import ConsentGivenV1, ConsentRevokedV1
    from tests.support import publish_event

    citizen_id, cpr = await known_citizen(health, kafka, vault)
    review = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(CET).isoformat(),
              "sender": {"org": PARTNER_ORG, "name": "Klinisk farmaceut"}, "cpr": cpr,
              "reviewed_at": datetime.now(CET).isoformat(), "summary": "Two drugs interact.", "recommendations": []}
    assert (await health.client.post("/integration/v1/pharmacist-reviews", json=review, headers=partner(health))).status_code == 202
    docs = (await health.client.get(f"/api/v1/citizens/{citizen_id}/partner-documents", headers=nurse(health))).json()["documents"]
    (doc,) = docs
    assert doc["content"]["summary"] == "Two drugs interact."

    gp = "SOR:4567890"
    refused = await health.client.post(f"/api/v1/partner-documents/{doc['document_id']}/share", json={"recipient_org": gp},
                                       headers=nurse(health))
    assert refused.status_code == 403 and "ikke givet samtykke" in refused.json()["detail"]

    consent_id, given_at = uuid.uuid4(), datetime.now(timezone.utc) - timedelta(minutes=1)
    await publish_event(kafka, ConsentGivenV1(citizen_id=citizen_id, consent_id=consent_id, recipient_kind="organisation",
                                              recipient_id=gp, category="health", given_at=given_at, recorded_by="nurse-a"))

    async def shared():
        r = await health.client.post(f"/api/v1/partner-documents/{doc['document_id']}/share", json={"recipient_org": gp},
                                     headers=nurse(health))
        return r if r.status_code == 201 else None

    await eventually(shared, message="consent arrived and the document was shared")
    gp_headers = health.auth("partner", "gp-system", org=gp)
    got = (await health.client.get("/integration/v1/shared-documents", headers=gp_headers)).json()["documents"]
    assert [d["document_id"] for d in got] == [doc["document_id"]]
    other = (await health.client.get("/integration/v1/shared-documents", headers=partner(health))).json()["documents"]
    assert doc["document_id"] not in [d["document_id"] for d in other]

    await publish_event(kafka, ConsentRevokedV1(citizen_id=citizen_id, consent_id=consent_id, recipient_kind="organisation",
                                                recipient_id=gp, category="health", given_at=given_at,
                                                revoked_at=datetime.now(timezone.utc), recorded_by="nurse-a"))

    async def gone():
        docs = (await health.client.get("/integration/v1/shared-documents", headers=gp_headers)).json()["documents"]
        return not docs

    await eventually(gone, message="revocation stops passing on")


async def test_examination_reconciliation_and_the_roster(health, kafka, vault):
    botilbud = f"vista-{uuid.uuid4().hex[:6]}"
    admin = health.auth("admin", "admin-1")
    r = await health.client.put(f"/api/v1/botilbud/{botilbud}/nurse-consultants", headers=admin,
                                json=[{"sub": "nurse-v1", "name": "Vera"}, {"sub": "nurse-v2"}])
    assert r.status_code == 200, r.text
    assert (await health.client.put(f"/api/v1/botilbud/{botilbud}/nurse-consultants", json=[],
                                    headers=nurse(health))).status_code == 403
    citizen_id, _ = await known_citizen(health, kafka, vault, botilbud=botilbud, tovholder="nurse-v2")
    roster = (await health.client.get(f"/api/v1/botilbud/{botilbud}/nurse-consultants",
                                      headers=health.auth("citizen", str(citizen_id)))).json()
    assert [n["sub"] for n in roster["nurse_consultants"]] == ["nurse-v1", "nurse-v2"]

    headers = nurse(health, "nurse-v2", botilbud)
    starts_at = datetime.combine(date.today() + timedelta(days=25), time(9, 30), tzinfo=CET)
    check = (await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                      headers=headers)).json()
    hc_id = check["health_check_id"]
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/examination", headers=headers, json={
        "done_on": str(date.today()), "where": "mobile-lab",
        "blood_tests": ["red-blood-count", "white-blood-count", "liver", "fluid", "b12", "vitamin-d", "cholesterol"],
        "measurements": ["height", "weight", "waist", "blood-pressure", "pulse"]})
    assert r.status_code == 200, r.text
    assert r.json()["examination"]["missing_blood_tests"] == ["thyroid"]
    assert r.json()["examination"]["missing_measurements"] == ["ecg", "spirometry"]
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/steps/medication-reconciliation/complete", headers=headers)
    assert r.status_code == 200
    got = (await health.client.get(f"/api/v1/health-checks/{hc_id}", headers=headers)).json()
    statuses = {s["step"]: s["status"] for s in got["steps"]}
    assert statuses["examination"] == statuses["medication-reconciliation"] == "done"
    assert statuses["pre-assessment"] == "due"  # 25 days ahead: past the 4-week target, before the 3-week deadline
    assert got["decisions"] == []
    held = {"held_at": (starts_at + timedelta(minutes=10)).isoformat(),
            "participants": [{"role": "gp", "name": "Dr"}, {"role": "minute-taker", "name": "K"}]}
    r = await health.client.post(f"/api/v1/health-checks/{hc_id}/held", json=held, headers=headers)
    assert r.status_code == 422 and "borgeren" in r.json()["detail"]


async def test_the_botilbuds_arshjul_overview(health, kafka, vault):
    botilbud = f"cirklen-{uuid.uuid4().hex[:6]}"
    citizen_id, _ = await known_citizen(health, kafka, vault, botilbud=botilbud, tovholder="nurse-c")
    headers = nurse(health, "nurse-c", botilbud)
    starts_at = datetime.combine(date.today() + timedelta(days=22), time(9, 0), tzinfo=CET)
    assert (await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks", json={"starts_at": starts_at.isoformat()},
                                     headers=headers)).status_code == 201
    r = await health.client.get(f"/api/v1/botilbud/{botilbud}/health-checks?year={starts_at.year}", headers=headers)
    assert r.status_code == 200, r.text
    (check,) = r.json()["health_checks"]
    assert check["citizen_id"] == str(citizen_id) and check["status"] == "planned"
    assert (await health.client.get(f"/api/v1/botilbud/{botilbud}/health-checks", headers=nurse(health))).status_code == 403


# ----------------------------------------------------------------------- issue 15: the health check's rules


async def test_cadence_per_botilbud_decides_who_is_due_and_what_is_extended(health, kafka, vault):
    botilbud = f"dsam-{uuid.uuid4().hex[:6]}"
    citizen_id, _ = await known_citizen(health, kafka, vault, botilbud=botilbud, tovholder="nurse-d")
    headers = nurse(health, "nurse-d", botilbud)
    r = await health.client.get(f"/api/v1/botilbud/{botilbud}/health-check-cadence", headers=headers)
    assert r.status_code == 200 and r.json()["default"] is True and r.json()["every_years"] == 2  # the DSAM agreement
    starts_at = datetime.combine(clock.next_working_day(date.today() + timedelta(days=30)), time(9, 0), tzinfo=CET)
    check = (await health.client.post(f"/api/v1/citizens/{citizen_id}/health-checks",
                                      json={"starts_at": starts_at.isoformat()}, headers=headers)).json()
    assert check["extended"] is False  # no extended checks under DSAM
    bad = await health.client.put(f"/api/v1/botilbud/{botilbud}/health-check-cadence", headers=headers,
                                  json={"every_years": 2, "extended_every_years": 5})
    assert bad.status_code == 422 and "multiplum" in bad.json()["detail"]
    other = await health.client.put(f"/api/v1/botilbud/{botilbud}/health-check-cadence",
                                    headers=nurse(health, "nurse-a", "orion"), json={"every_years": 1})
    assert other.status_code == 403
    r = await health.client.put(f"/api/v1/botilbud/{botilbud}/health-check-cadence", headers=headers,
                                json={"every_years": 1, "extended_every_years": 3})
    assert r.status_code == 200 and r.json()["default"] is False


async def test_day_planning_keeps_to_working_hours_unless_confirmed(health, kafka, vault):
    botilbud = f"plan-{uuid.uuid4().hex[:6]}"
    await known_citizen(health, kafka, vault, botilbud=botilbud, tovholder="nurse-p")
    headers = nurse(health, "nurse-p", botilbud)
    day = str(clock.next_working_day(date.today() + timedelta(days=30)))
    url = f"/api/v1/botilbud/{botilbud}/health-check-days"
    night = await health.client.post(url, json={"days": [day], "first_slot": "23:50", "schedule": True}, headers=headers)
    assert night.status_code == 422 and "over midnat" in night.json()["detail"]
    preview = await health.client.post(url, json={"days": [day], "per_day": 7}, headers=headers)
    assert preview.status_code == 200 and "7 tjek pr. dag" in preview.json()["warnings"][0]
    refused = await health.client.post(url, json={"days": [day], "per_day": 7, "schedule": True}, headers=headers)
    assert refused.status_code == 422 and refused.json()["code"] == "confirm-warnings"
    confirmed = await health.client.post(url, json={"days": [day], "per_day": 7, "schedule": True, "confirm_warnings": True},
                                         headers=headers)
    assert confirmed.status_code == 200 and len(confirmed.json()["scheduled_health_check_ids"]) == 1
    again = await health.client.post(url, json={"days": [day]}, headers=headers)
    assert again.json()["days"] == []  # already planned this year


async def test_the_demo_gives_tangkaer_its_yearly_cadence_with_an_extended_check_every_fifth_year(health, vault):
    from services.health import demo
    from tovholder.demo import demo_data

    data = {**demo_data(), "citizens": []}  # the cadence and the rosters only; the records may exist already
    async with UnitOfWork(health.ctx.sessions, service="health") as uow:
        await demo.seed(uow, data, vault)
    r = await health.client.get("/api/v1/botilbud/tangkaer/health-check-cadence", headers=health.auth("admin", "admin-1"))
    assert r.status_code == 200 and r.json()["description"] == "hvert år, udvidet hvert 5. år" and not r.json()["default"]
