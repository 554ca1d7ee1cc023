"""Errors the domain raises. The API layer maps them onto the kit's HTTP errors:
``InvalidInput`` → 422, ``NotAllowed`` → 403, ``TransitionNotAllowed`` → 409.

Kept here (not imported from the kit) so the domain stays free of any framework."""

from __future__ import annotations


class NotificationsDomainError(Exception):
    """Base class; ``str(error)`` is a message a person can act on."""


class InvalidInput(NotificationsDomainError):
    """The request or data is malformed (HTTP 422)."""


class NotAllowed(NotificationsDomainError):
    """The actor may not do this (HTTP 403)."""


class TransitionNotAllowed(NotificationsDomainError):
    """The task's current state does not allow this change (HTTP 409)."""
