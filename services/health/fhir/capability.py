"""Health's FHIR ``CapabilityStatement``: MedCom HospitalNotification messaging in (with the duplicate
window of MedCom's reliable messaging) and the ``Encounter`` read API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from services.health.fhir.encounter import STATUSES
from services.health.fhir.medcom import ACTIVITIES
from tovholder.fhir import (ACCESS_DOCUMENTATION, COUNT_PARAM, FHIR_JSON, FHIR_VERSION, LAST_UPDATED_PARAM, PATIENT_PARAM,
                            SUBJECT_PARAM, capability_resource, dump, status_param)

HOSPITAL_NOTIFICATION_PROFILE = ("http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                                 "medcom-hospitalNotification-message")
ENCOUNTER = capability_resource(
    "Encounter",
    "A hospital stay, from the MedCom HospitalNotifications about it. A partner organisation reads a citizen's stays "
    "only while the citizen's consent for 'health' to it is in force (403 OperationOutcome otherwise).",
    (PATIENT_PARAM, SUBJECT_PARAM, status_param(STATUSES), LAST_UPDATED_PARAM, COUNT_PARAM))


@dataclass(frozen=True)
class Messaging:
    """MedCom reliable messaging as this installation runs it (``HealthSettings``)."""

    duplicate_window_s: int  # a MessageHeader.id seen within this long gets the same acknowledgement
    sender_resend_timeout_s: int  # MedCom: a sender resends after 30 minutes without an acknowledgement

    def __post_init__(self) -> None:
        if self.duplicate_window_s < self.sender_resend_timeout_s + 60:
            raise ValueError(
                f"the duplicate window ({self.duplicate_window_s} s) must be at least the senders' resend timeout "
                f"({self.sender_resend_timeout_s} s) plus a minute (MedCom reliable messaging)")

    @property
    def window_minutes(self) -> int:
        return self.duplicate_window_s // 60


def capability_statement(base: str, messaging: Messaging) -> dict[str, Any]:
    statement = CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "software": {"name": "Tovholder health"},
        "implementation": {"description": "Tovholder health: the tovholder's hospital notices and stays", "url": base},
        "rest": [{
            "mode": "server",
            "documentation": ACCESS_DOCUMENTATION,
            "resource": [ENCOUNTER],
            "operation": [{"name": "process-message",
                           "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"}],
        }],
        "messaging": [{
            "endpoint": [{"protocol": {"system": "http://terminology.hl7.org/CodeSystem/message-transport",
                                       "code": "http"},
                          "address": f"{base.rstrip('/')}/$process-message"}],
            "reliableCache": messaging.window_minutes,
            "documentation": (
                "Receives MedCom HospitalNotification (IG 3.0) messages synchronously and answers each with a MedCom "
                "Acknowledgement (ok; fatal-error with an OperationOutcome; transient-error as HTTP 503 with "
                f"Retry-After). Duplicates: a MessageHeader.id received within {messaging.window_minutes} minutes "
                f"(reliableCache; at least the senders' resend timeout of {messaging.sender_resend_timeout_s // 60} "
                "minutes plus one) gets the same acknowledgement content in a new envelope and has no second effect. "
                "The sender Organization's SOR identifier must be the token's org (SOR:<id>). Activities: "
                + ", ".join(ACTIVITIES) + "; a death is admit-… with Patient.deceased."),
            "supportedMessage": [{"mode": "receiver", "definition": HOSPITAL_NOTIFICATION_PROFILE}],
        }],
    })
    return dump(statement)
