"""A network meeting the citizen calls: pure rules (no I/O).

The citizen may convene their cross-sector network; Region Hovedstaden's rule is that the meeting is
held within 5 working days (Danish holidays counted: ``tovholder.clock``). The citizen gives a reason
and whom they want there, in their own words; the coordinator sets the time and closes it (held, or
called off with a reason). One open request at a time: a second one while the first is still open
would only be a second task for the same meeting.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from tovholder import clock
from services.plans.domain.errors import PlanRuleViolation, require_text

WORKING_DAYS = 5
MAX_WANTED = 12
MAX_REASON = 2000
MAX_WHO = 200


class MeetingStatus(str, enum.Enum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED)


def due_on(requested_at: datetime) -> date:
    """The last day the meeting may be held: 5 working days after the (Copenhagen) day it was called."""
    return clock.add_working_days(clock.local_date(requested_at), WORKING_DAYS)


def request(reason: str | None, wanted: list[str] | None, *, open_statuses: list[str]) -> tuple[str, list[str]]:
    """The reason and the people asked for, checked; refuses while another request is still open."""
    if any(MeetingStatus(s).is_open for s in open_statuses):
        raise PlanRuleViolation("Du har allerede bedt om et netværksmøde, som ikke er holdt endnu.", field="reason")
    text = require_text(reason, "Grunden til mødet", field="reason", max_length=MAX_REASON)
    people = [w.strip() for w in (wanted or []) if w and w.strip()]
    if len(people) > MAX_WANTED:
        raise PlanRuleViolation(f"Vælg højst {MAX_WANTED} personer.", field="wanted")
    if any(len(p) > MAX_WHO for p in people):
        raise PlanRuleViolation(f"Et navn må højst være {MAX_WHO} tegn.", field="wanted")
    return text, list(dict.fromkeys(people))


def schedule(status: str) -> MeetingStatus:
    if not MeetingStatus(status).is_open:
        raise PlanRuleViolation("Mødet er allerede lukket.", field="meeting_at")
    return MeetingStatus.SCHEDULED


def close(status: str, outcome: str, note: str | None) -> MeetingStatus:
    if not MeetingStatus(status).is_open:
        raise PlanRuleViolation("Mødet er allerede lukket.", field="outcome")
    result = MeetingStatus(outcome)
    if result not in (MeetingStatus.HELD, MeetingStatus.CANCELLED):
        raise PlanRuleViolation("Et møde lukkes som holdt eller aflyst.", field="outcome")
    if result is MeetingStatus.CANCELLED and not (note or "").strip():
        raise PlanRuleViolation("Skriv, hvorfor mødet er aflyst; borgeren kan læse det.", field="note")
    return result
