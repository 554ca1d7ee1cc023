"""The citizen as a FHIR ``Patient`` at referrals, on the real service, PostgreSQL and broker: what each
actor reads and is refused (as OperationOutcomes), a partner only while a consent of the citizen to its
organisation is in force (plans' consent events, from the broker), its own citizen reference as the only
identifier and as the only identifier search, every read in the citizen's Min log — and never the CPR
number in a partner's answer, a URL or a log line."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from contracts.plans import ConsentGivenV1, ConsentRevokedV1
from tests.fhir_support import fhir_get, refusal_text, search
from tests.integration.referrals.conftest import placed_citizen
from tests.support import eventually, publish_event
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration
ORG = "SOR:7654321"  # the partner the citizen consents to (not the referrer)
REFERRER = "SOR:1234567"
HOME = "birkely"
CPR = "2202874321"
CPR_FORMS = (CPR, f"{CPR[:6]}-{CPR[6:]}")
V = dict(role="visitation", sub="visitation-1")


def consent(citizen_id: str, consent_id: uuid.UUID, given_at: datetime, **kw) -> dict:
    return dict(citizen_id=citizen_id, consent_id=consent_id, recipient_kind="organisation", recipient_id=ORG,
                category="health", given_at=given_at, recorded_by="visitation-1", **kw)


async def test_patient_for_each_actor_a_partner_only_under_consent_and_never_the_cpr(referrals, kafka, caplog):
    caplog.set_level(logging.DEBUG)
    _, citizen_id = await placed_citizen(referrals, CPR, HOME, REFERRER)
    path = f"/fhir/r4/Patient/{citizen_id}"
    partner_answers: list[str] = []

    # Staff who see the citizen's case, and the citizen: name, birth date, municipality; no identifier, no CPR.
    for headers in (referrals.auth(**V), referrals.auth("coordinator", "birkely-k1", botilbud=HOME),
                    referrals.auth("citizen", citizen_id, scope="patient/*.read")):
        patient = await fhir_get(referrals.client, path, headers)
        assert patient["id"] == citizen_id and patient["name"] == [{"use": "official", "text": "Anne Jensen"}]
        assert patient["birthDate"] == "1987-02-22"
        assert "identifier" not in patient and not any(f in str(patient) for f in CPR_FORMS)
    own = await search(referrals.client, "Patient", referrals.auth("citizen", citizen_id))  # a citizen's own, no parameters
    assert [e["resource"]["id"] for e in own["entry"]] == [citizen_id]
    found = await search(referrals.client, "Patient", referrals.auth(**V), _id=citizen_id)
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == citizen_id

    # Staff who do not see the case, another citizen, an unknown citizen: the unknown Patient's 404.
    unknown = str(uuid.uuid4())
    for headers, target in ((referrals.auth("coordinator", "x-k1", botilbud="elsewhere"), citizen_id),
                            (referrals.auth("visitation", "v-aarhus", municipality="Aarhus"), citizen_id),
                            (referrals.auth("nurse-consultant", "birkely-n1", botilbud=HOME), citizen_id),
                            (referrals.auth("admin"), citizen_id),
                            (referrals.auth("citizen", str(uuid.uuid4())), citizen_id),
                            (referrals.auth(**V), unknown)):
        assert refusal_text(await fhir_get(referrals.client, f"/fhir/r4/Patient/{target}", headers, expected=404)) \
            == "No such Patient that you may read."
        await search(referrals.client, "Patient", headers, expected=404, _id=target)
    # Scopes narrow: a token that may read only CarePlans is told which scope Patient needs.
    assert "patient/Patient.read" in refusal_text(await fhir_get(
        referrals.client, path, referrals.auth("citizen", citizen_id, scope="patient/CarePlan.read"), expected=403))
    assert "Search Patient by _id" in refusal_text(await search(referrals.client, "Patient", referrals.auth(**V), expected=400))

    # A partner: the referrer and ORG, before any consent, and for an unknown or malformed id — one 403.
    partner = referrals.auth("partner", "lab", org=ORG, scope="system/*.read")
    refusals = set()
    for headers, target in ((partner, citizen_id), (partner, unknown), (partner, "not-an-id"),
                            (referrals.auth("partner", "pck", org=REFERRER), citizen_id)):
        r = await referrals.client.get(f"/fhir/r4/Patient/{target}", headers=headers)
        assert r.status_code == 403, r.text
        partner_answers.append(r.text)
        refusals.add(refusal_text(r.json()).replace(REFERRER, ORG))
    assert len(refusals) == 1 and "consent" in refusals.pop()

    # The citizen consents to share health information with ORG (plans' event, on the broker) → it reads.
    consent_id = uuid.uuid4()
    given = datetime.now(timezone.utc) - timedelta(minutes=1)
    await publish_event(kafka, ConsentGivenV1(**consent(citizen_id, consent_id, given)))

    async def readable():
        r = await referrals.client.get(path, headers=partner)
        return r if r.status_code == 200 else None

    r = await eventually(readable, timeout=30, message="the consent reaches referrals")
    partner_answers.append(r.text)
    patient = await fhir_get(referrals.client, path, partner)
    reference = referrals.ctx.cpr_vault().citizen_reference(ORG, citizen_id)
    assert patient["identifier"] == [{"system": CITIZEN_REFERENCE_SYSTEM, "value": reference}]
    assert patient["name"][0]["text"] == "Anne Jensen" and "birthDate" not in patient

    # Identifier search: the partner's own reference only.
    by_reference = await search(referrals.client, "Patient", partner, identifier=f"{CITIZEN_REFERENCE_SYSTEM}|{reference}")
    partner_answers.append(str(by_reference))
    assert [e["resource"]["id"] for e in by_reference["entry"]] == [citizen_id]
    other_org_ref = referrals.ctx.cpr_vault().citizen_reference(REFERRER, citizen_id)
    for value in (other_org_ref, "0" * 32):
        nothing = await search(referrals.client, "Patient", partner, identifier=f"{CITIZEN_REFERENCE_SYSTEM}|{value}")
        assert nothing["total"] == 0 and "entry" not in nothing
        partner_answers.append(str(nothing))
    # A CPR number in a URL is refused, without echoing it; staff have no reference to search by.
    for cpr_identifier in (f"urn:oid:1.2.208.176.1.2|{CPR}", CPR):
        refused = await search(referrals.client, "Patient", partner, expected=400, identifier=cpr_identifier)
        partner_answers.append(str(refused))
        assert "POST /integration/v1/citizen-references" in refusal_text(refused)
    assert "partner's own citizen reference" in refusal_text(await search(
        referrals.client, "Patient", referrals.auth(**V), expected=400, identifier=f"{CITIZEN_REFERENCE_SYSTEM}|{reference}"))
    # The searchset's links name what the partner sent (its reference), nothing more.
    assert {tuple(parse_qs(urlsplit(link["url"]).query)["identifier"]) for link in by_reference["link"]} \
        == {(f"{CITIZEN_REFERENCE_SYSTEM}|{reference}",)}

    # Revoked → refused again (the read), found no more (the search).
    await publish_event(kafka, ConsentRevokedV1(**consent(citizen_id, consent_id, given,
                                                          revoked_at=datetime.now(timezone.utc))))

    async def refused_again():
        r = await referrals.client.get(path, headers=partner)
        return r if r.status_code == 403 else None

    partner_answers.append((await eventually(refused_again, timeout=30, message="the revocation reaches referrals")).text)
    gone = await search(referrals.client, "Patient", partner, identifier=f"{CITIZEN_REFERENCE_SYSTEM}|{reference}")
    assert gone["total"] == 0
    partner_answers.append(str(gone))

    # The CPR number: in no partner answer, no audit entry, no log line of the service.
    assert not [a for a in partner_answers if any(f in a for f in CPR_FORMS)]
    async with referrals.ctx.sessions() as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.citizen_id == uuid.UUID(citizen_id)))).scalars().all()
    assert entries and not [e for e in entries if any(f in str(e.detail) for f in CPR_FORMS)]
    # (the test's own client logs the URLs it requests, through httpx: the kit's logging silences that logger)
    service_lines = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert not any(f in service_lines for f in CPR_FORMS)

    # Every read and refusal shows in the citizen's Min log, as personal data.
    r = await referrals.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=referrals.auth("citizen", citizen_id),
                                   params={"limit": 200})
    assert r.status_code == 200, r.text
    shown = [e for e in r.json()["entries"] if e["action"].startswith("citizen.")]
    audited = [e.action for e in entries if e.action.startswith("citizen.")]
    assert {"citizen.read", "citizen.list", "citizen.refused"} <= set(audited)
    assert sorted(e["action"] for e in shown) == sorted(audited)
    assert {e["category"] for e in shown} == {"Personoplysninger"}
    patient_rows = shown
    assert any(e["purpose"] == "Samarbejdspartneren læste oplysningerne med dit samtykke" for e in patient_rows)


async def test_patient_is_in_referrals_capability_statement_and_on_the_ingress(referrals):
    statement = await fhir_get(referrals.client, "/fhir/r4/metadata", referrals.auth(**V))
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert {p["name"] for p in patient["searchParam"]} == {"_id", "identifier", "_count"}
    assert [i["code"] for i in patient["interaction"]] == ["read", "search-type"]
