"""Local time for due dates and reminders, and parsing times out of events.

The time rules themselves (Copenhagen time, working days) are the kit's ``tovholder.clock``; this module
re-exports the ones the rules use and adds the event-field parsing that is notifications' own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifications.domain.errors import InvalidInput
from tovholder.clock import COPENHAGEN as LOCAL_TZ
from tovholder.clock import at_local, end_of_local_day, local_date

__all__ = ["LOCAL_TZ", "as_date", "as_datetime", "as_uuid", "at_local", "end_of_local_day",
           "end_of_local_day_after", "local_date"]


def end_of_local_day_after(moment: datetime, days: int) -> datetime:
    return end_of_local_day(local_date(moment) + timedelta(days=days))


def as_datetime(value: Any, field: str) -> datetime:
    """Accept a datetime or an ISO 8601 string (events may arrive as parsed models or raw JSON)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise InvalidInput(f"{field}: '{value}' er ikke et tidspunkt") from error
    else:
        raise InvalidInput(f"{field} mangler eller er ikke et tidspunkt")
    if moment.tzinfo is None:
        raise InvalidInput(f"{field} skal have tidszone")
    return moment


def as_date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise InvalidInput(f"{field}: '{value}' er ikke en dato") from error
    raise InvalidInput(f"{field} mangler eller er ikke en dato")


def as_uuid(value: Any, field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as error:
        raise InvalidInput(f"{field}: '{value}' er ikke et UUID") from error
