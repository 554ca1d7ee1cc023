"""Errors the domain raises. Each is one of the kit's errors (``tovholder.errors``), so the kit's
exception handler answers it with its status and stable ``code`` wherever it is raised:
``InvalidInput`` → 422 ``rule-violation``, ``NotAllowed`` → 403 ``forbidden`` (audited),
``TransitionNotAllowed`` → 409 ``conflict``. The kit's errors are plain exceptions, so the domain stays
free of any framework."""

from __future__ import annotations

from tovholder.errors import Conflict, DomainError, Forbidden, TovholderError


class NotificationsDomainError(TovholderError):
    """Base class; ``str(error)`` is a message a person can act on."""


class InvalidInput(DomainError, NotificationsDomainError):
    """The request or data is malformed (HTTP 422)."""


class NotAllowed(Forbidden, NotificationsDomainError):
    """The actor may not do this (HTTP 403)."""


class TransitionNotAllowed(Conflict, NotificationsDomainError):
    """The task's current state does not allow this change (HTTP 409)."""
