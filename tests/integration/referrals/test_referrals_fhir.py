"""Referrals' FHIR R4 read API on the real service: a referral as ServiceRequest and a placement as
EpisodeOfCare (status history, the botilbud, the network as team), on the case's access rule, with
SMART scopes, paging and OperationOutcome refusals; every answer validated with fhir.resources."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.referrals.services import today
from tests.fhir_support import fhir_get, links, refusal_text, search
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration
ORG = "SOR:1234567"
V = dict(role="visitation", sub="visitation-1")


async def test_a_referral_and_its_placement_read_as_service_request_and_episode_of_care(referrals):
    r = await referrals.client.put("/api/v1/offers/solgaarden", json=offer_body("solgaarden"), headers=referrals.auth("admin"))
    assert r.status_code == 200, r.text
    sender = referrals.auth("partner", "pck", org=ORG, scope="system/*.read")
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr="0103854321", org=ORG,
                                    citizen_wishes="Jeg vil bo tæt på min søster"), headers=sender)
    assert r.status_code == 202, r.text
    rid = r.json()["referral_id"]

    request = await fhir_get(referrals.client, f"/fhir/r4/ServiceRequest/{rid}", sender)
    assert request["status"] == "active" and request["intent"] == "order"
    assert request["requester"]["identifier"]["value"] == ORG.removeprefix("SOR:")
    assert request["reasonCode"][0]["text"].startswith("Udskrives snart")
    citizen_id = request["subject"]["reference"].removeprefix("Patient/")
    # No place granted yet: no EpisodeOfCare.
    await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", referrals.auth(**V), expected=404)

    visitation = referrals.auth(**V)
    assert (await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT, headers=visitation)).status_code == 200
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/decision", headers=visitation, json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": "solgaarden",
        "reason": "Borgeren har brug for døgnstøtte.", "start_date": today().isoformat()})
    assert r.status_code == 200, r.text
    assert (await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", visitation))["status"] == "planned"
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/move-in", headers=visitation,
                                    json={"moved_in_on": today().isoformat()})
    assert r.status_code == 200, r.text

    episode = await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", visitation)
    assert episode["status"] == "active" and episode["patient"]["reference"] == f"Patient/{citizen_id}"
    assert [h["status"] for h in episode["statusHistory"]] == ["planned", "active"]
    assert episode["managingOrganization"]["identifier"]["value"] == "solgaarden"
    assert episode["team"][0]["reference"] == f"CareTeam/{citizen_id}"
    assert episode["referralRequest"] == [{"reference": f"ServiceRequest/{rid}"}]

    # Search: the botilbud's coordinator, the citizen; paging over the two types; status filters.
    coordinator = referrals.auth("coordinator", "solgaarden-k1", botilbud="solgaarden")
    found = await search(referrals.client, "EpisodeOfCare", coordinator, patient=f"Patient/{citizen_id}", status="active")
    assert found["total"] == 1 and "next" not in links(found)
    own = await search(referrals.client, "ServiceRequest", referrals.auth("citizen", citizen_id, scope="patient/*.read"))
    assert own["total"] == 1 and own["entry"][0]["resource"]["status"] == "completed"
    assert (await search(referrals.client, "ServiceRequest", visitation, patient=citizen_id, status="revoked"))["total"] == 0
    assert "status must be one of" in refusal_text(
        await search(referrals.client, "EpisodeOfCare", visitation, expected=400, patient=citizen_id, status="done"))

    # Others: the unknown case's answer; scopes narrow; a list shows nothing a single read would refuse.
    other = referrals.auth("partner", "x", org="SOR:999", scope="system/*.read")
    await fhir_get(referrals.client, f"/fhir/r4/ServiceRequest/{rid}", other, expected=404)
    assert (await search(referrals.client, "ServiceRequest", other, patient=citizen_id))["total"] == 0
    narrow = referrals.auth("partner", "pck", org=ORG, scope="system/CarePlan.read")
    assert "system/ServiceRequest.read" in refusal_text(
        await fhir_get(referrals.client, f"/fhir/r4/ServiceRequest/{rid}", narrow, expected=403))
    await fhir_get(referrals.client, f"/fhir/r4/ServiceRequest/{rid}", referrals.auth("nurse-consultant", "n"), expected=404)
    async with referrals.ctx.sessions() as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.object_id == rid))).scalars().all()
    assert {"referral.read", "referral.list", "referral.refused"} <= set(actions)
