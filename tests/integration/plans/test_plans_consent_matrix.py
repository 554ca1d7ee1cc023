"""Consent enforcement as a matrix: recipient × category × given/revoked, on real PostgreSQL and
Tansu. Decisions through the API, partners' reads through the API, and the consent events that other
services build their read models from."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from contracts.topics import PLANS
from services.plans.domain.consent import ConsentRecord, may_receive
from tests.integration.plans.conftest import citizen, form_network, open_plan, staff
from tests.support import json_body, read_topic
from tovholder.db import OutboxMessage

pytestmark = pytest.mark.integration

PSYCHIATRY = ("organisation", "SOR:1234567")  # Psykiatrisk Center København
GP = ("organisation", "SOR:4567890")  # Lægehuset Nørrebro
RELATIVES = ("group", "relatives")
RECIPIENTS = (PSYCHIATRY, GP, RELATIVES)
CATEGORIES = ("plan", "health", "safety-plan", "fit")
# What a partner organisation reads through the plans API under each category.
PARTNER_READS = {"plan": "plan", "safety-plan": "safety", "fit": "fit"}


async def decision(plans, citizen_id, recipient, category, at=None):
    params = {"recipient_kind": recipient[0], "recipient_id": recipient[1], "category": category}
    if at:
        params["at"] = at
    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/consents/decision", params=params,
                                      headers=staff(plans, "k1"))
    assert response.status_code == 200, response.text
    return response.json()


def partner(plans, org):
    return plans.auth("partner", sub=f"epj-{org}", org=org)


@pytest.mark.parametrize(("recipient", "category"), list(itertools.product(RECIPIENTS, CATEGORIES)))
async def test_consent_matrix(plans, kafka, recipient, category):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    await plans.client.put(f"/api/v1/citizens/{citizen_id}/safety/tryghedsplan", headers=staff(plans, "k1"),
                           json={"triggers": ["Larm"], "written_with_citizen": True})

    # Nothing is shared before consent.
    for r, c in itertools.product(RECIPIENTS, CATEGORIES):
        assert not (await decision(plans, citizen_id, r, c))["allowed"]

    given = await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents", headers=citizen(plans, citizen_id),
                                    json={"recipient_kind": recipient[0], "recipient_id": recipient[1],
                                          "recipient_name": "Modtager", "category": category})
    assert given.status_code == 201, given.text
    consent_id = given.json()["consent_id"]

    # Exactly the consented recipient × category is allowed.
    for r, c in itertools.product(RECIPIENTS, CATEGORIES):
        answer = await decision(plans, citizen_id, r, c)
        assert answer["allowed"] is ((r, c) == (recipient, category)), (r, c, answer)
        if answer["allowed"]:
            assert answer["basis"] == "consent" and answer["consent_id"] == consent_id

    # Partner organisations read through the API only what the consent covers.
    for org in (PSYCHIATRY, GP):
        for cat, path in PARTNER_READS.items():
            response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/{path}", headers=partner(plans, org[1]))
            # Without consent: the answer for a citizen without a plan (a refusal reveals no citizen).
            expected = 200 if (org, cat) == (recipient, category) else 404
            assert response.status_code == expected, (org, cat, response.text)

    revoked = await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents/{consent_id}/revoke",
                                      headers=staff(plans, "k1"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    given_at, revoked_at = given.json()["given_at"], revoked.json()["revoked_at"]

    # After the revocation nothing is allowed; what was shared before it stays lawful.
    for r, c in itertools.product(RECIPIENTS, CATEGORIES):
        assert not (await decision(plans, citizen_id, r, c))["allowed"]
    assert (await decision(plans, citizen_id, recipient, category, at=given_at))["allowed"]
    assert not (await decision(plans, citizen_id, recipient, category, at=revoked_at))["allowed"]
    if recipient[0] == "organisation" and category in PARTNER_READS:
        response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/{PARTNER_READS[category]}",
                                          headers=partner(plans, recipient[1]))
        assert response.status_code == 404

    # Revoking twice is a mistake, said plainly.
    twice = await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents/{consent_id}/revoke",
                                    headers=staff(plans, "k1"))
    assert twice.status_code == 422 and "allerede tilbagekaldt" in twice.json()["detail"]


async def test_consent_events_carry_what_a_read_model_needs_and_give_the_same_decisions(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/consents"
    given = (await plans.client.post(base, headers=staff(plans, "k1"),
                                     json={"recipient_kind": "organisation", "recipient_id": "SOR:1234567",
                                           "recipient_name": "Psykiatrisk Center København",
                                           "category": "safety-plan"})).json()
    twice = await plans.client.post(base, headers=staff(plans, "k1"),
                                    json={"recipient_kind": "organisation", "recipient_id": "SOR:1234567",
                                          "category": "safety-plan"})
    assert twice.status_code == 422 and "allerede dette samtykke" in twice.json()["detail"]
    revoked = (await plans.client.post(f"{base}/{given['consent_id']}/revoke",
                                       headers=citizen(plans, citizen_id))).json()

    def revoked_event(r):
        return (r["headers"].get("ce_type") == "tovholder.plans.consent-revoked.v1"
                and json_body(r)["consent_id"] == given["consent_id"])

    records = await read_topic(kafka, PLANS.name, until=revoked_event)
    mine = [r for r in records if r["key"] == str(citizen_id).encode()]
    given_body = next(json_body(r) for r in mine if r["headers"]["ce_type"] == "tovholder.plans.consent-given.v1")
    revoked_body = next(json_body(r) for r in mine if revoked_event(r))
    assert given_body["recipient_kind"] == "organisation" and given_body["recipient_id"] == "SOR:1234567"
    assert given_body["category"] == "safety-plan" and given_body["recorded_by"] == "orion-k1"
    assert revoked_body["recorded_by"] == str(citizen_id)

    # A read model built from the two events answers exactly like the registry.
    record = ConsentRecord(
        consent_id=given_body["consent_id"], recipient_kind=given_body["recipient_kind"],
        recipient_id=given_body["recipient_id"], category=given_body["category"],
        given_at=datetime.fromisoformat(given_body["given_at"]), given_by=given_body["recorded_by"],
        revoked_at=datetime.fromisoformat(revoked_body["revoked_at"]), revoked_by=revoked_body["recorded_by"])
    for at in (given["given_at"], revoked["revoked_at"], datetime.now(timezone.utc).isoformat()):
        ours = await decision(plans, citizen_id, ("organisation", "SOR:1234567"), "safety-plan", at=at)
        theirs = may_receive(recipient_kind="organisation", recipient_id="SOR:1234567", category="safety-plan",
                             at=datetime.fromisoformat(at), consents=[record])
        assert ours["allowed"] is theirs.allowed


async def test_hospital_notices_reach_no_partner_on_section_12c_and_the_registry_lists_that(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    answer = await decision(plans, citizen_id, ("organisation", "SOR:3456789"), "hospital-notice")
    assert not answer["allowed"] and answer["basis"] == "none"
    # Staff and the citizen read the reason in Danish.
    assert "§ 12 c giver ikke hjemmel til at dele indlæggelses- og udskrivningsbeskeder" in answer["reason"]
    listing = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/consents", headers=citizen(plans, citizen_id))).json()
    basis = next(b for b in listing["without_consent"] if b["category"] == "hospital-notice")
    assert basis["legal_basis"] == "retssikkerhedsloven § 12 c" and basis["recipients"] == []
    unknown = await plans.client.get(f"/api/v1/citizens/{citizen_id}/consents/decision", headers=staff(plans, "k1"),
                                     params={"recipient_kind": "group", "recipient_id": "relatives",
                                             "category": "diary"})
    assert unknown.status_code == 422 and "ukendt oplysningskategori" in unknown.json()["detail"]


async def test_a_partner_with_fit_consent_sees_only_the_scores_the_citizen_shared(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    for ors, shared in ((4, False), (7, True)):
        await plans.client.post(f"/api/v1/citizens/{citizen_id}/fit", headers=staff(plans, "n1"),
                                json={"held_at": datetime.now(timezone.utc).isoformat(), "ors": ors, "srs": 9,
                                      "shared_by_citizen": shared})
    await plans.client.post(f"/api/v1/citizens/{citizen_id}/consents", headers=citizen(plans, citizen_id),
                            json={"recipient_kind": "organisation", "recipient_id": "SOR:4567890", "category": "fit"})
    seen = await plans.client.get(f"/api/v1/citizens/{citizen_id}/fit", headers=partner(plans, "SOR:4567890"))
    assert seen.status_code == 200
    assert [s["ors"] for s in seen.json()["sessions"]] == [7]
    async with plans.ctx.sessions() as session:
        bodies = [json.loads(b) for b in await session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.subject == str(citizen_id),
                                             OutboxMessage.event_type == "tovholder.plans.fit-recorded.v2")
            .order_by(OutboxMessage.id))]
    assert [(b["shared"], b["ors"], b["srs"]) for b in bodies] == [(False, None, None), (True, 7.0, 9.0)]
