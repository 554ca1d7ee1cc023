"""The one exception the plans domain raises: a rule of the issue was broken.

It is the kit's ``DomainError`` (``tovholder.errors``): the kit's exception handler answers it, wherever
it is raised, with 422 ``rule-violation`` and ``message`` as the reason — so messages are written for the
person who typed the input, not for a developer. Nothing is committed, so nothing changed.
"""

from __future__ import annotations

from tovholder.errors import DomainError


class PlanRuleViolation(DomainError, ValueError):
    """(Also a ``ValueError``, so a rule checked inside a request model is a validation error.)"""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownCategory(PlanRuleViolation):
    """An information category the consent registry does not know."""


def require_text(value: str | None, what: str, *, field: str, max_length: int = 4000) -> str:
    """Free text must say something; surrounding whitespace is not content."""
    text = (value or "").strip()
    if not text:
        raise PlanRuleViolation(f"{what} må ikke være tom", field=field)
    if len(text) > max_length:
        raise PlanRuleViolation(f"{what} er længere end {max_length} tegn", field=field)
    return text
