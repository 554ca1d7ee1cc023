"""One reminder schedule for the whole system: the evening before and the morning of an appointment.

The staff member reminds the citizen "the morning and the evening before" an examination agreed at
the health check ([4]:4885-4897): the evening before at 19:00 and the morning of the day at 08:00
(after the morning handover), Copenhagen time — or, for an appointment before 09:00, an hour before
it. Health puts these moments on the events it publishes (``reminders_at``) and notifications fires
them; both take them from here, so every service and the documentation say the same.

One setting, read by every service from the environment: ``TOVHOLDER_REMINDER_EVENING_BEFORE``
(default ``19:00``) and ``TOVHOLDER_REMINDER_MORNING_OF`` (default ``08:00``), see
``tovholder.settings`` (``get_settings().reminder_schedule``). This module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from tovholder.clock import COPENHAGEN

EVENING_BEFORE = time(19, 0)
MORNING_OF = time(8, 0)
MORNING_LEAD = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    evening_before: time = EVENING_BEFORE
    morning_of: time = MORNING_OF
    # An appointment earlier than morning_of + lead is reminded this long before it instead.
    morning_lead: timedelta = MORNING_LEAD

    def __post_init__(self) -> None:
        if self.morning_lead <= timedelta(0):
            raise ValueError("the morning reminder's lead must be positive")

    def evening_before_moment(self, appointment: datetime) -> datetime:
        day = appointment.astimezone(COPENHAGEN).date() - timedelta(days=1)
        return datetime.combine(day, self.evening_before, tzinfo=COPENHAGEN)

    def morning_of_moment(self, appointment: datetime) -> datetime:
        local = appointment.astimezone(COPENHAGEN)
        morning = datetime.combine(local.date(), self.morning_of, tzinfo=COPENHAGEN)
        return min(morning, local - self.morning_lead)

    def moments_before(self, appointment: datetime, *, after: datetime | None = None) -> tuple[datetime, ...]:
        """The evening before and the morning of ``appointment`` (Copenhagen time, tz-aware); never at
        or after the appointment, and, given ``after``, only moments later than it."""
        if appointment.tzinfo is None:
            raise ValueError("an appointment needs a time zone")
        moments = (self.evening_before_moment(appointment), self.morning_of_moment(appointment))
        return tuple(m for m in moments if m < appointment and (after is None or m > after))


DEFAULT_SCHEDULE = ReminderSchedule()

