"""When a plan or goal follow-up is due, and what a held follow-up records.

A schedule is anchored on the plan's start or the last follow-up; the next follow-up is due one
cadence later. A due follow-up is announced once per due date (the scheduler may run often), and
recording a follow-up moves the anchor: the next date is the cadence from the day it was held unless
the people present agreed another date.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date
from typing import Iterable
from uuid import UUID

from services.plans.domain.cadence import Cadence
from services.plans.domain.errors import PlanRuleViolation, require_text


class SubjectKind(str, enum.Enum):
    PLAN = "plan"
    GOAL = "goal"


@dataclass(frozen=True)
class FollowUpSchedule:
    plan_id: UUID
    subject: SubjectKind
    subject_id: UUID  # the plan id or the goal id
    cadence: Cadence
    anchor: date  # the start, or the day of the last follow-up
    due_on: date
    # The due date for which a "follow-up due" was already announced: announce each date once.
    announced_for: date | None = None

    @property
    def late_after(self) -> date:
        if self.cadence.latest_months is not None:
            return self.cadence.late_after(self.anchor)
        return self.due_on

    def is_due(self, today: date) -> bool:
        return self.due_on <= today

    def is_late(self, today: date) -> bool:
        return today > self.late_after


def schedule(*, plan_id: UUID, subject: SubjectKind, subject_id: UUID, cadence: Cadence,
             anchor: date) -> FollowUpSchedule:
    return FollowUpSchedule(plan_id=plan_id, subject=SubjectKind(subject), subject_id=subject_id,
                            cadence=cadence, anchor=anchor, due_on=cadence.due_on(anchor))


def change_cadence(current: FollowUpSchedule, cadence: Cadence) -> FollowUpSchedule:
    """A new cadence counts from the same anchor; an announcement for the old date no longer blocks."""
    return replace(current, cadence=cadence, due_on=cadence.due_on(current.anchor))


def to_announce(schedules: Iterable[FollowUpSchedule], today: date) -> list[FollowUpSchedule]:
    """The schedules whose follow-up is due and not yet announced for that due date."""
    return sorted(
        (s for s in schedules if s.is_due(today) and s.announced_for != s.due_on),
        key=lambda s: (s.due_on, str(s.subject_id)),
    )


def mark_announced(current: FollowUpSchedule) -> FollowUpSchedule:
    return replace(current, announced_for=current.due_on)


@dataclass(frozen=True)
class FollowUp:
    follow_up_id: UUID
    plan_id: UUID
    subject: SubjectKind
    subject_id: UUID
    held_on: date
    outcome: str
    next_due_on: date
    recorded_by: str
    written_with_citizen: bool


def record_follow_up(current: FollowUpSchedule, *, follow_up_id: UUID, held_on: date, outcome: str | None,
                     recorded_by: str, written_with_citizen: bool, today: date,
                     next_due_on: date | None = None) -> tuple[FollowUp, FollowUpSchedule]:
    """Record the outcome and move the schedule on. Returns the record and the new schedule."""
    if held_on > today:
        raise PlanRuleViolation("en opfølgning kan ikke registreres, før den er holdt", field="held_on")
    if held_on < current.anchor:
        raise PlanRuleViolation("opfølgningen er ældre end den senest registrerede", field="held_on")
    if not isinstance(written_with_citizen, bool):
        raise PlanRuleViolation("angiv, om det er skrevet sammen med borgeren (true eller false)",
                                field="written_with_citizen")
    next_due = next_due_on or current.cadence.due_on(held_on)
    if next_due <= held_on:
        raise PlanRuleViolation("den næste opfølgning skal ligge efter denne", field="next_due_on")
    record = FollowUp(
        follow_up_id=follow_up_id,
        plan_id=current.plan_id,
        subject=current.subject,
        subject_id=current.subject_id,
        held_on=held_on,
        outcome=require_text(outcome, "opfølgningens resultat", field="outcome"),
        next_due_on=next_due,
        recorded_by=recorded_by,
        written_with_citizen=written_with_citizen,
    )
    return record, replace(current, anchor=held_on, due_on=next_due, announced_for=None)
