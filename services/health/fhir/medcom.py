"""MedCom HospitalNotification (IG 3.0, ``http://medcomfhir.dk/ig/hospitalnotification``) → the
hospital notice of the external contract's section 1, and nothing else.

The Bundle is validated by ``fhir.resources`` (R4 models; see ``tovholder.fhir``); this module only
reads the validated models and applies MedCom's rules on top:

- ``entry[0]`` is the ``MessageHeader`` with event ``hospital-notification-message``; its ``sender``
  is an ``Organization`` in the Bundle with a SOR identifier (``urn:oid:1.2.208.176.1.1``): the sender
  is ``SOR:<id>``, which must be the caller's token ``org``;
- exactly one ``Patient`` with a CPR identifier (``urn:oid:1.2.208.176.1.2``);
- ``MessageHeader.focus`` is the ``Encounter``: its episode-of-care identifier is the hospital episode
  (the sender's own identifier when there are several, e.g. also the LPR3 one), its
  ``serviceProvider`` the department;
- the ``Provenance`` whose ``target`` is this MessageHeader carries the activity (the others are the
  history of earlier messages); ``revise-…``/``cancel-…`` name the earlier ``MessageHeader`` in
  ``entity.what``.

A MessageHeader.id is a UUID in MedCom's rules; the IG's own examples also use ids that are not (e.g.
``g1affa53-…``), so a non-UUID id maps to a UUID deterministically (``uuid5``): the same id always
names the same notice, also when a correction refers to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance
from pydantic import ValidationError

EVENT_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
ACTIVITY_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"
ERROR_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes"
HOSPITAL_NOTIFICATION = "hospital-notification-message"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
EAN_SYSTEM = "urn:oid:1.3.88"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
LPR3_SYSTEM = "https://www.esundhed.dk/Registre/Landspatientregisteret"
LEAVE_PERIOD = "medcom-hospitalnotifiation-leave-period-extension"  # sic, the IG's extension id
ENCOUNTER_CLASSES = {"IMP": "inpatient", "EMER": "emergency"}
ENCOUNTER_STATUSES = {"in-progress", "onleave", "finished", "entered-in-error"}

# A MessageHeader.id that is not a UUID becomes this uuid5 (stable: corrections refer to the same id).
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1d2c3e-8f0a-5b9e-9c61-4d2a7e3b1f00")

# The activity → the contract's base code and which Encounter time is the moment it happened.
# Death has no activity of its own in IG 3.0: the activity stays admit-… and Patient.deceased is set.
ACTIVITY_CODE = {
    "admit-inpatient": ("STIN", "period.start"),
    "admit-emergency": ("STAA", "period.start"),
    "start-leave-inpatient": ("STOR", "leave.start"),
    "end-leave-inpatient": ("SLOR", "leave.end"),
    "discharge-inpatient-home": ("SLHJ", "period.end"),
    "discharge-emergency-home": ("SLHJ", "period.end"),
}
PREFIXES = {"revise-": "RE_", "cancel-": "AN_"}
ACTIVITIES = sorted([*ACTIVITY_CODE, *(p + a for p in PREFIXES for a in ACTIVITY_CODE)])


@dataclass(frozen=True)
class OrgInfo:
    """An Organization of the message as the acknowledgement repeats it."""

    sor: str | None
    ean: str | None
    name: str | None

    @property
    def org(self) -> str | None:
        return f"SOR:{self.sor}" if self.sor else None


@dataclass
class Envelope:
    """What an acknowledgement needs of the received message (as much as could be read)."""

    header_id: str | None = None
    sender: OrgInfo | None = None
    receiver: OrgInfo | None = None
    source_endpoint: str | None = None
    destination_endpoint: str | None = None


class MedComRejected(Exception):
    """The message cannot be accepted as sent (a fatal-error acknowledgement)."""

    def __init__(self, text: str, *, code: str = "invalid", expression: str | None = None,
                 error_code: str | None = None, envelope: Envelope | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code  # OperationOutcome.issue.code
        self.expression = expression
        self.error_code = error_code  # medcom-acknowledgement-error-codes
        self.envelope = envelope or Envelope()


@dataclass
class HospitalNotificationMessage:
    envelope: Envelope
    message_id: uuid.UUID
    activity: str
    replaces_header_id: str | None = None  # the earlier MessageHeader.id a revise-/cancel- names
    notification: dict[str, Any] = field(default_factory=dict)  # the body of POST /integration/v1/hospital-notifications


def message_uuid(header_id: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(header_id)
        if str(parsed) == header_id.lower():
            return parsed
    except ValueError:
        pass
    return uuid.uuid5(MESSAGE_ID_NAMESPACE, header_id)


def _where(loc: tuple[Any, ...]) -> str:
    return "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


class _Index:
    """The Bundle's entries, found by a Reference as MedCom writes them (``Type/id`` or a fullUrl)."""

    def __init__(self, bundle: Bundle) -> None:
        self.by_url: dict[str, Any] = {}
        self.by_type_id: dict[str, Any] = {}
        for entry in bundle.entry or []:
            resource = entry.resource
            if resource is None:
                continue
            if entry.fullUrl:
                self.by_url[str(entry.fullUrl)] = resource
            if resource.id:
                self.by_type_id[f"{resource.get_resource_type()}/{resource.id}"] = resource

    def resolve(self, reference: Any, kind: type) -> Any:
        ref = getattr(reference, "reference", None)
        if not ref:
            return None
        ref = str(ref)
        found = self.by_url.get(ref) or self.by_type_id.get(ref)
        if found is None and "/" in ref:
            found = self.by_type_id.get("/".join(ref.rstrip("/").split("/")[-2:]))
        return found if isinstance(found, kind) else None


def _org_info(org: Organization | None) -> OrgInfo | None:
    if org is None:
        return None
    ids = {str(i.system): i.value for i in org.identifier or [] if i.system and i.value}
    return OrgInfo(sor=ids.get(SOR_SYSTEM), ean=ids.get(EAN_SYSTEM), name=org.name)


def _peek_envelope(raw: Any) -> Envelope:
    """The envelope of a message the Bundle model refused: entry[0] and its organisations, each
    validated on its own, so the acknowledgement can still name the message and its sender."""
    envelope = Envelope()
    entries = raw.get("entry") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        return envelope
    try:
        header = MessageHeader.model_validate(entries[0].get("resource"))
    except (ValidationError, TypeError, ValueError, KeyError, AttributeError):
        return envelope
    envelope.header_id = header.id
    orgs: dict[str, Organization] = {}
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Organization":
            try:
                org = Organization.model_validate(resource)
            except (ValidationError, TypeError, ValueError, KeyError, AttributeError):
                continue
            orgs[f"Organization/{org.id}"] = org
            if isinstance(entry.get("fullUrl"), str):
                orgs[entry["fullUrl"]] = org

    def org_of(ref: Any) -> OrgInfo | None:
        key = str(getattr(ref, "reference", "") or "")
        return _org_info(orgs.get(key) or orgs.get("/".join(key.split("/")[-2:])))

    envelope.sender = org_of(header.sender)
    if header.destination:
        envelope.receiver = org_of(header.destination[0].receiver)
        envelope.destination_endpoint = str(header.destination[0].endpoint) if header.destination[0].endpoint else None
    envelope.source_endpoint = str(header.source.endpoint) if header.source and header.source.endpoint else None
    return envelope


def parse_xml(body: bytes) -> Any:
    """An ``application/fhir+xml`` Bundle as the JSON value ``read_hospital_notification`` reads (the
    models parse the XML). FHIR XML never needs a DTD: one is refused before parsing, so no entity is
    ever expanded or fetched (XXE, entity bombs)."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise MedComRejected("The XML has a DOCTYPE or ENTITY declaration; FHIR XML has none. Send the Bundle "
                             "without them.", code="security", expression="Bundle")
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        bundle = Bundle.model_validate_xml(body, xmlparser=parser)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:10])
        raise MedComRejected(f"The Bundle is not valid FHIR R4: {problems}.", code="structure", expression="Bundle",
                             error_code="MSG_Datatype_Wrong") from None
    except Exception:  # lxml's and the models' many ways of refusing a document
        raise MedComRejected("The body is not a FHIR R4 Bundle in XML (http://hl7.org/fhir namespace), or not "
                             "well-formed XML.", code="structure", expression="Bundle",
                             error_code="MSG_Datatype_Wrong") from None
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)


def to_xml(resource: dict[str, Any]) -> bytes:
    """A Bundle (FHIR JSON) as FHIR XML, written by the models."""
    return Bundle.model_validate(resource).model_dump_xml()


def parse_bundle(raw: Any) -> Bundle:
    """The Bundle model of parsed JSON, or MedComRejected naming the element that is wrong."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise MedComRejected("The body is not a FHIR Bundle: send the HospitalNotification message as a Bundle "
                             "of type 'message' (resourceType 'Bundle').", code="structure", expression="Bundle")
    try:
        return Bundle.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:10])
        first = _where(tuple(exc.errors()[0]["loc"])) if exc.errors() else "Bundle"
        raise MedComRejected(f"The Bundle is not valid FHIR R4: {problems}.", code="structure", expression=first,
                             error_code="MSG_Datatype_Wrong", envelope=_peek_envelope(raw)) from None
    except (TypeError, KeyError, AttributeError, ValueError):
        # The models trip over some shapes instead of reporting them (e.g. a resourceType that is not a string).
        raise MedComRejected("The Bundle is not valid FHIR R4: an element has the wrong type (check that every "
                             "resource has a string resourceType and every element the type FHIR R4 gives it).",
                             code="structure", expression="Bundle", error_code="MSG_Datatype_Wrong",
                             envelope=_peek_envelope(raw)) from None


def _moment(encounter: Encounter, which: str, activity: str, envelope: Envelope) -> datetime:
    if which.startswith("period."):
        value = getattr(encounter.period, which.split(".")[1], None) if encounter.period else None
        where = f"Encounter.{which}"
    else:
        leave = next((x.valuePeriod for x in encounter.extension or []
                      if x.url and str(x.url).endswith(LEAVE_PERIOD) and x.valuePeriod), None)
        value = getattr(leave, which.split(".")[1], None) if leave else None
        where = f"Encounter.extension('{LEAVE_PERIOD}').valuePeriod.{which.split('.')[1]}"
    if not isinstance(value, datetime):
        raise MedComRejected(f"{where} is missing; the activity '{activity}' needs it as the time of the event.",
                             code="required", expression=where, envelope=envelope)
    return value


def _episode(encounter: Encounter, envelope: Envelope) -> str:
    """The sender's episode-of-care identifier (the local one before the national LPR3 one)."""
    identifiers = [eoc.identifier for eoc in encounter.episodeOfCare or [] if eoc.identifier and eoc.identifier.value]
    if not identifiers:
        raise MedComRejected("Encounter.episodeOfCare.identifier is missing; a HospitalNotification names the "
                             "hospital stay's episode of care.", code="required",
                             expression="Encounter.episodeOfCare.identifier", envelope=envelope)
    chosen = next((i for i in identifiers if str(i.system or "") != LPR3_SYSTEM), identifiers[0])
    return str(chosen.value).removeprefix("urn:uuid:")


def read_hospital_notification(raw: Any) -> HospitalNotificationMessage:
    """A parsed JSON body → the notice it carries, or MedComRejected with what to fix."""
    bundle = parse_bundle(raw)
    envelope = Envelope()
    if bundle.type != "message":
        raise MedComRejected(f"Bundle.type is {bundle.type!r}; a HospitalNotification is a Bundle of type 'message'.",
                             code="structure", expression="Bundle.type")
    entries = bundle.entry or []
    header = entries[0].resource if entries else None
    if not isinstance(header, MessageHeader):
        raise MedComRejected("Bundle.entry[0] is not a MessageHeader; a MedCom message starts with its MessageHeader.",
                             code="structure", expression="Bundle.entry[0].resource")
    index = _Index(bundle)
    envelope.header_id = header.id
    envelope.sender = _org_info(index.resolve(header.sender, Organization))
    if header.destination:
        envelope.receiver = _org_info(index.resolve(header.destination[0].receiver, Organization))
        envelope.destination_endpoint = str(header.destination[0].endpoint) if header.destination[0].endpoint else None
    envelope.source_endpoint = str(header.source.endpoint) if header.source and header.source.endpoint else None
    if not header.id:
        raise MedComRejected("MessageHeader.id is missing; every MedCom message has a globally unique id.",
                             code="required", expression="MessageHeader.id", envelope=envelope)

    event = header.eventCoding
    if event is None or event.code != HOSPITAL_NOTIFICATION or str(event.system or "") != EVENT_CODES:
        got = f"{event.system}#{event.code}" if event is not None else "no eventCoding"
        raise MedComRejected(
            f"This endpoint receives MedCom HospitalNotification messages only (MessageHeader.eventCoding "
            f"{EVENT_CODES}#{HOSPITAL_NOTIFICATION}); this message has {got}.",
            code="not-supported", expression="MessageHeader.eventCoding",
            error_code="MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", envelope=envelope)
    if envelope.sender is None or not envelope.sender.sor:
        raise MedComRejected("MessageHeader.sender must reference an Organization in the Bundle with a SOR identifier "
                             f"({SOR_SYSTEM}).", code="required", expression="MessageHeader.sender", envelope=envelope)

    patients = [e.resource for e in entries if isinstance(e.resource, Patient)]
    if len(patients) != 1:
        raise MedComRejected(f"The Bundle holds {len(patients)} Patient resources; a HospitalNotification holds exactly one.",
                             code="structure", expression="Bundle.entry.resource.ofType(Patient)", envelope=envelope)
    patient = patients[0]
    cpr = next((i.value for i in patient.identifier or [] if str(i.system or "") == CPR_SYSTEM and i.value), None)
    if not cpr:
        raise MedComRejected(f"Patient.identifier has no CPR number (system {CPR_SYSTEM}); a HospitalNotification is "
                             "only sent for a person with a Danish CPR number.", code="required",
                             expression="Patient.identifier", envelope=envelope)

    encounter = index.resolve(header.focus[0], Encounter) if header.focus else None
    if encounter is None:
        raise MedComRejected("MessageHeader.focus must reference the Encounter in the Bundle.", code="required",
                             expression="MessageHeader.focus", envelope=envelope)
    if encounter.class_fhir is None or encounter.class_fhir.code not in ENCOUNTER_CLASSES:
        raise MedComRejected("Encounter.class must be IMP (inpatient) or EMER (acute ambulant) from "
                             "http://terminology.hl7.org/CodeSystem/v3-ActCode.", code="code-invalid",
                             expression="Encounter.class", error_code="MSG_VALUESET_VALUE_UNKNOWN", envelope=envelope)
    if encounter.status not in ENCOUNTER_STATUSES:
        raise MedComRejected(f"Encounter.status {encounter.status!r} is not one of {', '.join(sorted(ENCOUNTER_STATUSES))}.",
                             code="code-invalid", expression="Encounter.status",
                             error_code="MSG_VALUESET_VALUE_UNKNOWN", envelope=envelope)

    current = [p.resource for p in entries if isinstance(p.resource, Provenance)
               and any(index.resolve(t, MessageHeader) is header for t in p.resource.target or [])]
    if len(current) != 1:
        raise MedComRejected(f"{len(current)} Provenance resources target this MessageHeader; exactly one says "
                             "what this message reports (the others describe earlier messages).", code="structure",
                             expression="Bundle.entry.resource.ofType(Provenance)", envelope=envelope)
    provenance = current[0]
    coding = provenance.activity.coding[0] if provenance.activity and provenance.activity.coding else None
    activity = coding.code if coding is not None and str(coding.system or "") == ACTIVITY_CODES else None
    prefix = next((p for p in PREFIXES if activity and activity.startswith(p)), "")
    base_activity = activity[len(prefix):] if activity else None
    if base_activity not in ACTIVITY_CODE:
        raise MedComRejected(
            f"Provenance.activity {coding.code if coding else None!r} is not a HospitalNotification activity of "
            f"{ACTIVITY_CODES}: expected one of {', '.join(ACTIVITIES)}.", code="code-invalid",
            expression="Provenance.activity", error_code="MSG_VALUESET_VALUE_UNKNOWN", envelope=envelope)
    base_code, which = ACTIVITY_CODE[base_activity]
    deceased = bool(patient.deceasedBoolean) or patient.deceasedDateTime is not None
    if deceased and base_code in ("STIN", "STAA"):
        base_code, which = "MORS", "period.end"
    if deceased and base_code == "MORS" and isinstance(patient.deceasedDateTime, datetime):
        occurred_at = patient.deceasedDateTime
    else:
        occurred_at = _moment(encounter, which, activity, envelope)

    replaces: uuid.UUID | None = None
    replaces_header_id: str | None = None
    if prefix:
        earlier = next((e.what for e in provenance.entity or [] if e.what is not None and e.what.reference
                        and "MessageHeader/" in str(e.what.reference)), None)
        if earlier is None:
            raise MedComRejected(f"'{activity}' must name the MessageHeader it {'revises' if prefix == 'revise-' else 'cancels'} "
                                 "in Provenance.entity.what (MessageHeader/<id>).", code="required",
                                 expression="Provenance.entity.what", envelope=envelope)
        replaces_header_id = str(earlier.reference).rstrip("/").split("/")[-1]
        replaces = message_uuid(replaces_header_id)

    provider = index.resolve(encounter.serviceProvider, Organization)
    department = (provider.name if provider is not None and provider.name else None) or envelope.sender.name or envelope.sender.org
    if bundle.timestamp is None:
        raise MedComRejected("Bundle.timestamp is missing; MedCom messages say when they were sent.", code="required",
                             expression="Bundle.timestamp", envelope=envelope)
    message_id = message_uuid(header.id)
    return HospitalNotificationMessage(
        envelope=envelope,
        message_id=message_id,
        activity=activity,
        replaces_header_id=replaces_header_id,
        notification={
            "message_id": str(message_id),
            "sent_at": _iso(bundle.timestamp),
            "sender": {"org": envelope.sender.org, "name": envelope.sender.name},
            "code": f"{PREFIXES.get(prefix, '')}{base_code}",
            "cpr": cpr,
            "hospital_episode_id": _episode(encounter, envelope),
            "department": department,
            "occurred_at": _iso(occurred_at),
            "replaces_message_id": str(replaces) if replaces else None,
        },
    )


def rejected_envelope(raw: Any) -> Envelope:
    """The envelope of a body that is not even a Bundle, for the acknowledgement (often empty)."""
    return _peek_envelope(raw) if isinstance(raw, dict) else Envelope()
