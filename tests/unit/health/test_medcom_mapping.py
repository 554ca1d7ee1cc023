"""MedCom HospitalNotification → the contract's hospital notice, without I/O: every example message of
the IG, every activity code (and its revise-/cancel- variants), death, and the acknowledgement."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from services.health.domain.hospital_notices import parse_code
from services.health.fhir.acknowledgement import FATAL, OK, acknowledgement, resend
from services.health.fhir.capability import Messaging, capability_statement
from services.health.fhir.medcom import ACTIVITY_CODE, PREFIXES, MedComRejected, message_uuid, read_hospital_notification

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "medcom"
EXPECTED = {"stin": "STIN", "re_stin": "RE_STIN", "an_stin": "AN_STIN", "stor": "STOR", "slor": "SLOR",
            "slhj_inpatient": "SLHJ", "mors_inpatient": "MORS", "staa": "STAA", "slhj_acute": "SLHJ",
            "mors_acute": "MORS", "stin_different_sender": "STIN", "stin_two_episodes": "STIN"}
STIN_HEADER = "b9b4818e-02de-4cc4-b418-d20cbc7b5404"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_example_message_of_the_ig_maps_onto_a_notice(name):
    message = read_hospital_notification(fixture(name))
    notice = message.notification
    assert notice["code"] == EXPECTED[name]
    parse_code(notice["code"])  # a code the domain knows
    assert notice["sender"]["org"] == "SOR:265161000016000" and notice["cpr"] == "2509479989"
    assert notice["hospital_episode_id"] == "bd481c38-a921-11ed-afa1-0242ac120002"
    assert (notice["replaces_message_id"] == str(message_uuid(STIN_HEADER))) == (name in ("re_stin", "an_stin"))


def with_activity(activity: str, *, deceased: bool = False) -> dict:
    """The STIN example saying ``activity`` (with what that activity needs in the Encounter)."""
    bundle = copy.deepcopy(fixture("stin"))
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    provenance, encounter = resources["Provenance"], resources["Encounter"]
    provenance["activity"]["coding"][0]["code"] = activity
    if activity.startswith(tuple(PREFIXES)):
        provenance["entity"] = [{"role": "revision" if activity.startswith("revise-") else "removal",
                                 "what": {"reference": "MessageHeader/g1affa53-c157-4080-abb0-8e681524f969"}}]
    encounter["period"]["end"] = "2022-12-07T12:00:00+02:00"
    encounter["extension"] = [{"url": "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                                      "medcom-hospitalnotifiation-leave-period-extension",
                               "valuePeriod": {"start": "2022-12-07T12:00:00+02:00", "end": "2022-12-07T12:00:00+02:00"}}]
    if deceased:
        resources["Patient"]["deceasedBoolean"] = True
    return bundle


@pytest.mark.parametrize("activity", sorted(ACTIVITY_CODE))
@pytest.mark.parametrize("prefix", ["", *PREFIXES])
def test_every_activity_and_its_revise_and_cancel_variants(activity, prefix):
    notice = read_hospital_notification(with_activity(prefix + activity)).notification
    assert notice["code"] == PREFIXES.get(prefix, "") + ACTIVITY_CODE[activity][0]
    if prefix:  # the earlier message by its MessageHeader.id (not a UUID here: mapped the same way every time)
        assert notice["replaces_message_id"] == str(message_uuid("g1affa53-c157-4080-abb0-8e681524f969"))


@pytest.mark.parametrize("activity,code", [("admit-inpatient", "MORS"), ("admit-emergency", "MORS"),
                                           ("revise-admit-inpatient", "RE_MORS"), ("cancel-admit-emergency", "AN_MORS")])
def test_death_is_an_admission_activity_with_patient_deceased(activity, code):
    assert read_hospital_notification(with_activity(activity, deceased=True)).notification["code"] == code


@pytest.mark.parametrize("change,words", [
    (lambda b: b["entry"][0]["resource"]["eventCoding"].update(code="care-communication-message"), "HospitalNotification"),
    (lambda b: b.update(type="collection"), "Bundle.type"),
    (lambda b: b["entry"][5]["resource"]["activity"]["coding"][0].update(code="new-message"), "Provenance.activity"),
    (lambda b: b["entry"][1]["resource"].update(identifier=[]), "CPR"),
    (lambda b: b["entry"][2]["resource"]["class"].update(code="AMB"), "Encounter.class"),
    (lambda b: b["entry"][5]["resource"].update(target=[{"reference": "MessageHeader/other"}]), "Provenance"),
])
def test_what_is_not_a_hospital_notification_says_what_to_fix(change, words):
    bundle = fixture("stin")
    change(bundle)
    with pytest.raises(MedComRejected) as refused:
        read_hospital_notification(bundle)
    assert words in refused.value.text
    assert refused.value.envelope.header_id in (STIN_HEADER, None)


def test_a_revision_without_the_earlier_message_is_refused():
    bundle = with_activity("revise-admit-inpatient")
    next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance")["resource"].pop("entity")
    with pytest.raises(MedComRejected, match="entity.what"):
        read_hospital_notification(bundle)


def test_acknowledgements_are_medcom_acknowledgements_and_a_resend_keeps_the_content():
    envelope = read_hospital_notification(fixture("stin")).envelope
    ok = acknowledgement(envelope, OK, base="http://127.0.0.1:8103/fhir/r4")
    Bundle.model_validate(ok)
    header = ok["entry"][0]["resource"]
    assert header["response"] == {"identifier": STIN_HEADER, "code": "ok"}
    assert header["destination"][0]["endpoint"] == "https://sor2.sum.dsdn.dk/#id=265161000016000"  # the sender's
    fatal = acknowledgement(envelope, FATAL, base="http://x/fhir/r4", text="what to fix", issue_code="invalid")
    outcome = fatal["entry"][1]["resource"]
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["details"]["text"] == "what to fix"
    assert fatal["entry"][0]["resource"]["response"]["details"]["reference"] == f"OperationOutcome/{outcome['id']}"
    again = resend(fatal)
    assert again["id"] != fatal["id"] and again["entry"][:2] == fatal["entry"][:2]


def test_the_duplicate_window_is_at_least_the_resend_timeout_plus_a_minute():
    with pytest.raises(ValueError, match="plus a minute"):
        Messaging(duplicate_window_s=1800, sender_resend_timeout_s=1800)
    statement = capability_statement("http://h/fhir/r4", Messaging(duplicate_window_s=1860, sender_resend_timeout_s=1800))
    assert statement["messaging"][0]["reliableCache"] == 31


@pytest.mark.parametrize("broken", [
    {"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": ["MessageHeader"]}}]},
    {"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": None}}]},
    {"resourceType": "Bundle", "type": "message", "entry": "all of them"},
    {"resourceType": "Bundle", "type": "message", "entry": [None, 7]},
])
def test_shapes_the_models_trip_over_are_refused_with_a_reason(broken):
    with pytest.raises(MedComRejected, match="not valid FHIR R4"):
        read_hospital_notification(broken)


def test_fhir_xml_is_read_by_the_models_and_never_expands_an_entity():
    from services.health.fhir.medcom import parse_xml

    xml = Bundle.model_validate_json((FIXTURES / "re_stin.json").read_text()).model_dump_xml()
    assert read_hospital_notification(parse_xml(xml)).notification["code"] == "RE_STIN"
    for hostile in (b'<!DOCTYPE b [<!ENTITY e SYSTEM "file:///etc/passwd">]><Bundle xmlns="http://hl7.org/fhir"/>',
                    b'<Bundle xmlns="http://hl7.org/fhir"><!ENTITY x "y"></Bundle>', b"<Bundle", b"\xff\xfe", b""):
        with pytest.raises(MedComRejected):
            parse_xml(hostile)
