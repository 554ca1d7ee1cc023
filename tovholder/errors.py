"""Errors a person can act on. Raise these from domain code and routes; the kit turns them into
JSON answers with the right status (never a 500 with a stack trace).

Every error body has the same shape, ``{"code": "...", "detail": "..."}``: ``code`` is stable (a
program, such as the portal, may branch on it or translate it), ``detail`` is the message a person reads.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The one shape of an error answer (``extra``: e.g. ``errors``, the list of invalid fields)."""
    return {"code": code, "detail": detail, **extra}


class TovholderError(Exception):
    status_code = 400
    code = "bad-request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class DomainError(TovholderError):
    """The request is understood but breaks a rule (e.g. an invalid state transition)."""

    status_code = 422
    code = "rule-violation"


class NotFound(TovholderError):
    status_code = 404
    code = "not-found"


class Forbidden(TovholderError):
    status_code = 403
    code = "forbidden"


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
