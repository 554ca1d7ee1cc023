"""Errors a person can act on. Raise these from domain code and routes; the kit turns them into
JSON answers with the right status (never a 500 with a stack trace)."""

from __future__ import annotations


class TovholderError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DomainError(TovholderError):
    """The request is understood but breaks a rule (e.g. an invalid state transition)."""

    status_code = 422


class NotFound(TovholderError):
    status_code = 404


class Forbidden(TovholderError):
    status_code = 403


class Unauthorized(TovholderError):
    status_code = 401


class Conflict(TovholderError):
    status_code = 409


class Unavailable(TovholderError):
    """A dependency (database, broker) is down: the caller should retry later."""

    status_code = 503
