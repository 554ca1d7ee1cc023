"""Errors a person can act on. Raise these from domain code and routes; the kit turns them into
JSON answers with the right status (never a 500 with a stack trace).

Every error body has the same shape, ``{"code": "...", "detail": "..."}``: ``code`` is stable (a
program, such as the portal, may branch on it or translate it), ``detail`` is the message a person reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error answer of a staff or citizen API (and of a partner's 401/403/404/413)."""

    code: str = Field(description="Stable: a program may branch on it or translate it (e.g. not-found, forbidden)")
    detail: str = Field(description="What happened and what to do, for a person to read")
    errors: list[str] | None = Field(None, description="The invalid fields, one line each (422 invalid-request)")


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The one shape of an error answer (``extra``: e.g. ``errors``, the list of invalid fields)."""
    return {"code": code, "detail": detail, **extra}


class TovholderError(Exception):
    status_code = 400
    code = "bad-request"
    # An access refusal: the kit's error handler writes an audit entry for it (``tovholder.access``).
    audited = False

    def __init__(self, message: str, *, code: str | None = None, en: str | None = None, citizen_id: Any = None,
                 audit_action: str | None = None, object_type: str | None = None, object_id: Any = None) -> None:
        super().__init__(message)
        self.message = message
        # The message for a partner (integration endpoints and FHIR answer in English), where ``message``
        # is the Danish one staff and citizens read; the same text when not given.
        self.en = en or message
        if code is not None:
            self.code = code
        # What the audit entry of a refusal names (only read when ``audited``).
        self.citizen_id = citizen_id
        self.audit_action = audit_action
        self.object_type = object_type
        self.object_id = object_id


class DomainError(TovholderError):
    """The request is understood but breaks a rule (e.g. an invalid state transition)."""

    status_code = 422
    code = "rule-violation"


class NotFound(TovholderError):
    status_code = 404
    code = "not-found"


class Forbidden(TovholderError):
    """An access refusal; audited by the kit's error handler whenever the caller is known."""

    status_code = 403
    code = "forbidden"
    audited = True


class NotVisible(NotFound):
    """An access refusal answered like an unknown object (404), so the caller learns nothing of
    whether it exists; audited like a 403."""

    audited = True


class Unauthorized(TovholderError):
    status_code = 401
    code = "unauthorized"


class Conflict(TovholderError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(TovholderError):
    status_code = 413
    code = "body-too-large"


class Unavailable(TovholderError):
    """A dependency (database, broker) is down: the caller should retry later."""

    status_code = 503
    code = "unavailable"

