"""Reminders, escalation and overdue flagging: what the scheduler does on every sweep, as pure rules.

- Reminders: before an examination the evening before (18:00) and the morning of the day (07:00),
  Danish time, as at Tangkær where decisions get "a date set with a staff reminder".
- Escalation: an urgent (or asap) task nobody has claimed moves to the botilbud's coordinator pool
  after a configurable time; it escalates once.
- Overdue: an active task past its due time is flagged once (and stays visibly overdue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from uuid import UUID

from services.notifications.domain import tasks as t
from services.notifications.domain.clock import at_local, local_date
from services.notifications.domain.tasks import ACTIVE_STATUSES, Pool, Priority, Reminder, Role, Task, TaskStatus

EVENING_BEFORE_HOUR = 18
MORNING_OF_HOUR = 7


def examination_reminders(examination_at: datetime, *, now: datetime | None = None) -> tuple[Reminder, ...]:
    """The evening before and the morning of an examination; moments already past or after it are dropped."""
    day = local_date(examination_at)
    candidates = (
        Reminder(at_local(day - timedelta(days=1), EVENING_BEFORE_HOUR), "Påmindelse: undersøgelse i morgen"),
        Reminder(at_local(day, MORNING_OF_HOUR), "Påmindelse: undersøgelse i dag"),
    )
    return tuple(
        r for r in candidates if r.at < examination_at and (now is None or r.at > now)
    )


def day_before_reminder(activity_at: datetime, *, now: datetime | None = None) -> tuple[Reminder, ...]:
    """Activities get one reminder the day before at 18:00."""
    reminder = Reminder(at_local(local_date(activity_at) - timedelta(days=1), EVENING_BEFORE_HOUR), "Påmindelse: aktivitet i morgen")
    return (reminder,) if now is None or reminder.at > now else ()


DEFAULT_ESCALATION_DELAYS: Mapping[Priority, timedelta] = MappingProxyType(
    {Priority.URGENT: timedelta(hours=2), Priority.ASAP: timedelta(minutes=30)}
)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """How long an unclaimed task of each priority may wait; priorities not listed never escalate."""

    delays: Mapping[Priority, timedelta] = field(default_factory=lambda: DEFAULT_ESCALATION_DELAYS)

    @classmethod
    def from_minutes(cls, *, urgent: float | None, asap: float | None) -> "EscalationPolicy":
        delays = {}
        if urgent is not None:
            delays[Priority.URGENT] = timedelta(minutes=urgent)
        if asap is not None:
            delays[Priority.ASAP] = timedelta(minutes=asap)
        return cls(MappingProxyType(delays))

    def escalation_due_at(self, task: Task) -> datetime | None:
        delay = self.delays.get(task.priority)
        return None if delay is None else task.created_at + delay


def escalation_target(task: Task) -> Pool | None:
    if task.botilbud_id is None:
        return None
    target = Pool(Role.COORDINATOR, task.botilbud_id)
    return None if task.pool == target and task.owner_sub is None else target


def should_escalate(task: Task, now: datetime, policy: EscalationPolicy) -> bool:
    if task.status is not TaskStatus.OPEN or task.escalated_at is not None:
        return False
    due = policy.escalation_due_at(task)
    return due is not None and due <= now and escalation_target(task) is not None


def escalate_if_due(task: Task, now: datetime, policy: EscalationPolicy) -> Task:
    if not should_escalate(task, now, policy):
        return task
    target = escalation_target(task)
    assert target is not None
    waited = int((now - task.created_at).total_seconds() // 60)
    return t.escalate(task, target, now, f"Ikke taget efter {waited} minutter – sendt til koordinatorerne")


def due_reminders(task: Task, now: datetime) -> tuple[Reminder, ...]:
    """Unsent reminders whose moment has come, for an active task that is not yet past its due time."""
    if task.status not in ACTIVE_STATUSES:
        return ()
    if task.due_at is not None and now > task.due_at:
        return ()  # a reminder after the fact helps no one; the task is flagged overdue instead
    return tuple(r for r in task.reminders if r.sent_at is None and r.at <= now)


def next_check_at(task: Task, policy: EscalationPolicy) -> datetime | None:
    """When the scheduler must look at the task again (stored and indexed, so a sweep reads only
    the tasks that have something due instead of scanning all active tasks)."""
    if task.status not in ACTIVE_STATUSES:
        return None
    moments: list[datetime] = []
    if task.status is TaskStatus.OPEN and task.escalated_at is None and escalation_target(task) is not None:
        due = policy.escalation_due_at(task)
        if due is not None:
            moments.append(due)
    if task.due_at is not None:
        if task.overdue_since is None:
            moments.append(task.due_at)
            # Once overdue, remaining reminders are moot (``due_reminders`` skips them).
            moments.extend(r.at for r in task.reminders if r.sent_at is None and r.at <= task.due_at)
    else:
        moments.extend(r.at for r in task.reminders if r.sent_at is None)
    return min(moments) if moments else None


@dataclass(slots=True)
class SweepResult:
    changed: list[Task] = field(default_factory=list)
    escalated: list[UUID] = field(default_factory=list)
    flagged_overdue: list[UUID] = field(default_factory=list)
    # (task as finally changed, the reminder to send to whoever has it)
    reminders: list[tuple[Task, Reminder]] = field(default_factory=list)


def sweep(tasks: Iterable[Task], now: datetime, policy: EscalationPolicy) -> SweepResult:
    """One scheduler pass over candidate tasks; only tasks that changed are returned."""
    result = SweepResult()
    for original in tasks:
        task = escalate_if_due(original, now, policy)
        if task is not original:
            result.escalated.append(task.task_id)
        fired = due_reminders(task, now)
        for reminder in fired:
            task = t.mark_reminder_sent(task, reminder, now)
        flagged = t.flag_overdue(task, now)
        if flagged is not task:
            result.flagged_overdue.append(task.task_id)
        task = flagged
        result.reminders.extend((task, reminder) for reminder in fired)
        if task is not original:
            result.changed.append(task)
    return result
