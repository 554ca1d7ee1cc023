"""Domain errors. The API maps them onto the kit's errors / receipts; the domain stays I/O-free."""

from __future__ import annotations


class HealthRuleViolation(ValueError):
    """A request breaks a health rule; ``str(err)`` is a reason a person can act on (HTTP 422), in Danish
    for staff. A rule that partners can also break gives the English reason for the receipt in ``en``."""

    def __init__(self, message: str, *, en: str | None = None) -> None:
        super().__init__(message)
        self.en = en or message


class NoticeInvalid(HealthRuleViolation):
    """The hospital notice itself is invalid (receipt ``fatal-error``, HTTP 422)."""


class NoticeConflict(HealthRuleViolation):
    """The notice conflicts with an earlier message (receipt ``fatal-error``, HTTP 409)."""
