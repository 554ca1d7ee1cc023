"""Health's FHIR R4 on real PostgreSQL and the real broker. MedCom HospitalNotification in, MedCom
Acknowledgement out: MedCom's own example messages (tests/fixtures/medcom/, encoded from the IG's
examples) end to end to the tovholder's task in notifications and the health timeline; duplicates;
refusals. Then the hospital stays those messages make, read as ``Encounter`` on the REST API's access
rules, SMART scopes, paging, OperationOutcome refusals, audit; everything validated with fhir.resources.
(One module: one broker and one health service for both.)"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import select

from contracts.plans import ConsentGivenV1, ConsentRevokedV1
from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr
from tests.support import eventually, publish_event, run_service
from tovholder.db import AuditEntry
from tovholder.fhir import dump

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "medcom"
HOSPITAL = "SOR:265161000016000"  # the sender Organization of MedCom's examples
IG_CPR = "2509479989"
PROCESS = "/fhir/r4/$process-message"
FHIR = {"content-type": "application/fhir+json"}
CET = timezone(timedelta(hours=1))
HEADER_IDS = [json.loads(p.read_text())["entry"][0]["resource"]["id"] for p in sorted(FIXTURES.glob("*.json"))]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def notifications(pg, kafka, tmp_path_factory):
    async with run_service("notifications", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("notif")) as svc:
        yield svc


# The IG's examples are dated December 2022; sent today they would be historic notices (no urgent task).
# They are moved by whole days to end two days ago, order and times of day kept.
_IG_DAYS_AGO = (datetime.now(timezone.utc).date() - datetime(2022, 12, 20).date()).days - 2
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)")


def _recent(match: re.Match) -> str:
    moved = datetime.fromisoformat(match.group(0).replace("Z", "+00:00")) + timedelta(days=_IG_DAYS_AGO)
    return moved.isoformat().replace("+00:00", "Z") if match.group(0).endswith("Z") else moved.isoformat()


def message(name: str, cpr: str, salt: str | None = None) -> str:
    """A fixture as sent for one person: its CPR, its dates moved to recent ones, and (with ``salt``)
    MessageHeader ids of its own, references between the messages of one flow kept."""
    text = _STAMP.sub(_recent, (FIXTURES / f"{name}.json").read_text().replace(IG_CPR, cpr))
    if salt:
        for header_id in HEADER_IDS:
            text = text.replace(header_id, f"{header_id[:27]}{salt}")
    return text


def header_id(body: str) -> str:
    return json.loads(body)["entry"][0]["resource"]["id"]


async def send(health, body: str, org: str = HOSPITAL, expected: int = 200) -> dict:
    r = await health.client.post(PROCESS, content=body.encode(), headers={**FHIR, **health.auth("partner", "epj", org=org)})
    assert r.status_code == expected, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    ack = r.json()
    Bundle.model_validate(ack)  # every acknowledgement is valid FHIR
    return ack


def response(ack: dict) -> dict:
    header = ack["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader" and header["eventCoding"]["code"] == "acknowledgement-message"
    return header["response"]


def outcome_text(ack: dict) -> str:
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    return " ".join(i["details"]["text"] for i in outcome["issue"])


async def accepted(health, body: str) -> dict:
    ack = await send(health, body)
    assert response(ack) == {"identifier": header_id(body), "code": "ok"}
    return ack


async def tasks_of(notifications, citizen_id, kind: str):
    r = await notifications.client.get("/api/v1/work-queue",
                                       headers=notifications.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 200, r.text
    body = r.json()
    items = body if isinstance(body, list) else body.get("tasks", body.get("items", []))
    return [t for t in items if t["citizen_id"] == str(citizen_id) and t["kind"] == kind]


async def task(notifications, citizen_id, kind: str) -> dict:
    async def found():
        return await tasks_of(notifications, citizen_id, kind) or None

    tasks = await eventually(found, timeout=30, message=f"{kind} task in the tovholder's work queue")
    assert len(tasks) == 1 and tasks[0]["owner"] == "nurse-a"
    return tasks[0]


async def timeline(health, citizen_id) -> list[str]:
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/health-timeline",
                                headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 200, r.text
    return [e["what"] for e in r.json()["entries"] if e["kind"] == "hospital-notice"]


async def notices(health, citizen_id) -> list[dict]:
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/hospital-notices",
                                headers=health.auth("nurse-consultant", "nurse-a", botilbud="orion"))
    assert r.status_code == 200, r.text
    return r.json()["notices"]


async def test_admit_then_update_with_the_igs_own_messages(health, notifications, kafka, vault):
    """Use cases S1 + S.CORR, the IG's MessageHeader ids as published (only the CPR is one of ours)."""
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    admit = message("stin", cpr)
    ack = await accepted(health, admit)
    assert ack["entry"][0]["resource"]["destination"][0]["receiver"]["reference"].startswith("Organization/")
    await task(notifications, citizen_id, "accompany-admission")
    await accepted(health, message("re_stin", cpr))
    lines = await timeline(health, citizen_id)
    assert any(line.startswith("Indlagt (STIN), Hjerteafdelingen") for line in lines)
    assert any(line.startswith("Rettelse (RE_STIN)") for line in lines)
    rows = await notices(health, citizen_id)
    assert {(n["code"], n["status"]) for n in rows} == {("STIN", "superseded"), ("STIN", "active")}
    assert {n["legal_basis"] for n in rows} == {"retssikkerhedsloven § 12 c"}


async def test_admit_then_cancel_withdraws_the_task(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("stin", cpr, salt="a1b2c3d4e"))
    await task(notifications, citizen_id, "accompany-admission")
    await accepted(health, message("an_stin", cpr, salt="a1b2c3d4e"))

    async def withdrawn():
        return not await tasks_of(notifications, citizen_id, "accompany-admission")

    await eventually(withdrawn, timeout=30, message="admission task withdrawn")
    assert any(line.startswith("Annulleret af hospitalet (AN_STIN)") for line in await timeline(health, citizen_id))


async def test_admit_leave_and_end_of_leave(health, notifications, kafka, vault):
    """A leave asks the tovholder to agree on contact; the end of the leave withdraws that task (it no
    longer applies) and the admission's task stays open. (Sending SLOR before looking raced the consumer.)"""
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    for name in ("stin", "stor"):
        await accepted(health, message(name, cpr, salt="b1b2c3d4e"))
    leave_task = await task(notifications, citizen_id, "hospital-leave-contact")
    await accepted(health, message("slor", cpr, salt="b1b2c3d4e"))

    async def withdrawn():
        r = await notifications.client.get(f"/api/v1/tasks/{leave_task['task_id']}",
                                           headers=notifications.auth("nurse-consultant", "nurse-a", botilbud="orion"))
        assert r.status_code == 200, r.text
        return r.json() if r.json()["status"] == "cancelled" else None

    detail = await eventually(withdrawn, timeout=30, message="the leave task withdrawn by the end of the leave")
    assert "Orloven er afsluttet" in json.dumps(detail, ensure_ascii=False)
    assert not await tasks_of(notifications, citizen_id, "hospital-leave-contact")
    await task(notifications, citizen_id, "accompany-admission")  # still admitted: that task stays open
    lines = await timeline(health, citizen_id)
    assert any(line.startswith("På orlov fra hospitalet (STOR)") for line in lines)
    assert any(line.startswith("Tilbage fra orlov (SLOR)") for line in lines)


async def test_admit_then_discharge_home(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("stin", cpr, salt="c1b2c3d4e"))
    await accepted(health, message("slhj_inpatient", cpr, salt="c1b2c3d4e"))
    await task(notifications, citizen_id, "discharge-follow-up")
    assert any(line.startswith("Udskrevet (SLHJ)") for line in await timeline(health, citizen_id))


async def test_admit_then_death(health, notifications, kafka, vault):
    """IG 3.0 has no death activity: admit-inpatient stays, Patient.deceased says it (MORS)."""
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("stin", cpr, salt="d1b2c3d4e"))
    await accepted(health, message("mors_inpatient", cpr, salt="d1b2c3d4e"))
    await task(notifications, citizen_id, "inform-network-of-death")
    assert any(line.startswith("Død (MORS)") for line in await timeline(health, citizen_id))


async def test_acute_ambulant_then_discharge_and_death(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("staa", cpr, salt="e1b2c3d4e"))
    await task(notifications, citizen_id, "accompany-admission")
    await accepted(health, message("slhj_acute", cpr, salt="e1b2c3d4e"))
    await task(notifications, citizen_id, "discharge-follow-up")
    lines = await timeline(health, citizen_id)
    assert any(line.startswith("Indlagt (STAA)") and "Akut indlæggelse" in line for line in lines)
    # S2 + S7 for another person
    other_id, other_cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("staa", other_cpr, salt="f1b2c3d4e"))
    await accepted(health, message("mors_acute", other_cpr, salt="f1b2c3d4e"))
    await task(notifications, other_id, "inform-network-of-death")


async def test_different_sender_and_service_provider(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("stin_different_sender", cpr, salt="a2b2c3d4e"))
    await task(notifications, citizen_id, "accompany-admission")
    [notice] = await notices(health, citizen_id)
    assert notice["department"] == "Hjertemedicinsk sengeafs. S103"  # the serviceProvider, not the sender
    assert notice["sender_org"] == HOSPITAL


async def test_two_episode_of_care_identifiers_take_the_senders_own(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await accepted(health, message("stin_two_episodes", cpr, salt="a3b2c3d4e"))
    [notice] = await notices(health, citizen_id)
    assert notice["hospital_episode_id"] == "bd481c38-a921-11ed-afa1-0242ac120002"


async def test_the_same_message_twice_gets_the_same_acknowledgement_and_one_effect(health, notifications, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    first_copy = message("stin", cpr, salt="a4b2c3d4e")
    # MedCom's resend: the same MessageHeader.id in a new envelope (Bundle.id, timestamps).
    resent = json.loads(first_copy)
    resent["id"] = str(uuid.uuid4())
    resent["timestamp"] = (datetime.fromisoformat(resent["timestamp"]) + timedelta(minutes=30)).isoformat()
    first = await accepted(health, first_copy)
    again = await accepted(health, json.dumps(resent))
    assert again["entry"][0]["resource"] == first["entry"][0]["resource"]  # the same MessageHeader (id, response)
    assert again["id"] != first["id"]  # a new envelope, as MedCom asks of a resent acknowledgement
    await task(notifications, citizen_id, "accompany-admission")
    assert len(await notices(health, citizen_id)) == 1


async def test_a_revision_before_its_original_is_a_fatal_error_naming_the_missing_message(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    revision = message("re_stin", cpr, salt="a5b2c3d4e")
    ack = await send(health, revision, expected=409)
    assert response(ack)["code"] == "fatal-error" and response(ack)["identifier"] == header_id(revision)
    original = header_id(message("stin", cpr, salt="a5b2c3d4e"))
    text = outcome_text(ack)
    assert f"MessageHeader/{original}" in text and "revise-admit-inpatient" in text, text
    again = await send(health, revision, expected=409)  # a resend: the same answer
    assert again["entry"][0]["resource"] == ack["entry"][0]["resource"]
    assert await notices(health, citizen_id) == []


async def test_a_bundle_that_is_not_a_hospital_notification_is_a_fatal_error(health):
    other = json.loads(message("stin", new_cpr(), salt="a6b2c3d4e"))
    other["entry"][0]["resource"]["eventCoding"]["code"] = "care-communication-message"
    ack = await send(health, json.dumps(other), expected=422)
    assert response(ack) == {"identifier": other["entry"][0]["resource"]["id"], "code": "fatal-error",
                             "details": response(ack)["details"]}
    assert "HospitalNotification" in outcome_text(ack)
    for body, words in (("{not json", "not valid JSON"),
                        (json.dumps({"resourceType": "Patient"}), "not a FHIR Bundle"),
                        (json.dumps({"resourceType": "Bundle", "type": "message",
                                     "entry": [{"resource": {"resourceType": "Patient", "birthDate": "soon"}}]}),
                         "not valid FHIR R4")):
        ack = await send(health, body, expected=422)
        assert response(ack)["code"] == "fatal-error" and words in outcome_text(ack), outcome_text(ack)


async def test_another_organisations_message_is_refused_and_changes_nothing(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    body = message("stin", cpr, salt="a7b2c3d4e")
    ack = await send(health, body, org="SOR:1234567", expected=403)
    assert response(ack)["code"] == "fatal-error" and "SOR:265161000016000" in outcome_text(ack)
    assert await notices(health, citizen_id) == []
    await accepted(health, body)  # the refusal was not kept as the message's acknowledgement


async def test_a_hospital_notification_in_fhir_xml_takes_the_same_path(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    body = message("staa", cpr, salt="b2b2c3d4e")
    xml = Bundle.model_validate_json(body).model_dump_xml()
    r = await health.client.post(PROCESS, content=xml, headers={"content-type": "application/fhir+xml",
                                                                 **health.auth("partner", "epj", org=HOSPITAL)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+xml")  # answered in the sender's format
    assert response(dump(Bundle.model_validate_xml(r.content))) == {"identifier": header_id(body), "code": "ok"}
    [notice] = await notices(health, citizen_id)
    assert notice["code"] == "STAA"
    entity = b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY e SYSTEM "file:///etc/passwd">]><Bundle xmlns="http://hl7.org/fhir"/>'
    r = await health.client.post(PROCESS, content=entity, headers={"content-type": "application/fhir+xml",
                                                                    "accept": "application/fhir+json",
                                                                    **health.auth("partner", "epj", org=HOSPITAL)})
    assert r.status_code == 422 and "DOCTYPE" in outcome_text(r.json())


async def test_an_unknown_cpr_is_acknowledged_and_parked_for_visitation(health):
    await accepted(health, message("stin", new_cpr(), salt="a8b2c3d4e"))
    queue = await health.client.get("/api/v1/unmatched-hospital-notices", headers=health.auth("visitation", "visitation-1"))
    assert queue.status_code == 200, queue.text
    assert any(n["sender_org"] == HOSPITAL and n["code"] == "STIN" for n in queue.json()["notices"])


async def test_refusals_before_the_message_are_operation_outcomes(health):
    body = message("stin", new_cpr(), salt="a9b2c3d4e").encode()
    r = await health.client.post(PROCESS, content=body, headers=FHIR)
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    r = await health.client.post(PROCESS, content=body, headers={**FHIR, **health.auth("coordinator", "c-1", botilbud="orion")})
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome", r.text


async def test_metadata_declares_the_messaging_and_its_duplicate_window(health):
    r = await health.client.get("/fhir/r4/metadata", headers=health.auth("partner", "epj", org=HOSPITAL))
    assert r.status_code == 200, r.text
    statement = CapabilityStatement.model_validate(r.json())
    assert statement.fhirVersion == "4.0.1"
    [messaging] = statement.messaging
    assert messaging.reliableCache == 24 * 60 and messaging.reliableCache >= 30 + 1
    assert messaging.supportedMessage[0].mode == "receiver"
    assert str(messaging.endpoint[0].address).endswith("/fhir/r4/$process-message")
    # Behind the portal or the ingress the statement names the one base URL the partner uses, as every
    # other FHIR answer does (tovholder.fhir.public_origin), not health's own address.
    forwarded = {"X-Forwarded-Host": "tovholder.kommune.dk", "X-Forwarded-Proto": "https"}
    r = await health.client.get("/fhir/r4/metadata", headers={**forwarded, **health.auth("partner", "epj", org=HOSPITAL)})
    statement = CapabilityStatement.model_validate(r.json())
    assert str(statement.implementation.url) == "https://tovholder.kommune.dk/fhir/r4"
    assert str(statement.messaging[0].endpoint[0].address) == "https://tovholder.kommune.dk/fhir/r4/$process-message"


# ==================================================================== Encounter (hospital stays)


def tovholder(health, **claims):
    return health.auth("nurse-consultant", "nurse-a", botilbud="orion", **claims)


async def medcom(health, name: str, cpr: str, salt: str) -> None:
    r = await health.client.post(PROCESS, content=message(name, cpr, salt).encode(),
                                 headers={**FHIR, **health.auth("partner", "epj", org=HOSPITAL)})
    assert r.status_code == 200, r.text


async def search(health, headers, expected: int = 200, **params) -> dict:
    r = await health.client.get("/fhir/r4/Encounter", params=params, headers=headers)
    assert r.status_code == expected, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    if expected == 200:
        bundle = Bundle.model_validate(r.json())
        assert bundle.type == "searchset"
        for entry in bundle.entry or []:
            Encounter.model_validate(entry.resource.model_dump(mode="json", by_alias=True, exclude_none=True))
    else:
        OperationOutcome.model_validate(r.json())
    return r.json()


async def test_a_stay_follows_its_medcom_messages_and_reads_as_fhir(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await medcom(health, "stin", cpr, "c0ffee001")
    await medcom(health, "stor", cpr, "c0ffee001")
    found = await search(health, tovholder(health), patient=f"Patient/{citizen_id}")
    assert found["total"] == 1
    stay = found["entry"][0]["resource"]
    assert stay["status"] == "onleave" and stay["class"]["code"] == "IMP"
    assert stay["subject"]["reference"] == f"Patient/{citizen_id}"
    assert stay["serviceProvider"]["identifier"]["value"] == "265161000016000"
    assert stay["identifier"][0]["value"] == "bd481c38-a921-11ed-afa1-0242ac120002"

    await medcom(health, "slhj_inpatient", cpr, "c0ffee001")
    r = await health.client.get(f"/fhir/r4/Encounter/{stay['id']}", headers=tovholder(health))
    assert r.status_code == 200, r.text
    read = Encounter.model_validate(r.json())
    assert read.status == "finished" and read.period.end is not None and read.period.start < read.period.end

    async with health.ctx.sessions() as s:
        actions = set((await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id))).scalars())
    assert {"encounter.list", "encounter.read"} <= actions
    # … and the citizen sees them in their Min log, as reads of their hospital stays
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=health.auth("citizen", str(citizen_id)))
    assert r.status_code == 200, r.text
    reads = [e for e in r.json()["entries"] if e["action"] in ("encounter.read", "encounter.list")]
    assert reads and {e["category"] for e in reads} == {"Indlæggelser og udskrivelser"}
    assert {e["kind"] for e in reads} == {"læst"} and {e["actor_role"] for e in reads} == {"sygeplejekonsulent"}


async def test_search_pages_filters_and_says_what_is_wrong(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    partner = health.auth("partner", "partner-pck", org=PARTNER_ORG)
    base = datetime.now(CET) - timedelta(days=3)
    for day in range(3):  # three stays (three episodes), each admitted
        at = base + timedelta(days=day)
        r = await health.client.post("/integration/v1/hospital-notifications", headers=partner, json={
            "message_id": str(uuid.uuid4()), "sent_at": (at + timedelta(minutes=1)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center"}, "code": "STIN", "cpr": cpr,
            "hospital_episode_id": f"EPJ-{day}", "department": "Afsnit P2", "occurred_at": at.isoformat()})
        assert r.status_code == 202, r.text
    me = tovholder(health)
    first = await search(health, me, patient=str(citizen_id), _count=2)
    assert first["total"] == 3 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "next" in links and "previous" not in links
    r = await health.client.get(links["next"], headers=me)
    second = r.json()
    assert r.status_code == 200 and len(second["entry"]) == 1
    assert {link["relation"] for link in second["link"]} >= {"previous", "first"} and "next" not in {
        link["relation"] for link in second["link"]}
    ids = {e["resource"]["id"] for e in first["entry"] + second["entry"]}
    assert len(ids) == 3

    assert (await search(health, me, patient=str(citizen_id), status="finished"))["total"] == 0
    assert (await search(health, me, patient=str(citizen_id), status="in-progress"))["total"] == 3
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert (await search(health, me, patient=str(citizen_id), _lastUpdated=f"ge{future}"))["total"] == 0
    assert (await search(health, me, patient=str(citizen_id), _lastUpdated=f"lt{future}"))["total"] == 3
    bad = await search(health, me, expected=400, patient=str(citizen_id), _lastUpdated="yesterday")
    assert "_lastUpdated" in bad["issue"][0]["details"]["text"]
    await search(health, me, expected=400)  # no patient
    await search(health, me, expected=400, patient=str(citizen_id), _count=0)


async def test_access_is_the_rest_apis_with_smart_scopes_and_refusals_are_operation_outcomes(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await medcom(health, "stin", cpr, "c0ffee002")
    patient = f"Patient/{citizen_id}"
    assert (await search(health, tovholder(health, scope="user/*.read"), patient=patient))["total"] == 1
    refused = await search(health, tovholder(health, scope="user/Observation.read"), expected=403, patient=patient)
    assert "user/Encounter.read" in refused["issue"][0]["details"]["text"]
    # The citizen reads their own stays (no patient parameter needed), also with a patient scope.
    own = await search(health, health.auth("citizen", str(citizen_id), scope="patient/*.read"))
    assert own["total"] == 1
    # A nurse elsewhere: the same answer as for a citizen who does not exist.
    elsewhere = health.auth("nurse-consultant", "nurse-z", botilbud="elsewhere")
    await search(health, elsewhere, expected=404, patient=patient)
    await search(health, elsewhere, expected=404, patient=f"Patient/{uuid.uuid4()}")
    r = await health.client.get(f"/fhir/r4/Encounter/{citizen_id}.0000000000000000", headers=tovholder(health))
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    await search(health, health.auth("partner", "p", org=PARTNER_ORG), expected=403, patient=patient)
    r = await health.client.get("/fhir/r4/Encounter", params={"patient": patient})
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    async with health.ctx.sessions() as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id))).scalars().all()
    # Refusals are audited by health's rule (health.access_denied) or by the kit's handler (<object>.refused).
    denied = [a for a in actions if a == "health.access_denied" or a.endswith(".refused")]
    assert len(denied) >= 2  # the scope refusal and the nurse elsewhere


async def test_a_partner_reads_stays_only_while_the_citizens_consent_for_health_covers_it(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    await medcom(health, "stin", cpr, "c0ffee003")
    patient = f"Patient/{citizen_id}"
    [stay] = [e["resource"] for e in (await search(health, tovholder(health), patient=patient))["entry"]]
    gp = "SOR:4567890"
    them = health.auth("partner", "gp-system", org=gp, scope="system/*.read")

    async def read(headers, expected: int) -> dict:
        r = await health.client.get(f"/fhir/r4/Encounter/{stay['id']}", headers=headers)
        assert r.status_code == expected, r.text
        (Encounter if expected == 200 else OperationOutcome).model_validate(r.json())
        return r.json()

    # No consent yet: 403, the very answer for a Patient that does not exist (nothing tells the partner more).
    refused = await search(health, them, expected=403, patient=patient)
    assert "consent" in refused["issue"][0]["details"]["text"] and refused["issue"][0]["code"] == "forbidden"
    assert await search(health, them, expected=403, patient=f"Patient/{uuid.uuid4()}") == refused
    await read(them, 403)

    def consent(category: str, consent_id: uuid.UUID, given_at: datetime, **revoked):
        kind = ConsentRevokedV1 if revoked else ConsentGivenV1
        return kind(citizen_id=citizen_id, consent_id=consent_id, recipient_kind="organisation", recipient_id=gp,
                    category=category, given_at=given_at, recorded_by="nurse-a", **revoked)

    # A consent for the plan does not cover hospital stays; one for health does, and a list shows what reads do.
    given_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    await publish_event(kafka, consent("plan", uuid.uuid4(), given_at))
    health_consent = uuid.uuid4()
    await publish_event(kafka, consent("health", health_consent, given_at))

    async def readable():
        r = await health.client.get("/fhir/r4/Encounter", params={"patient": patient}, headers=them)
        return r.json() if r.status_code == 200 else None

    found = await eventually(readable, message="the partner reads the stays once the health consent arrived")
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == stay["id"]
    await search(health, them, patient=patient)  # validated entry by entry
    assert (await read(them, 200))["status"] == "in-progress"
    # … only the organisation consented to
    await search(health, health.auth("partner", "p", org=PARTNER_ORG), expected=403, patient=patient)

    # Withdrawn: every later read is refused, the list and the stay alike.
    await publish_event(kafka, consent("health", health_consent, given_at, revoked_at=datetime.now(timezone.utc)))

    async def refused_again():
        r = await health.client.get("/fhir/r4/Encounter", params={"patient": patient}, headers=them)
        return r.json() if r.status_code == 403 else None

    assert (await eventually(refused_again, message="withdrawal stops the partner's reads")) == refused
    await read(them, 403)

    async with health.ctx.sessions() as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.citizen_id == citizen_id,
                                                            AuditEntry.actor_role == "partner"))).scalars().all()
    reads = [e for e in entries if e.action in ("encounter.read", "encounter.list")]
    assert reads and {e.detail["basis"] for e in reads} == {f"consent {health_consent}"}
    assert sum(e.action == "encounter.refused" for e in entries) >= 4  # before, other org, after (list and read)
    # The citizen's Min log shows the partner's reads, and with what they were allowed.
    r = await health.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=health.auth("citizen", str(citizen_id)))
    log = [e for e in r.json()["entries"] if e["actor_role"] == "samarbejdspartner" and e["action"] == "encounter.read"]
    assert log and log[0]["purpose"] == "Samarbejdspartneren læste oplysningerne med dit samtykke"
