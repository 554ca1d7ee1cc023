"""SCIM 2.0 (RFC 7643/7644) on the wire: how the municipality's identity provider provisions staff.

A municipality's identity provider (Entra ID, KOMBIT's Context Handler/IdP brokers, Okta …) feeds a
SaaS system its staff register over SCIM: it creates a user when someone is hired, changes them when
their job changes and deactivates (``active: false``) or deletes them when they leave. Tovholder's
plans service serves ``/scim/v2/Users`` for that (``services/plans/scim``); the models, filters and
PATCH are ``scim2-models``' (pydantic), not hand-written.

Who may call: the municipality's provisioning client only, a system token (role ``partner``) that
carries the scope ``scim:users`` (``SCIM_USERS_SCOPE``). Every other actor is refused (403, audited),
a staff member's token and a partner's token without the scope alike.

Every refusal is a SCIM error (``urn:ietf:params:scim:api:messages:2.0:Error``: ``status``,
``scimType``, ``detail``) in English, the route class's work: a provisioning client reads no other
error shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from starlette.responses import JSONResponse

from tovholder.errors import Forbidden, TovholderError
from tovholder.protocol_route import ProtocolRoute

SCIM_JSON = "application/scim+json"
SCIM_PREFIX = "/scim/v2"
SCIM_USERS_SCOPE = "scim:users"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(TovholderError):
    """A SCIM refusal about the request (RFC 7644 §3.12): ``status`` and ``scimType``; not audited."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail, code=scim_type or "scim")
        self.status_code = status
        self.scim_type = scim_type


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    return {"schemas": [ERROR_SCHEMA], "status": str(status), **({"scimType": scim_type} if scim_type else {}),
            "detail": detail}


def error_response(status: int, detail: str, scim_type: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    return JSONResponse(error_body(status, detail, scim_type), status_code=status, headers=headers, media_type=SCIM_JSON)


def scim_response(body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=headers, media_type=SCIM_JSON)


class ScimJSONResponse(JSONResponse):
    media_type = SCIM_JSON


def require_scim_client(principal: Any) -> None:
    """Let through only the municipality's provisioning client (a system token with ``scim:users``)."""
    if principal.role != "partner" or SCIM_USERS_SCOPE not in principal.scopes:
        raise Forbidden(f"The SCIM API is for the municipality's provisioning client: a system token (role partner) "
                        f"with the scope '{SCIM_USERS_SCOPE}'.", audit_action="scim.refused", object_type="scim")


class ScimRoute(ProtocolRoute):
    """A route whose every refusal is a SCIM error; access refusals are audited like everywhere."""

    @classmethod
    def answer(cls, status: int, text: str, *, error: TovholderError | None = None,
               expression: str | None = None) -> Response:
        return error_response(status, text, getattr(error, "scim_type", None) or ("invalidValue" if status == 400 else None))


_ERROR_SCHEMA = {"type": "object", "required": ["schemas", "status"], "properties": {
    "schemas": {"type": "array", "items": {"type": "string"}}, "status": {"type": "string"},
    "scimType": {"type": "string"}, "detail": {"type": "string"}}}
_DESCRIPTIONS = {400: "The request is not valid SCIM (scimType says how)", 401: "No valid token",
                 403: "Not the municipality's provisioning client", 404: "No such user", 409: "userName is taken",
                 413: "The body is too large", 503: "The database is unreachable; retry"}


def scim_error_responses() -> dict[int | str, dict[str, Any]]:
    """A SCIM route answers errors as a SCIM Error message (``application/scim+json``)."""
    return {status: {"description": description, "content": {SCIM_JSON: {"schema": _ERROR_SCHEMA}}}
            for status, description in _DESCRIPTIONS.items()}
