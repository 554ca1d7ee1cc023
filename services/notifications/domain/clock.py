"""Local time for due dates and reminders: the botilbud work in Danish time, stored times are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.notifications.domain.errors import InvalidInput

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` Danish time, as a UTC datetime (DST handled by zoneinfo)."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def end_of_local_day(day_or_moment: date | datetime) -> datetime:
    day = local_date(day_or_moment) if isinstance(day_or_moment, datetime) else day_or_moment
    return at_local(day, 23, 59)


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
