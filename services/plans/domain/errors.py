"""The one exception the plans domain raises: a rule of the issue was broken.

The API turns it into a 4xx with ``message`` as the reason, so messages are written for the person
who typed the input, not for a developer.
"""

from __future__ import annotations


class PlanRuleViolation(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownCategory(PlanRuleViolation):
    """An information category the consent registry does not know."""


def require_text(value: str | None, what: str, *, field: str, max_length: int = 4000) -> str:
    """Free text must say something; surrounding whitespace is not content."""
    text = (value or "").strip()
    if not text:
        raise PlanRuleViolation(f"{what} must not be empty", field=field)
    if len(text) > max_length:
        raise PlanRuleViolation(f"{what} is longer than {max_length} characters", field=field)
    return text
