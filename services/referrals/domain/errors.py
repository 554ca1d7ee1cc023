"""Rule violations raised by the referrals domain.

The API layer maps them onto the kit's HTTP errors; the messages are written for the person who
sent the request (a case worker, or a partner's developer) and say what to do instead. They never
contain a CPR number.
"""

from __future__ import annotations


class ReferralRuleError(Exception):
    """Base class: the request breaks a rule; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ReferralRuleError):
    """The request itself is wrong (bad CPR, step outside 1–7, mismatching legal basis …) → 422."""


class StateConflict(ReferralRuleError):
    """The request is fine but clashes with the case's current state (already decided, offer full,
    transition not allowed from here …) → 409."""


class AccessDenied(ReferralRuleError):
    """The caller may not see or change this case → 403 (or 404 where existence must not leak)."""
