"""FHIR R4 on the wire, shared by every service that serves resources under ``/fhir/r4/``.

The models are ``fhir.resources`` (pydantic FHIR models). Pure FHIR R4 (4.0.1) models exist only in
``fhir.resources`` ≤ 6.4, which needs pydantic 1; we pin 8.x and use its ``R4B`` package (4.3.0): R4B
changed none of the resources we exchange (Bundle, MessageHeader, Provenance, Patient, Encounter,
Organization, OperationOutcome, CapabilityStatement) in a way an R4 client notices, and what we send
declares ``fhirVersion`` 4.0.1. No FHIR JSON is parsed or written by hand: incoming resources are
validated by the models, outgoing ones are built as models and dumped.

Here: the media type, OperationOutcome, a route class that answers every refusal on a FHIR route as
an OperationOutcome (authentication, roles, invalid parameters, the kit's errors), search Bundles
with paging links, the usual search parameters (``Search``), SMART-style scopes (``require_scope``),
the one map of which service owns which resource type (``OWNERS``: the portal's forwarding and the
ingress follow it) and the CapabilityStatement entries every service declares its resources with.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ConfigDict

from tovholder.errors import Forbidden, TovholderError
from tovholder.protocol_route import ProtocolRoute

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
RETRY_AFTER_S = 5

# OperationOutcome.issue.code for an HTTP status (http://hl7.org/fhir/issue-type).
_ISSUE_OF_STATUS = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
                    413: "too-costly", 415: "not-supported", 422: "processable", 503: "transient"}


class FhirResourceOut(BaseModel):
    """The OpenAPI shape of a FHIR resource answer (the body is the resource as FHIR R4 JSON)."""

    model_config = ConfigDict(extra="allow")
    resourceType: str


def now_instant() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def dump(resource: Resource) -> dict[str, Any]:
    """A model as FHIR JSON (no empty elements)."""
    return resource.model_dump(mode="json", by_alias=True, exclude_none=True)


class FhirJSONResponse(JSONResponse):
    """JSON with FHIR's media type; as a router's default response class it also puts that media type
    in the OpenAPI document, so a client (and schemathesis) knows what a 200 carries."""

    media_type = FHIR_JSON


def fhir_response(resource: Resource | dict[str, Any], status_code: int = 200,
                  headers: dict[str, str] | None = None) -> JSONResponse:
    body = resource if isinstance(resource, dict) else dump(resource)
    return JSONResponse(body, status_code=status_code, headers=headers, media_type=FHIR_JSON)


def issue(text: str, *, code: str = "processing", severity: str = "error", expression: str | None = None,
          coding: dict[str, str] | None = None) -> dict[str, Any]:
    """One OperationOutcome issue: ``text`` is what an integration developer reads and acts on."""
    details: dict[str, Any] = {"text": text}
    if coding:
        details["coding"] = [coding]
    return {"severity": severity, "code": code, "details": details,
            **({"expression": [expression]} if expression else {})}


def operation_outcome(*issues: dict[str, Any], id: str | None = None) -> OperationOutcome:
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", **({"id": id} if id else {}),
                                            "issue": list(issues)})


def outcome_response(status_code: int, text: str, *, code: str | None = None,
                     expression: str | None = None) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status_code == 503 else None
    if status_code == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    outcome = operation_outcome(issue(text, code=code or _ISSUE_OF_STATUS.get(status_code, "processing"),
                                      expression=expression))
    return fhir_response(outcome, status_code, headers)


class FhirRoute(ProtocolRoute):
    """A route whose refusals are OperationOutcomes: a FHIR client reads no other error shape."""

    @classmethod
    def answer(cls, status: int, text: str, *, error: TovholderError | None = None,
               expression: str | None = None) -> Response:
        return outcome_response(status, text, expression=expression)


def outcome_body(status_code: int, text: str) -> dict[str, Any]:
    """An OperationOutcome as JSON, for answers given outside a route (the request guard)."""
    return dump(operation_outcome(issue(text, code=_ISSUE_OF_STATUS.get(status_code, "processing"))))


_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def public_origin(request: Request) -> str:
    """Where the client sent the request: the portal and the ingress forward ``/fhir/r4/…`` with
    ``X-Forwarded-Host``/``-Proto``, so links and fullUrls name the one base URL the partner uses. Only a
    well-formed host is taken (it only ever shapes the links of the caller's own answer)."""
    host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    if host and _HOST.match(host):
        return f"{proto if proto in ('http', 'https') else request.url.scheme}://{host}"
    return str(request.base_url).rstrip("/")


def searchset(request: Request, resources: Sequence[Resource], *, total: int, offset: int, count: int) -> Bundle:
    """A search result Bundle with ``self``/``first``/``previous``/``next`` links (offset paging)."""
    base = f"{public_origin(request)}{request.url.path}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*params, ("_offset", str(at))])
        return {"relation": relation, "url": f"{base}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if offset + count < total:
        links.append(link("next", offset + count))
    return Bundle.model_validate({
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset", "total": total,
        "timestamp": now_instant(), "link": links,
        "entry": [{"fullUrl": f"{public_origin(request)}/fhir/r4/{r.get_resource_type()}/{r.id}",
                   "resource": dump(r), "search": {"mode": "match"}} for r in resources],
    })


def scope_refusal(principal: Any, resource_type: str) -> str | None:
    """Why a token's SMART scopes do not cover reading ``resource_type`` (None: they do, or the token
    carries none — then the role rules alone decide, as for the REST API)."""
    scopes = principal.scopes
    if not scopes:
        return None
    context = {"citizen": "patient", "partner": "system"}.get(principal.role, "user")
    wanted = {f"{context}/{t}.{a}" for t in (resource_type, "*") for a in ("read", "*", "r", "rs")}
    if scopes & wanted:
        return None
    return (f"Your token's scopes ({' '.join(sorted(scopes))}) do not allow reading {resource_type}; "
            f"it needs {context}/{resource_type}.read or {context}/*.read.")


def require_scope(principal: Any, resource_type: str, *, object_type: str, citizen_id: Any = None,
                  object_id: Any = None) -> None:
    """Refuse (403, audited as ``<object_type>.refused``) a token whose SMART scopes do not cover
    reading ``resource_type``; the role rules of the REST API decide the rest."""
    if (refusal := scope_refusal(principal, resource_type)) is not None:
        raise Forbidden(refusal, citizen_id=citizen_id, audit_action=f"{object_type}.refused", object_type=object_type,
                        object_id=object_id)


# ---------------------------------------------------------------- one base URL: who owns which type

# The service that serves each resource type under its own /fhir/r4/ (and health's operation). The
# portal forwards /fhir/r4/<Type>… by this map only (no open proxy); deploy/k8s/ingress.yaml routes the
# same paths (tests/deploy checks the two agree).
OWNERS: dict[str, str] = {
    "ServiceRequest": "referrals", "EpisodeOfCare": "referrals", "Patient": "referrals",
    "CarePlan": "plans", "Goal": "plans", "CareTeam": "plans", "Consent": "plans",
    "Encounter": "health", "$process-message": "health",
    "Task": "notifications",
}
PATIENT_PREFIX = "Patient/"
CITIZEN_REFERENCE_NOTE = ("Patient/<citizen_id>: the citizen's Tovholder id (a partner finds it with "
                          "POST /integration/v1/citizen-references, or in a delivery)")


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str
    documentation: str


PATIENT_PARAM = SearchParam("patient", "reference", "The citizen: Patient/<citizen_id>")
SUBJECT_PARAM = SearchParam("subject", "reference", "The same as patient")
LAST_UPDATED_PARAM = SearchParam("_lastUpdated", "date", "When the resource last changed, e.g. ge2026-11-01 (eq, ge, le, gt, lt)")
COUNT_PARAM = SearchParam("_count", "number", "Page size (1–100, default 20); the Bundle's next/previous links page on")


def status_param(statuses: Sequence[str]) -> SearchParam:
    return SearchParam("status", "token", " | ".join(statuses) + " (comma-separated for several)")


def capability_resource(resource_type: str, documentation: str, params: Sequence[SearchParam]) -> dict[str, Any]:
    """One ``CapabilityStatement.rest.resource`` entry: read and search-type with these parameters."""
    return {"type": resource_type, "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
            "documentation": documentation, "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": p.name, "type": p.type, "documentation": p.documentation} for p in params]}


ACCESS_DOCUMENTATION = (
    "Bearer tokens as for the REST API, on its rules: the citizen reads their own (patient/*.read), staff what "
    "they may see (user/*.read), partners (system/*.read) only what the citizen's consent to their organisation "
    "covers (or what they sent themselves). SMART scopes are checked when the token carries them. Every read is "
    "audited and shows in the citizen's Min log.")


def service_capability_statement(*, service: str, description: str, base: str,
                                 resources: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A service's CapabilityStatement: the resources it serves (``capability_resource``)."""
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    return dump(CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-01", "kind": "instance",
        "fhirVersion": FHIR_VERSION, "format": [FHIR_JSON, "json"], "software": {"name": f"Tovholder {service}"},
        "implementation": {"description": description, "url": base},
        "rest": [{"mode": "server", "documentation": ACCESS_DOCUMENTATION, "resource": list(resources)}],
    }))


def fhir_router() -> APIRouter:
    """A service's ``/fhir/r4`` router: every refusal an OperationOutcome, FHIR's media type."""
    return APIRouter(prefix="/fhir/r4", tags=["FHIR R4"], route_class=FhirRoute, default_response_class=FhirJSONResponse)


def fhir_base(request: Request) -> str:
    return f"{public_origin(request)}/fhir/r4"


def invalid_search(text: str) -> TovholderError:
    return TovholderError(text, code="invalid-search")  # 400, an OperationOutcome on a FHIR route


_LAST_UPDATED_OPS = {"eq": lambda a, b: a == b, "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b,
                     "gt": lambda a, b: a > b, "lt": lambda a, b: a < b}


def _condition(value: str) -> tuple[str, datetime]:
    op = value[:2] if value[:2] in _LAST_UPDATED_OPS else "eq"
    text = value[2:] if value[:2] in _LAST_UPDATED_OPS else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_search(f"_lastUpdated {value!r} is not a date or dateTime with an optional prefix "
                             "(eq, ge, le, gt, lt), e.g. ge2026-11-01 or lt2026-11-22T10:00:00+01:00") from None
    return op, moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Search:
    """The usual search parameters of a FHIR search (``search_params`` reads them from the query)."""

    patient: str | None = None
    subject: str | None = None
    status: str | None = None
    owner: str | None = None
    last_updated: tuple[str, ...] = ()
    count: int = 20
    offset: int = 0
    conditions: tuple[tuple[str, datetime], ...] = field(default=(), compare=False)

    def citizen_id(self, principal: Any, resource_type: str) -> uuid.UUID:
        """The citizen searched (``patient`` or ``subject``; a citizen's own token needs neither)."""
        given = [v for v in (self.patient, self.subject) if v]
        if len(set(given)) > 1:
            raise invalid_search("patient and subject name different citizens; give one.")
        value = given[0] if given else (principal.sub if principal.role == "citizen" else None)
        if value is None:
            raise invalid_search(f"Search {resource_type} of one citizen: give patient=Patient/<citizen_id>.")
        try:
            return uuid.UUID(value.removeprefix(PATIENT_PREFIX))
        except ValueError:
            raise invalid_search(f"patient {value!r} is not Patient/<citizen_id> (a UUID).") from None

    def statuses(self, allowed: Sequence[str]) -> set[str] | None:
        if not self.status:
            return None
        wanted = {s.strip() for s in self.status.split(",") if s.strip()}
        if not wanted <= set(allowed):
            raise invalid_search(f"status must be one of {', '.join(allowed)} (comma-separated).")
        return wanted

    def updated(self, moment: datetime) -> bool:
        """Whether a resource last changed at ``moment`` matches every ``_lastUpdated``."""
        return all(_LAST_UPDATED_OPS[op](moment, when) for op, when in self.conditions)

    def page(self, items: Sequence[Any]) -> tuple[list[Any], int]:
        return list(items[self.offset:self.offset + self.count]), len(items)


def search_params(
    patient: str | None = None, subject: str | None = None, status: str | None = None, owner: str | None = None,
    last_updated: Annotated[list[str], Query(alias="_lastUpdated")] = [],  # noqa: B006 (FastAPI copies it)
    count: Annotated[int, Query(alias="_count", ge=1, le=100)] = 20,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=100_000)] = 0,
) -> Search:
    return Search(patient=patient, subject=subject, status=status, owner=owner, last_updated=tuple(last_updated),
                  count=count, offset=offset, conditions=tuple(_condition(v) for v in last_updated))


SearchQuery = Annotated[Search, Depends(search_params)]


def search_answer(request: Request, resources: Sequence[Resource], total: int, search: Search) -> JSONResponse:
    return fhir_response(searchset(request, resources, total=total, offset=search.offset, count=search.count))


def meta(last_updated: datetime, version: int | str | None = None) -> dict[str, Any]:
    return {"lastUpdated": last_updated.isoformat(), **({"versionId": str(version)} if version is not None else {})}


def patient_ref(citizen_id: Any, display: str | None = None) -> dict[str, Any]:
    return {"reference": f"{PATIENT_PREFIX}{citizen_id}", **({"display": display} if display else {})}


def practitioner_ref(sub: str | None, display: str | None = None) -> dict[str, Any] | None:
    """A staff member (their token's ``sub``) as a reference by identifier: we serve no Practitioner."""
    if not sub:
        return None
    return {"type": "Practitioner", "identifier": {"system": STAFF_SYSTEM, "value": sub},
            **({"display": display} if display else {})}


STAFF_SYSTEM = "urn:tovholder:staff"  # a staff member's id (the token's sub)
BOTILBUD_SYSTEM = "urn:tovholder:botilbud"


def botilbud_ref(botilbud_id: str | None) -> dict[str, Any] | None:
    if not botilbud_id:
        return None
    return {"type": "Organization", "identifier": {"system": BOTILBUD_SYSTEM, "value": botilbud_id},
            "display": botilbud_id}


def validated(model: type[Resource], body: dict[str, Any]) -> Resource:
    """Build a resource through its model (validation: no FHIR JSON written by hand), dropping empty elements."""
    return model.model_validate({k: v for k, v in body.items() if v not in (None, [], {})})


# ---------------------------------------------------------------- hospital stays (health's Encounter)

ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
EPISODE_SYSTEM = "urn:tovholder:hospital-episode"  # the sender's own episode-of-care identifier
ENCOUNTER_STATUS_AFTER = {"admission": "in-progress", "leave-ended": "in-progress", "leave-started": "onleave",
                          "discharge": "finished", "death": "finished"}
# The events a subscription with payload "fhir" can receive, and the resource each becomes.
FHIR_EVENT_TYPES = {"tovholder.health.hospital-notice-registered.v1": "Encounter",
                    "tovholder.health.hospital-notice-corrected.v1": "Encounter",
                    "tovholder.plans.plan-version-created.v1": "CarePlan"}
PLAN_CHANGE_SYSTEM = "urn:tovholder:plan-change"  # meta.tag: what a plan version changed (e.g. goal-added)
CHANGED_GOAL_EXTENSION = "urn:tovholder:changed-goal"


def hospital_stay_id(citizen_id: Any, sender_org: str, episode: str) -> str:
    """The Encounter id of a hospital stay (one sender's episode): ``<citizen_id>.<16 hex>``, the same in
    health's FHIR API and in deliveries."""
    digest = hashlib.sha256("\n".join((sender_org, episode)).encode()).hexdigest()
    return f"{citizen_id}.{digest[:16]}"


def organisation_ref(org: str, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"display": display} if display else {}
    if org.startswith("SOR:"):
        ref["identifier"] = {"system": SOR_SYSTEM, "value": org.removeprefix("SOR:")}
    elif not display:
        ref["display"] = org
    return ref


def encounter_json(*, encounter_id: str, citizen_id: Any, sender_org: str, episode: str, status: str, acute: bool,
                   start: datetime | None, end: datetime | None, department: str | None, last_updated: datetime,
                   leave_start: datetime | None = None) -> dict[str, Any]:
    """A hospital stay as a FHIR R4 Encounter (validated)."""
    period = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    resource = Encounter.model_validate({
        "resourceType": "Encounter", "id": encounter_id,
        "meta": {"lastUpdated": last_updated.isoformat()},
        "identifier": [{"system": EPISODE_SYSTEM, "value": episode, "assigner": organisation_ref(sender_org)}],
        "status": status,
        "class": {"system": ACT_CODES, "code": "EMER" if acute else "IMP"},
        "subject": {"reference": f"Patient/{citizen_id}"},
        **({"period": period} if period else {}),
        "serviceProvider": organisation_ref(sender_org, department),
        **({"extension": [{"url": "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                                  "medcom-hospitalnotifiation-leave-period-extension",
                           "valuePeriod": {"start": leave_start.isoformat()}}]} if leave_start else {}),
    })
    return dump(resource)


def careplan_of_event(data: dict[str, Any]) -> dict[str, Any]:
    """A new version of Borgerens Plan as the CarePlan it changed: which plan and version, when, what
    kind of change and which goals. Events never carry the citizen's own words (``contracts/plans.py``),
    so neither does the delivery: the whole plan is ``GET /fhir/r4/CarePlan/{id}`` (and its ``Goal``s),
    read on the same consent."""
    from fhir.resources.R4B.careplan import CarePlan

    return dump(CarePlan.model_validate({
        "resourceType": "CarePlan", "id": str(data["plan_id"]),
        "meta": {"versionId": str(data["version"]), "lastUpdated": str(data["created_at"]),
                 "tag": [{"system": PLAN_CHANGE_SYSTEM, "code": str(data["change"])}]},
        "status": "active", "intent": "plan", "title": "Borgerens Plan",
        "subject": {"reference": f"Patient/{data['citizen_id']}"},
        "careTeam": [{"reference": f"CareTeam/{data['citizen_id']}"}],
        **({"extension": [{"url": CHANGED_GOAL_EXTENSION, "valueReference": {"reference": f"Goal/{g}"}}
                          for g in data.get("goal_ids") or []]} if data.get("goal_ids") else {}),
    }))


def event_as_fhir(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The resource an event changed, as FHIR R4 JSON (``FHIR_EVENT_TYPES``): a hospital notice → the
    stay as this notice leaves it (the whole stay: ``GET /fhir/r4/Encounter/{id}`` at health); a plan
    version → the CarePlan (``careplan_of_event``)."""
    resource_type = FHIR_EVENT_TYPES.get(event_type)
    if resource_type == "CarePlan":
        return careplan_of_event(data)
    if resource_type != "Encounter":
        raise ValueError(f"no FHIR payload for {event_type}")
    kind = data.get("kind")
    occurred = datetime.fromisoformat(str(data["occurred_at"]))
    ends = kind in ("discharge", "death")
    return encounter_json(
        encounter_id=hospital_stay_id(data["citizen_id"], data["sender_org"], data["hospital_episode_id"]),
        citizen_id=data["citizen_id"], sender_org=data["sender_org"], episode=data["hospital_episode_id"],
        status=ENCOUNTER_STATUS_AFTER.get(kind, "in-progress"), acute=data.get("code") == "STAA",
        start=occurred if kind == "admission" else None, end=occurred if ends else None,
        department=data.get("department"), last_updated=occurred,
        leave_start=occurred if kind == "leave-started" else None)
