"""Who reads the citizen's ``Patient`` and what it carries (pure): the kit's consent decision for a partner,
the cases' rule for staff and the citizen. (The consent read model every service keeps from plans' events
is the kit's: tests/integration/kit/test_consent_read_model.py.)"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from fhir.resources.R4B.patient import Patient

from referrals_builders import placed_case
from services.referrals.domain.access import Actor, may_read_patient, sees_patient
from services.referrals.fhir.resources import patient
from tovholder.consent import Consent, Recipient
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM

AT = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
ORG = "SOR:1234567"


def consent(category: str = "fit", org: str = ORG, **kw) -> Consent:
    return Consent(str(uuid.uuid4()), Recipient.organisation(org), category, kw.pop("given_at", AT - timedelta(days=1)), **kw)


def test_a_partner_reads_the_patient_under_a_consent_to_it_of_any_category_in_force():
    assert may_read_patient([consent("fit")], ORG, AT).basis.startswith("consent ")
    assert may_read_patient([consent("health")], ORG, AT)
    assert not may_read_patient([], ORG, AT)
    assert not may_read_patient([consent(org="SOR:999")], ORG, AT)  # another organisation's
    assert not may_read_patient([consent(revoked_at=AT - timedelta(hours=1))], ORG, AT)  # revoked
    assert not may_read_patient([consent(given_at=AT + timedelta(hours=1))], ORG, AT)  # not yet given
    assert not may_read_patient([Consent("g", Recipient("group", "relatives"), "plan", AT - timedelta(days=1))], ORG, AT)


def test_staff_and_the_citizen_read_the_patient_on_the_cases_rule():
    case, _ = placed_case(municipality="København")
    cases = [case]
    assert sees_patient(Actor("v", "visitation", municipality="København"), cases)
    assert not sees_patient(Actor("v", "visitation", municipality="Aarhus"), cases)
    assert sees_patient(Actor("k", "coordinator", botilbud=case.botilbud_id), cases)
    assert not sees_patient(Actor("k", "coordinator", botilbud="elsewhere"), cases)
    assert sees_patient(Actor(str(case.citizen_id), "citizen"), cases)
    assert not sees_patient(Actor(str(uuid.uuid4()), "citizen"), cases)
    assert not sees_patient(Actor("n", "nurse-consultant", botilbud=case.botilbud_id), cases)
    assert not sees_patient(Actor("p", "partner", org=case.referrer.org), cases)  # the referrer: a referral is no consent
    assert not sees_patient(Actor("v", "visitation"), [])


def test_the_patient_never_carries_the_cpr_and_a_partner_gets_its_reference_not_the_birth_date():
    citizen = SimpleNamespace(id=uuid.uuid4(), name="Anne Jensen", birth_date=date(1987, 2, 22), municipality="København",
                              created_at=AT, cpr_hash="h" * 64, cpr_encrypted="gAAAA-secret")
    staff = patient(citizen).model_dump(mode="json", by_alias=True, exclude_none=True)
    Patient.model_validate(staff)
    assert staff["birthDate"] == "1987-02-22" and "identifier" not in staff
    assert staff["managingOrganization"] == {"type": "Organization", "display": "København"}
    partner = patient(citizen, reference="ref-1").model_dump(mode="json", by_alias=True, exclude_none=True)
    assert partner["identifier"] == [{"system": CITIZEN_REFERENCE_SYSTEM, "value": "ref-1"}] and "birthDate" not in partner
    assert partner["name"] == [{"use": "official", "text": "Anne Jensen"}]
    for body in (staff, partner):
        assert "secret" not in str(body) and "h" * 64 not in str(body) and "220287" not in str(body)
    bare = patient(SimpleNamespace(id=citizen.id, name="", birth_date=None, municipality=None, created_at=AT))
    assert bare.name is None and bare.birthDate is None and bare.managingOrganization is None  # nothing invented
