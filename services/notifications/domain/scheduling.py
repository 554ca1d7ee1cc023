"""Reminders, escalation and overdue flagging: what the scheduler does on every sweep, as pure rules.

- Reminders: before an examination the evening before and the morning of the day, Danish time, as
  at Tangkær where decisions get "a date set with a staff reminder" — the kit's one schedule
  (``tovholder.reminders``: 19:00 and 08:00, or an hour before an early examination; a setting).
  Health puts the moments on its events (``reminders_at``); the sweep fires them.
- Escalation: an urgent (or asap) task nobody has claimed moves, after a configurable wait, to the
  botilbud's named escalation role (a setting per botilbud, default the nurse consultants). So a red
  LA2 re-assessment left in the coordinators' pool goes to the escalation role; a task already
  waiting in the escalation role's own pool goes to the coordinators (from there, to the nurse
  consultants). It escalates once, with a history entry on the task saying where it went and why.
- Overdue: an active task past its due time is flagged once (and stays visibly overdue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from uuid import UUID

from services.notifications.domain import tasks as t
from tovholder.reminders import DEFAULT_SCHEDULE, ReminderSchedule
from services.notifications.domain.tasks import ACTIVE_STATUSES, Pool, Priority, Reminder, Role, Task, TaskStatus

def examination_reminders(examination_at: datetime, *, now: datetime | None = None,
                          schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> tuple[Reminder, ...]:
    """The evening before and the morning of an examination (the kit's one schedule); moments
    already past or after it are dropped."""
    labels = ("Påmindelse: undersøgelse i morgen", "Påmindelse: undersøgelse i dag")
    evening, morning = schedule.evening_before_moment(examination_at), schedule.morning_of_moment(examination_at)
    return tuple(Reminder(moment.astimezone(UTC), label) for moment, label in zip((evening, morning), labels)
                 if moment in schedule.moments_before(examination_at, after=now))


def day_before_reminder(activity_at: datetime, *, now: datetime | None = None,
                        schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> tuple[Reminder, ...]:
    """Activities get one reminder, the evening before (the kit's one schedule)."""
    moment = schedule.evening_before_moment(activity_at)
    reminder = Reminder(moment.astimezone(UTC), "Påmindelse: aktivitet i morgen")
    return (reminder,) if now is None or reminder.at > now else ()


DEFAULT_ESCALATION_DELAYS: Mapping[Priority, timedelta] = MappingProxyType(
    {Priority.URGENT: timedelta(hours=2), Priority.ASAP: timedelta(minutes=30)}
)
# Who takes over urgent work nobody claimed, per botilbud ("*": every botilbud not named).
ANY_BOTILBUD = "*"
DEFAULT_ESCALATION_ROLES: Mapping[str, Role] = MappingProxyType({ANY_BOTILBUD: Role.NURSE_CONSULTANT})
ESCALATION_ROLES = frozenset({Role.COORDINATOR, Role.NURSE_CONSULTANT, Role.VISITATION})
# Kinds whose deadline is a promise to the citizen (the network meeting they called: within 5 working
# days) also escalate, whatever their priority, when their due time passes with nobody on them.
ESCALATE_WHEN_LATE = frozenset({t.TaskKind.NETWORK_MEETING})
# When a task already waits in the escalation role's own pool, it goes to the next of these.
_FALLBACK_ROLES = (Role.COORDINATOR, Role.NURSE_CONSULTANT)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """How long an unclaimed task of each priority may wait (priorities not listed never escalate),
    and each botilbud's named escalation role: the pool an unclaimed urgent task moves to."""

    delays: Mapping[Priority, timedelta] = field(default_factory=lambda: DEFAULT_ESCALATION_DELAYS)
    roles: Mapping[str, Role] = field(default_factory=lambda: DEFAULT_ESCALATION_ROLES)

    @classmethod
    def from_minutes(cls, *, urgent: float | None, asap: float | None,
                     roles: Mapping[str, str | Role] | None = None) -> "EscalationPolicy":
        delays = {}
        if urgent is not None:
            delays[Priority.URGENT] = timedelta(minutes=urgent)
        if asap is not None:
            delays[Priority.ASAP] = timedelta(minutes=asap)
        return cls(MappingProxyType(delays), escalation_roles(roles) if roles is not None else DEFAULT_ESCALATION_ROLES)

    def escalation_due_at(self, task: Task) -> datetime | None:
        delay = self.delays.get(task.priority)
        moments = [task.created_at + delay] if delay is not None else []
        if task.kind in ESCALATE_WHEN_LATE and task.due_at is not None:
            moments.append(task.due_at)
        return min(moments) if moments else None

    def escalation_role(self, botilbud_id: str) -> Role:
        return self.roles.get(botilbud_id) or self.roles.get(ANY_BOTILBUD) or Role.NURSE_CONSULTANT


def escalation_roles(raw: Mapping[str, str | Role]) -> Mapping[str, Role]:
    """Validate the setting: botilbud id (or "*") → coordinator, nurse-consultant or visitation."""
    roles: dict[str, Role] = {}
    for botilbud, role in raw.items():
        try:
            value = Role(role)
        except ValueError:
            value = None
        if value not in ESCALATION_ROLES:
            allowed = ", ".join(sorted(r.value for r in ESCALATION_ROLES))
            raise ValueError(f"eskaleringsrollen for {botilbud!r} skal være en af {allowed} (fik {role!r})")
        roles[str(botilbud)] = value
    return MappingProxyType(roles)


def _pool_of(role: Role, botilbud_id: str) -> Pool:
    return Pool(role, None) if role is Role.VISITATION else Pool(role, botilbud_id)


def escalation_target(task: Task, policy: EscalationPolicy) -> Pool | None:
    """The botilbud's named escalation role; a task already waiting in that pool goes on to the
    coordinators (or, from there, the nurse consultants). No botilbud: nowhere to go."""
    if task.botilbud_id is None:
        return None
    for role in (policy.escalation_role(task.botilbud_id), *_FALLBACK_ROLES):
        target = _pool_of(role, task.botilbud_id)
        if not (task.pool == target and task.owner_sub is None):
            return target
    return None


def should_escalate(task: Task, now: datetime, policy: EscalationPolicy) -> bool:
    if task.status is not TaskStatus.OPEN or task.escalated_at is not None:
        return False
    due = policy.escalation_due_at(task)
    return due is not None and due <= now and escalation_target(task, policy) is not None


def escalate_if_due(task: Task, now: datetime, policy: EscalationPolicy) -> Task:
    if not should_escalate(task, now, policy):
        return task
    target = escalation_target(task, policy)
    assert target is not None and task.botilbud_id is not None
    waited = int((now - task.created_at).total_seconds() // 60)
    named = policy.escalation_role(task.botilbud_id)
    why = ("botilbuddets eskaleringsrolle" if target.role is named
           else f"lå allerede hos botilbuddets eskaleringsrolle ({_pool_of(named, task.botilbud_id).label_da})")
    return t.escalate(task, target, now, f"Ikke taget efter {waited} minutter – sendt til {target.label_da} ({why})")


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
    if task.status is TaskStatus.OPEN and task.escalated_at is None and escalation_target(task, policy) is not None:
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
    # A late promise someone has taken: (the task, the escalation pool to tell; the task stays theirs)
    late_promises: list[tuple[Task, Pool]] = field(default_factory=list)


def late_promise_pool(task: Task, policy: EscalationPolicy) -> Pool | None:
    """A promise to the citizen (``ESCALATE_WHEN_LATE``) that someone has taken and not kept by its due
    time: taking it away from them helps nobody, so it stays theirs and the botilbud's escalation role
    is told (unclaimed ones move to that role instead, ``escalate_if_due``)."""
    if task.kind not in ESCALATE_WHEN_LATE or task.botilbud_id is None or task.owner_sub is None:
        return None
    if task.status not in (TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS):
        return None
    return _pool_of(policy.escalation_role(task.botilbud_id), task.botilbud_id)


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
            told = late_promise_pool(flagged, policy)
            if told is not None:
                flagged = t.note(flagged, t.Actor.system(), now,
                                 f"Over fristen – {told.label_da} har fået besked; opgaven er stadig hos den, der tog den")
                result.late_promises.append((flagged, told))
        task = flagged
        result.reminders.extend((task, reminder) for reminder in fired)
        if task is not original:
            result.changed.append(task)
    return result
