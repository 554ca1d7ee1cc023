"""Domain errors: each is one of the kit's errors (``tovholder.errors``), so the kit's exception handler
answers it with its status and stable ``code`` wherever it is raised — no mapping in between. Partner
flows turn them into receipts (``FatalMessage``); the domain stays I/O-free (the kit's errors are plain
exceptions)."""

from __future__ import annotations

from tovholder.errors import DomainError


class HealthRuleViolation(DomainError, ValueError):
    """A request breaks a health rule: 422 ``rule-violation``; ``str(err)`` is a reason a person can act on,
    in Danish for staff. A rule that partners can also break gives the English reason for the receipt in
    ``en``. (Also a ``ValueError``, so a rule checked inside a request model is a validation error.)"""


class NoticeInvalid(HealthRuleViolation):
    """The hospital notice itself is invalid (receipt ``fatal-error``, HTTP 422)."""


class NoticeConflict(HealthRuleViolation):
    """The notice conflicts with an earlier message (receipt ``fatal-error``, HTTP 409)."""

    status_code = 409
    code = "conflict"
