"""One FHIR base URL: the portal forwards /fhir/r4/<Type>… to the service that owns the type (the four
services running in-process on the real PostgreSQL and broker), with the caller's token, and serves
one merged CapabilityStatement; an unknown type goes nowhere (no open proxy)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.fhir_support import links, valid
from tests.integration.plans.conftest import citizen, form_network, open_plan, staff
from tests.integration.portal.conftest import portal_settings, run_portal
from tests.support import NoBroker, run_service
from tovholder.fhir import OWNERS

pytestmark = [pytest.mark.integration]
ORG = "SOR:1234567"


async def test_the_portal_is_one_fhir_base_for_every_owner(pg, kafka, state_dir):
    # One state directory, as `make run` has: one development signing key, so one token is good everywhere.
    quiet = NoBroker()
    async with run_service("plans", pg=pg, kafka=kafka, state_dir=state_dir) as plans, \
            run_service("referrals", pg=pg, kafka=quiet, state_dir=state_dir, wait=False) as referrals, \
            run_service("health", pg=pg, kafka=quiet, state_dir=state_dir, wait=False) as health, \
            run_service("notifications", pg=pg, kafka=quiet, state_dir=state_dir, wait=False) as notes:
        apps = {"plans": plans.app, "referrals": referrals.app, "health": health.app, "notifications": notes.app}
        async with run_portal(portal_settings(pg, state_dir), apps=apps) as portal:
            fhir = {"Accept": "application/fhir+json"}
            coordinator = {**fhir, **staff(plans, "k1")}

            # One CapabilityStatement naming every type, health's operation and its messaging.
            r = await portal.client.get("/fhir/r4/metadata", headers=coordinator)
            assert r.status_code == 200, r.text
            statement = valid(r.json(), "CapabilityStatement")
            assert {res["type"] for res in statement["rest"][0]["resource"]} == {t for t in OWNERS if t[0] != "$"}
            assert statement["messaging"][0]["reliableCache"] >= 31
            assert statement["implementation"]["url"] == "https://portal.test/fhir/r4"
            r = await portal.client.get("/fhir/r4/metadata")
            assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"

            # plans: the search and its links come back through the portal's base.
            citizen_id = await open_plan(kafka, plans)
            await form_network(plans, citizen_id)
            goal = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/goals", headers=citizen(plans, citizen_id),
                                           json={"text": "Jeg vil lave mad selv", "written_with_citizen": True})
            assert goal.status_code == 201, goal.text
            r = await portal.client.get("/fhir/r4/Goal", params={"patient": f"Patient/{citizen_id}", "_count": 1},
                                        headers=coordinator)
            assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json"), r.text
            bundle = valid(r.json(), "Bundle")
            assert bundle["entry"][0]["fullUrl"] == f"https://portal.test/fhir/r4/Goal/{goal.json()['goal_id']}"
            assert links(bundle)["self"].startswith("https://portal.test/fhir/r4/Goal?")
            r = await portal.client.get(f"/fhir/r4/Goal/{goal.json()['goal_id']}", headers=coordinator)
            assert r.status_code == 200 and valid(r.json(), "Goal")["description"]["text"] == "Jeg vil lave mad selv"
            # The owner decides access with the caller's own token: refusals are the owner's OperationOutcomes.
            r = await portal.client.get(f"/fhir/r4/CareTeam/{citizen_id}", headers={**fhir, **plans.auth("partner", "p", org=ORG)})
            assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
            r = await portal.client.get(f"/fhir/r4/CarePlan?patient={citizen_id}")
            assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"

            # referrals: the partner reads the referral it sent.
            sent = await referrals.client.post("/integration/v1/referrals", headers=referrals.auth("partner", "p", org=ORG), json={
                "message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                "sender": {"org": ORG, "name": "Psykiatrisk Center"}, "cpr": "0101904499", "citizen_name": "Ida Holm",
                "reason": "Har brug for et trygt sted at bo", "requested_step": 7, "requested_offer": "SEL §108"})
            assert sent.status_code == 202, sent.text
            r = await portal.client.get(f"/fhir/r4/ServiceRequest/{sent.json()['referral_id']}",
                                        headers={**fhir, **referrals.auth("partner", "p", org=ORG, scope="system/*.read")})
            assert r.status_code == 200, r.text
            request = valid(r.json(), "ServiceRequest")
            assert request["requester"]["identifier"]["value"] == "1234567" and request["status"] == "active"
            # … and its subject resolves: the Patient (visitation reads it; the referrer, without a consent, may not).
            subject = request["subject"]["reference"]
            r = await portal.client.get(f"/fhir/r4/{subject}", headers={**fhir, **referrals.auth("visitation", "v1")})
            assert r.status_code == 200, r.text
            assert valid(r.json(), "Patient")["name"][0]["text"] == "Ida Holm" and "0101904499" not in r.text
            r = await portal.client.get(f"/fhir/r4/{subject}", headers={**fhir, **referrals.auth("partner", "p", org=ORG)})
            assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome" and "0101904499" not in r.text

            # health and notifications answer their types.
            r = await portal.client.get("/fhir/r4/Encounter", params={"patient": str(citizen_id)},
                                        headers={**fhir, **health.auth("admin", "admin-1")})
            assert r.status_code in (403, 404) and r.json()["resourceType"] == "OperationOutcome"  # health's own refusal
            r = await portal.client.get("/fhir/r4/Task", params={"patient": str(citizen_id)}, headers=coordinator)
            assert r.status_code == 200 and valid(r.json(), "Bundle")["total"] == 0

            # A MedCom message goes to health with its body (streamed); health's acknowledgement comes back.
            hospital = {"Content-Type": "application/fhir+json", **health.auth("partner", "epj", org=ORG)}
            r = await portal.client.post("/fhir/r4/$process-message", headers=hospital,
                                         content=b'{"resourceType": "Bundle", "type": "message"}')
            assert r.status_code == 422 and r.headers["content-type"].startswith("application/fhir+json"), r.text
            ack = valid(r.json(), "Bundle")
            assert ack["entry"][0]["resource"]["response"]["code"] == "fatal-error"

            # No open proxy: an unknown type, or a path that tries to leave /fhir/r4, goes nowhere.
            for path in ("/fhir/r4/Practitioner/1", "/fhir/r4/..%2Fapi%2Fv1%2Fcitizens", "/fhir/r4/http:%2F%2Fexample.org",
                         f"/fhir/r4/CareTeam/..%2F..%2Fapi%2Fv1%2Fcitizens%2F{citizen_id}%2Fnetwork",
                         f"/fhir/r4/Goal/x%3Fpatient%3D{citizen_id}"):
                r = await portal.client.get(path, headers=coordinator)
                assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome", (path, r.text)
            r = await portal.client.post("/fhir/r4/CarePlan", headers={**coordinator, "Content-Type": "application/fhir+json"},
                                         content=b"{}")
            assert r.status_code == 405 and r.json()["resourceType"] == "OperationOutcome"
