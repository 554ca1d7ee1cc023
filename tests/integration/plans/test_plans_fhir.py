"""Plans' FHIR R4 read API on the real plans service: CarePlan, Goal, CareTeam and Consent read and
searched on the REST API's rules, with SMART scopes, paging and OperationOutcome refusals; every
answer validated with fhir.resources; every read audited (the citizen's Min log shows it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.fhir_support import fhir_get, links, refusal_text, search
from tests.integration.plans.conftest import citizen, form_network, open_plan, staff
from tovholder.db import AuditEntry

PSYCHIATRY = "SOR:265161000016000"
OWN_WORDS = "Jeg vil gerne kunne tage bussen til min søster selv"


def partner(plans, org: str = PSYCHIATRY, **claims):
    return plans.auth("partner", sub=f"epj-{org}", org=org, **claims)


async def a_plan_with_goals(plans, kafka, goals: int = 1) -> tuple[uuid.UUID, list[str]]:
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/plan"
    ids = []
    for n in range(goals):
        text = OWN_WORDS if n == 0 else f"Mål nummer {n + 1}"
        r = await plans.client.post(f"{base}/goals", headers=citizen(plans, citizen_id),
                                    json={"text": text, "written_with_citizen": True})
        assert r.status_code == 201, r.text
        ids.append(r.json()["goal_id"])
    r = await plans.client.post(f"{base}/goals/{ids[0]}/actions", headers=staff(plans, "k1"), json={
        "text": "Øve turen med bus 5A", "responsible": {"kind": "staff", "ref": "orion-k1"},
        "due_on": str(datetime.now(timezone.utc).date() + timedelta(days=14)), "written_with_citizen": True})
    assert r.status_code == 201, r.text
    r = await plans.client.post(f"{base}/entries", headers=citizen(plans, citizen_id), json={
        "kind": "citizen-perspective", "text": "Jeg er nervøs for skiftet ved Nørreport", "goal_id": ids[0]})
    assert r.status_code == 201, r.text
    return citizen_id, ids


async def consent(plans, citizen_id, category: str = "plan", org: str = PSYCHIATRY) -> str:
    r = await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents", headers=citizen(plans, citizen_id),
                                json={"recipient_kind": "organisation", "recipient_id": org,
                                      "recipient_name": "Psykiatrisk Center", "category": category})
    assert r.status_code == 201, r.text
    return r.json()["consent_id"]


async def test_borgerens_plan_reads_as_careplan_and_goals_in_the_citizens_own_words(plans, kafka):
    citizen_id, (goal_id,) = await a_plan_with_goals(plans, kafka)
    patient = f"Patient/{citizen_id}"
    coordinator = staff(plans, "k1")

    found = await search(plans.client, "CarePlan", coordinator, patient=patient)
    assert found["total"] == 1
    care = found["entry"][0]["resource"]
    assert care["status"] == "active" and care["intent"] == "plan" and care["subject"]["reference"] == patient
    assert care["goal"] == [{"reference": f"Goal/{goal_id}"}]
    assert care["careTeam"] == [{"reference": f"CareTeam/{citizen_id}"}]
    assert care["activity"][0]["detail"]["description"] == "Øve turen med bus 5A"
    assert int(care["meta"]["versionId"]) >= 3
    assert found["entry"][0]["fullUrl"].endswith(f"/fhir/r4/CarePlan/{care['id']}")
    assert await fhir_get(plans.client, f"/fhir/r4/CarePlan/{care['id']}", coordinator) == care

    goal = await fhir_get(plans.client, f"/fhir/r4/Goal/{goal_id}", coordinator)
    assert goal["description"]["text"] == OWN_WORDS  # kept as written
    assert goal["expressedBy"]["reference"] == patient and goal["lifecycleStatus"] == "active"
    [note] = goal["note"]
    assert note["text"] == "Jeg er nervøs for skiftet ved Nørreport" and note["authorReference"]["reference"] == patient

    team = await fhir_get(plans.client, f"/fhir/r4/CareTeam/{citizen_id}", coordinator)
    roles = {p["member"]["identifier"]["value"]: p["role"][0]["coding"][0]["code"] for p in team["participant"]}
    assert roles == {"orion-k1": "coordinator", "orion-n1": "nurse-consultant"}
    assert (await search(plans.client, "CareTeam", coordinator, subject=patient))["total"] == 1

    # The citizen reads their own (no patient parameter needed), also with a patient scope.
    own = await search(plans.client, "Goal", plans.auth("citizen", str(citizen_id), scope="patient/*.read"))
    assert own["total"] == 1

    async with plans.ctx.sessions() as s:
        rows = (await s.execute(select(AuditEntry).where(AuditEntry.citizen_id == citizen_id))).scalars().all()
    fhir_reads = [r for r in rows if (r.detail or {}).get("fhir")]
    assert {(r.action, r.detail["fhir"]) for r in fhir_reads} >= {
        ("plan.list", "CarePlan"), ("plan.read", "CarePlan"), ("plan.read", "Goal"), ("network.read", "CareTeam"),
        ("plan.list", "Goal")}
    r = await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=citizen(plans, citizen_id))
    assert r.status_code == 200, r.text
    categories = {e["category"] for e in r.json()["entries"] if e["action"] in ("plan.read", "plan.list", "network.read")}
    assert {"Borgerens plan", "Netværk"} <= categories


async def test_search_pages_filters_and_says_what_is_wrong(plans, kafka):
    citizen_id, goal_ids = await a_plan_with_goals(plans, kafka, goals=3)
    me = staff(plans, "k1")
    first = await search(plans.client, "Goal", me, patient=str(citizen_id), _count=2)
    assert first["total"] == 3 and len(first["entry"]) == 2
    assert "next" in links(first) and "previous" not in links(first)
    r = await plans.client.get(links(first)["next"], headers=me)
    second = r.json()
    assert r.status_code == 200 and len(second["entry"]) == 1 and "next" not in links(second)
    assert {e["resource"]["id"] for e in first["entry"] + second["entry"]} == set(goal_ids)

    achieved = await plans.client.patch(f"/api/v1/citizens/{citizen_id}/plan/goals/{goal_ids[1]}", headers=me,
                                        json={"status": "achieved"})
    assert achieved.status_code == 200, achieved.text
    done = await search(plans.client, "Goal", me, patient=str(citizen_id), status="completed")
    assert [e["resource"]["id"] for e in done["entry"]] == [goal_ids[1]]
    assert done["entry"][0]["resource"]["achievementStatus"]["coding"][0]["code"] == "achieved"
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert (await search(plans.client, "CarePlan", me, patient=str(citizen_id), _lastUpdated=f"ge{future}"))["total"] == 0
    assert (await search(plans.client, "CarePlan", me, patient=str(citizen_id), _lastUpdated=f"lt{future}"))["total"] == 1
    bad = await search(plans.client, "Goal", me, expected=400, patient=str(citizen_id), status="finished")
    assert "status must be one of" in refusal_text(bad)
    assert "patient=" in refusal_text(await search(plans.client, "Consent", me, expected=400))
    await search(plans.client, "Goal", me, expected=400, patient="Patient/not-a-uuid")
    await search(plans.client, "Goal", me, expected=400, patient=str(citizen_id), _count=101)
    await fhir_get(plans.client, "/fhir/r4/Goal/not-a-uuid", me, expected=404)


async def test_partners_read_what_the_consent_covers_and_scopes_narrow_every_role(plans, kafka):
    citizen_id, (goal_id,) = await a_plan_with_goals(plans, kafka)
    patient = f"Patient/{citizen_id}"
    them = partner(plans, scope="system/*.read")
    # Before any consent: the answer for a citizen without a plan (nothing tells the partner it exists).
    assert "no plan" in refusal_text(await search(plans.client, "CarePlan", them, expected=404, patient=patient))
    await fhir_get(plans.client, f"/fhir/r4/Goal/{goal_id}", them, expected=404)

    consent_id = await consent(plans, citizen_id, "plan")
    assert (await search(plans.client, "CarePlan", them, patient=patient))["total"] == 1
    assert (await fhir_get(plans.client, f"/fhir/r4/Goal/{goal_id}", them))["id"] == goal_id
    # The consent covers the plan, not the network nor the consents themselves (as in the REST API).
    await search(plans.client, "CareTeam", them, expected=404, patient=patient)
    await search(plans.client, "Consent", them, expected=404, patient=patient)
    # Another organisation: nothing.
    await search(plans.client, "CarePlan", partner(plans, "SOR:999999"), expected=404, patient=patient)
    # A partner token whose scopes do not name the type: 403 with what it needs.
    narrow = await search(plans.client, "CarePlan", partner(plans, scope="system/Encounter.read"), expected=403,
                          patient=patient)
    assert "system/CarePlan.read" in refusal_text(narrow)
    # Staff and the citizen: user/… and patient/… scopes, never another context's.
    await search(plans.client, "Goal", staff(plans, "k1") | plans.auth("coordinator", "orion-k1", botilbud="orion",
                                                                       scope="patient/*.read"), expected=403, patient=patient)
    assert (await search(plans.client, "Goal", plans.auth("coordinator", "orion-k1", botilbud="orion",
                                                          scope="user/Goal.read"), patient=patient))["total"] == 1

    # The citizen's consents read as Consent; revoked → inactive, and the partner's reads stop.
    consents = await search(plans.client, "Consent", citizen(plans, citizen_id))
    [entry] = consents["entry"]
    assert entry["resource"]["id"] == consent_id and entry["resource"]["status"] == "active"
    assert entry["resource"]["provision"]["actor"][0]["reference"]["identifier"]["value"] == PSYCHIATRY.removeprefix("SOR:")
    revoked = await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents/{consent_id}/revoke",
                                      headers=citizen(plans, citizen_id))
    assert revoked.status_code == 200, revoked.text
    after = await fhir_get(plans.client, f"/fhir/r4/Consent/{consent_id}", citizen(plans, citizen_id))
    assert after["status"] == "inactive" and after["provision"]["period"]["end"]
    assert (await search(plans.client, "Consent", staff(plans, "k1"), patient=patient, status="active"))["total"] == 0
    await search(plans.client, "CarePlan", them, expected=404, patient=patient)

    r = await plans.client.get("/fhir/r4/CarePlan", params={"patient": patient})
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    async with plans.ctx.sessions() as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id))).scalars().all()
    assert "plan.refused" in actions and "read-plan.denied" in actions  # the scope refusal, the consent refusal


async def test_metadata_declares_the_four_resources(plans):
    statement = await fhir_get(plans.client, "/fhir/r4/metadata", plans.auth("partner", "p", org=PSYCHIATRY))
    [rest] = statement["rest"]
    assert {r["type"] for r in rest["resource"]} == {"CarePlan", "Goal", "CareTeam", "Consent"}
    assert statement["fhirVersion"] == "4.0.1"
