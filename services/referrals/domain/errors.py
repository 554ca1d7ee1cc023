"""Rule violations raised by the referrals domain.

Each is one of the kit's errors (``tovholder.errors``), so the kit's exception handler answers it with its
status and stable ``code`` wherever it is raised, and a partner's receipt flow turns it into a
``fatal-error`` receipt. The messages are written for the person who sent the request (a case worker,
or a partner's developer) and say what to do instead. They never contain a CPR number.
"""

from __future__ import annotations

from tovholder.errors import Conflict, DomainError, Forbidden, TovholderError


class ReferralRuleError(TovholderError):
    """Base class: the request breaks a rule; nothing was changed."""


class InvalidInput(DomainError, ReferralRuleError):
    """The request itself is wrong (bad CPR, step outside 1–7, mismatching legal basis …) → 422."""


class StateConflict(Conflict, ReferralRuleError):
    """The request is fine but clashes with the case's current state (already decided, offer full,
    transition not allowed from here …) → 409."""


class AccessDenied(Forbidden, ReferralRuleError):
    """The caller may not see or change this case → 403, audited by the kit's handler (or 404 where
    existence must not leak)."""
