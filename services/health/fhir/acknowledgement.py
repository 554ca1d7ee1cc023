"""The MedCom Acknowledgement message (``http://medcomfhir.dk/ig/acknowledgement``) that answers a
HospitalNotification, built as ``fhir.resources`` models.

``MessageHeader.response.identifier`` is the received MessageHeader.id, ``response.code`` ``ok`` /
``transient-error`` / ``fatal-error``, and for the errors ``response.details`` references an
``OperationOutcome`` whose text says what to do. The acknowledgement is sent by the organisation the
message was addressed to (its primary receiver) back to the sender.

MedCom's reliable messaging: a duplicate (the same MessageHeader.id) gets the same acknowledgement
content — the same MessageHeader (id, response) and OperationOutcome — in a new envelope (a new
``Bundle.id`` and new timestamps), see ``resend``.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from services.health.fhir.medcom import ACTIVITY_CODES, EAN_SYSTEM, ERROR_CODES, EVENT_CODES, SOR_SYSTEM, Envelope, OrgInfo
from tovholder.fhir import dump, issue, now_instant, operation_outcome

PROFILE = "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"
DESTINATION_USE = "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
USE_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"
OK, TRANSIENT, FATAL = "ok", "transient-error", "fatal-error"
# Who answers when the message named no receiver we could read.
TOVHOLDER = OrgInfo(sor=None, ean=None, name="Tovholder")
UNKNOWN_MESSAGE = "unknown"


def _organization(org: OrgInfo) -> dict[str, Any]:
    identifiers = [{"system": system, "value": value} for system, value in ((SOR_SYSTEM, org.sor), (EAN_SYSTEM, org.ean))
                   if value]
    return {"resourceType": "Organization", "id": str(uuid.uuid4()), **({"identifier": identifiers} if identifiers else {}),
            "name": org.name or (f"SOR {org.sor}" if org.sor else "unknown sender")}


def _narrative(text: str) -> dict[str, str]:
    from html import escape

    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></div>'}


def acknowledgement(envelope: Envelope, code: str, *, base: str, text: str | None = None, issue_code: str = "processing",
                    expression: str | None = None, error_code: str | None = None) -> dict[str, Any]:
    """The acknowledgement Bundle as FHIR JSON (validated by the models on the way); ``base`` is the
    FHIR base URL its entries' fullUrls start with."""
    answered = envelope.header_id or UNKNOWN_MESSAGE
    us = _organization(envelope.receiver or TOVHOLDER)
    them = _organization(envelope.sender or OrgInfo(sor=None, ean=None, name=None))
    header_id, provenance_id, outcome_id = (str(uuid.uuid4()) for _ in range(3))
    now = now_instant()
    header: dict[str, Any] = {
        "resourceType": "MessageHeader", "id": header_id,
        "meta": {"profile": [PROFILE + "medcom-messaging-acknowledgementHeader"]},
        "text": _narrative(f"Acknowledgement ({code}) of message {answered}"),
        "eventCoding": {"system": EVENT_CODES, "code": "acknowledgement-message"},
        "destination": [{
            "extension": [{"url": DESTINATION_USE, "valueCoding": {"system": USE_CODES, "code": "primary"}}],
            "endpoint": envelope.source_endpoint or "urn:medcom:unknown-endpoint",
            "receiver": {"reference": f"Organization/{them['id']}"},
        }],
        "sender": {"reference": f"Organization/{us['id']}"},
        "source": {"endpoint": envelope.destination_endpoint or base},
        "response": {"identifier": answered, "code": code},
    }
    resources: list[dict[str, Any]] = [header]
    if code != OK:
        outcome = operation_outcome(issue(text or code, code=issue_code, expression=expression,
                                          coding={"system": ERROR_CODES, "code": error_code} if error_code else None),
                                    id=outcome_id)
        header["response"]["details"] = {"reference": f"OperationOutcome/{outcome_id}"}
        resources.append(dump(outcome))
    provenance: dict[str, Any] = {
        "resourceType": "Provenance", "id": provenance_id,
        "target": [{"reference": f"MessageHeader/{header_id}"}],
        "occurredDateTime": now, "recorded": now,
        "activity": {"coding": [{"system": ACTIVITY_CODES, "code": "acknowledgement"}]},
        "agent": [{"who": {"reference": f"Organization/{us['id']}"}}],
    }
    if envelope.header_id:
        provenance["entity"] = [{"role": "revision", "what": {"reference": f"MessageHeader/{envelope.header_id}"}}]
    resources += [provenance, us, them]
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "id": str(uuid.uuid4()),
        "meta": {"profile": [PROFILE + "medcom-messaging-acknowledgement"]},
        "type": "message", "timestamp": now,
        "entry": [{"fullUrl": f"{base.rstrip('/')}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    })
    return dump(bundle)


def resend(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored acknowledgement for a duplicate: the same content in a new envelope."""
    again = copy.deepcopy(stored)
    now = now_instant()
    again["id"], again["timestamp"] = str(uuid.uuid4()), now
    for entry in again.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Provenance":
            resource["occurredDateTime"] = resource["recorded"] = now
    return again


def response_of(ack: dict[str, Any]) -> dict[str, Any]:
    """``MessageHeader.response`` of an acknowledgement."""
    return ack["entry"][0]["resource"]["response"]
