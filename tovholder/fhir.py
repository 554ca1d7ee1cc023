"""FHIR R4 on the wire, shared by every service that serves resources under ``/fhir/r4/``.

The models are ``fhir.resources`` (pydantic FHIR models). Pure FHIR R4 (4.0.1) models exist only in
``fhir.resources`` ≤ 6.4, which needs pydantic 1; we pin 8.x and use its ``R4B`` package (4.3.0): R4B
changed none of the resources we exchange (Bundle, MessageHeader, Provenance, Patient, Encounter,
Organization, OperationOutcome, CapabilityStatement) in a way an R4 client notices, and what we send
declares ``fhirVersion`` 4.0.1. No FHIR JSON is parsed or written by hand: incoming resources are
validated by the models, outgoing ones are built as models and dumped.

Here: the media type, OperationOutcome, a route class that answers every refusal on a FHIR route as
an OperationOutcome (authentication, roles, invalid parameters, the kit's errors), and search Bundles
with paging links.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from tovholder.errors import TovholderError
from tovholder.infra_errors import is_infrastructure_error

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


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc if p not in ("query", "path", "body")) or "request"


class FhirRoute(APIRoute):
    """A route whose refusals are OperationOutcomes: a FHIR client reads no other error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except TovholderError as exc:
                if exc.audited:  # a refusal is on record however it is answered
                    from tovholder.service import audit_refusal  # the service module imports this one

                    await audit_refusal(request, exc)
                return outcome_response(exc.status_code, exc.message)
            except RequestValidationError as exc:
                problems = [f"{_where(err['loc'])}: {err['msg']}" for err in exc.errors()]
                return outcome_response(400, "; ".join(problems), expression=_where(exc.errors()[0]["loc"]) if exc.errors() else None)
            except HTTPException as exc:
                return outcome_response(exc.status_code, str(exc.detail))
            except Exception as exc:
                if is_infrastructure_error(exc):
                    return outcome_response(503, "Tovholder cannot reach its database right now; nothing was changed. "
                                                 "Retry after a moment.")
                raise

        return fhir_handler


def outcome_body(status_code: int, text: str) -> dict[str, Any]:
    """An OperationOutcome as JSON, for answers given outside a route (the request guard)."""
    return dump(operation_outcome(issue(text, code=_ISSUE_OF_STATUS.get(status_code, "processing"))))


def searchset(request: Request, resources: Sequence[Resource], *, total: int, offset: int, count: int) -> Bundle:
    """A search result Bundle with ``self``/``first``/``previous``/``next`` links (offset paging)."""
    base = str(request.url.remove_query_params(["_offset"]))
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*params, ("_offset", str(at))])
        return {"relation": relation, "url": f"{base.split('?')[0]}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if offset + count < total:
        links.append(link("next", offset + count))
    return Bundle.model_validate({
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset", "total": total,
        "timestamp": now_instant(), "link": links,
        "entry": [{"fullUrl": f"{str(request.base_url).rstrip('/')}/fhir/r4/{r.get_resource_type()}/{r.id}",
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


# ---------------------------------------------------------------- hospital stays (health's Encounter)

ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
EPISODE_SYSTEM = "urn:tovholder:hospital-episode"  # the sender's own episode-of-care identifier
ENCOUNTER_STATUS_AFTER = {"admission": "in-progress", "leave-ended": "in-progress", "leave-started": "onleave",
                          "discharge": "finished", "death": "finished"}
# The events a subscription with payload "fhir" can receive, and the resource each becomes.
FHIR_EVENT_TYPES = {"tovholder.health.hospital-notice-registered.v1": "Encounter",
                    "tovholder.health.hospital-notice-corrected.v1": "Encounter"}


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


def event_as_fhir(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The resource an event changed, as FHIR R4 JSON (``FHIR_EVENT_TYPES``): a hospital notice → the
    stay as this notice leaves it (the whole stay: ``GET /fhir/r4/Encounter/{id}`` at health)."""
    if FHIR_EVENT_TYPES.get(event_type) != "Encounter":
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
