"""The FHIR R4 read API of hospital stays (``/fhir/r4/Encounter``) on real PostgreSQL and the real
broker: the stays MedCom messages and v1 notices make, read and searched on the REST API's access
rules, SMART scopes, paging, OperationOutcome refusals, audit; everything validated with fhir.resources."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import select

from tests.integration.health.helpers import PARTNER_ORG, known_citizen
from tests.integration.health.test_health_medcom import FHIR, HOSPITAL, PROCESS, message
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration

CET = timezone(timedelta(hours=1))


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
    assert {"encounter.search", "encounter.read"} <= actions


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
        denied = (await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id,
                                                                  AuditEntry.action == "health.access_denied"))).scalars().all()
    assert len(denied) >= 2  # the scope refusal and the nurse elsewhere
