"""One FHIR base URL for partners: ``/fhir/r4/…`` on the portal (locally http://127.0.0.1:8100/fhir/r4/).

- ``/fhir/r4/<Type>`` and ``/fhir/r4/<Type>/<id>`` (and health's ``$process-message``) are forwarded to
  the service that owns the type (``tovholder.fhir.OWNERS``), at that service's fixed URL from the
  portal's settings — never an address from the request: a type outside the map is a 404
  OperationOutcome, not a request anywhere (no open proxy).
- The caller's ``Authorization`` goes along unchanged (the owner authenticates, authorises and audits
  as for a direct call), as do ``Accept``, ``Content-Type`` and the query; bodies are streamed both
  ways. ``X-Forwarded-Host``/``-Proto`` tell the owner the base the partner used, so paging links and
  fullUrls point back here.
- ``GET /fhir/r4/metadata`` is one CapabilityStatement: the four services' own, merged (their
  resources, health's operation and messaging).
A service that does not answer is a 503 OperationOutcome with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from starlette.background import BackgroundTask

from tovholder.fhir import FHIR_JSON, FHIR_VERSION, OWNERS, dump, fhir_response, outcome_response
from tovholder.telemetry import inject_headers

log = logging.getLogger(__name__)
router = APIRouter(prefix="/fhir/r4", include_in_schema=False)

PASSED_ON = ("authorization", "accept", "content-type", "content-length", "if-none-match", "prefer")
PASSED_BACK = ("content-type", "etag", "last-modified", "location", "retry-after", "www-authenticate")
METHODS = {"GET": ("read", "search"), "POST": ("$process-message",)}
# What may follow the type: one FHIR id (FHIR's own id rule), never a path of its own.
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _unknown(resource_type: str) -> JSONResponse:
    types = ", ".join(sorted(t for t in OWNERS if not t.startswith("$")))
    return outcome_response(404, f"This server has no resource type {resource_type!r}; it serves {types} "
                                 "(GET /fhir/r4/metadata).", code="not-supported")


def _unreachable(service: str) -> JSONResponse:
    return outcome_response(503, f"The {service} service does not answer right now; nothing was changed. "
                                 "Retry after a moment.")


def _forward_headers(request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_ON}
    headers["x-forwarded-host"] = request.headers.get("host", request.url.netloc)
    headers["x-forwarded-proto"] = request.url.scheme
    return inject_headers(headers)


async def _forward(request: Request, resource_type: str, rest: str) -> Response:
    service = OWNERS.get(resource_type)
    if service is None:
        return _unknown(resource_type)
    if rest and (not FHIR_ID.match(rest) or rest in (".", "..")):
        return outcome_response(404, f"{rest!r} is not a FHIR id: GET /fhir/r4/{resource_type}/<id> "
                                     "(letters, digits, '-' and '.', at most 64).", code="not-found")
    if request.method not in METHODS or (request.method == "POST") != resource_type.startswith("$"):
        return outcome_response(405, f"{request.method} {request.url.path} is not supported here; the FHIR API "
                                     "reads (GET) and takes messages at POST /fhir/r4/$process-message.")
    backends = request.app.state.ctx.backends
    path = f"/fhir/r4/{resource_type}" + (f"/{rest}" if rest else "")
    outgoing = backends.client.build_request(
        request.method, f"{backends.urls[service]}{path}", params=request.query_params.multi_items(),
        headers=_forward_headers(request),
        content=request.stream() if request.method == "POST" else None)
    try:
        answer = await backends.client.send(outgoing, stream=True)
    except httpx.TransportError as error:
        log.warning("FHIR forward to %s failed: %s", service, type(error).__name__)
        return _unreachable(service)
    headers = {k: v for k, v in answer.headers.items() if k.lower() in PASSED_BACK}
    return StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, headers=headers,
                             background=BackgroundTask(answer.aclose))


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    """The four services' CapabilityStatements as one (each asked with the caller's token)."""
    backends = request.app.state.ctx.backends
    headers = _forward_headers(request)

    async def ask(service: str) -> httpx.Response | None:
        try:
            return await backends.client.get(f"{backends.urls[service]}/fhir/r4/metadata", headers=headers)
        except httpx.TransportError:
            return None

    services = sorted(set(OWNERS.values()))
    answers = dict(zip(services, await asyncio.gather(*(ask(s) for s in services))))
    for service, answer in answers.items():
        if answer is None or answer.status_code >= 500:
            return _unreachable(service)
        if answer.status_code != 200:  # e.g. 401 without a token: the owner's own OperationOutcome
            return Response(answer.content, status_code=answer.status_code, media_type=FHIR_JSON,
                            headers={k: v for k, v in answer.headers.items() if k.lower() == "www-authenticate"})
    return fhir_response(merged([answers[s].json() for s in services], base=f"{_base(request)}/fhir/r4"))


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def merged(statements: list[dict[str, Any]], *, base: str) -> dict[str, Any]:
    """One CapabilityStatement from the services' own: every resource, operation and messaging entry."""
    rests = [r for s in statements for r in s.get("rest") or []]
    resources = sorted((res for r in rests for res in r.get("resource") or []), key=lambda res: res["type"])
    operations = [op for r in rests for op in r.get("operation") or []]
    messaging = [m for s in statements for m in s.get("messaging") or []]
    documentation = next((r["documentation"] for r in rests if r.get("resource") and r.get("documentation")), None)
    return dump(CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-01", "kind": "instance",
        "fhirVersion": FHIR_VERSION, "format": [FHIR_JSON, "json"], "software": {"name": "Tovholder"},
        "implementation": {"description": "Tovholder: one FHIR R4 base for referrals, plans, health and the work queue",
                           "url": base},
        "rest": [{"mode": "server", **({"documentation": documentation} if documentation else {}),
                  "resource": resources, **({"operation": operations} if operations else {})}],
        **({"messaging": messaging} if messaging else {}),
    }))


@router.api_route("/{resource_type}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def forward_type(request: Request, resource_type: str) -> Response:
    return await _forward(request, resource_type, "")


@router.api_route("/{resource_type}/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def forward_instance(request: Request, resource_type: str, rest: str) -> Response:
    return await _forward(request, resource_type, rest)
