"""The task model and its state machine.

A task is immutable: every transition returns a new ``Task`` whose ``history`` ends with the entry
describing that change, so persistence only has to append ``task.history[-1]``. Nothing is ever
deleted; withdrawing a task means cancelling it with a reason.

States::

    open ──claim──▶ claimed ──start──▶ in_progress ──complete──▶ done
      │  ◀─release──┘  ◀──release─────────┘
      ├──start (named owner)─▶ in_progress
      ├──complete (named owner)───────────────────────────────▶ done
      └──cancel (from any non-final state)────────────────────▶ cancelled ──reopen──▶ open

A task either has a named owner (``owner_sub``) or sits in a pool (role + botilbud) from which
anyone with that role at that botilbud may claim it; a claimed pool task keeps its pool so it can be
released back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tovholder.access import SYSTEM_SUB, Actor, Role
from services.notifications.domain.errors import InvalidInput, NotAllowed, TransitionNotAllowed

SYSTEM_ACTOR = SYSTEM_SUB


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.CANCELLED)

    @property
    def label_da(self) -> str:
        return _STATUS_LABELS_DA[self]


_STATUS_LABELS_DA = {
    TaskStatus.OPEN: "Åben",
    TaskStatus.CLAIMED: "Taget",
    TaskStatus.IN_PROGRESS: "I gang",
    TaskStatus.DONE: "Udført",
    TaskStatus.CANCELLED: "Annulleret",
}

ACTIVE_STATUSES = frozenset({TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS})


class Priority(StrEnum):
    """Ordered as FHIR's request priority: routine < urgent < asap."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    @property
    def label_da(self) -> str:
        return _PRIORITY_LABELS_DA[self]


_PRIORITY_RANK = {Priority.ROUTINE: 0, Priority.URGENT: 1, Priority.ASAP: 2}
_PRIORITY_LABELS_DA = {Priority.ROUTINE: "Rutine", Priority.URGENT: "Haster", Priority.ASAP: "Hurtigst muligt"}


class TaskKind(StrEnum):
    FIRST_NETWORK_MEETING = "first-network-meeting"
    ACCOMPANY_ADMISSION = "accompany-admission"
    HOSPITAL_LEAVE_CONTACT = "hospital-leave-contact"
    DISCHARGE_FOLLOW_UP = "discharge-follow-up"
    INFORM_NETWORK_OF_DEATH = "inform-network-of-death"
    PLAN_FOLLOW_UP = "plan-follow-up"
    LEARNING_PLAN = "learning-plan"
    SAFETY_PLAN = "safety-plan"
    HEALTH_CHECK_PREPARATION = "health-check-preparation"
    HEALTH_CHECK_FOLLOW_UP = "health-check-follow-up"
    EXAMINATION_REMINDER = "examination-reminder"
    MEDICATION_CHANGE = "medication-change"
    DEPOT_VISIT_MISSED = "depot-visit-missed"
    RISK_REASSESSMENT = "risk-reassessment"
    GOAL_CORRECTION = "goal-correction"
    UNMATCHED_HOSPITAL_NOTICE = "unmatched-hospital-notice"
    VISITATION_FOLLOW_UP = "visitation-follow-up"
    MOVE_OUT = "move-out"
    NETWORK_MEETING = "network-meeting"
    OTHER = "other"

    @property
    def label_da(self) -> str:
        return KIND_LABELS_DA.get(self, self.value)


KIND_LABELS_DA: dict[TaskKind, str] = {
    TaskKind.FIRST_NETWORK_MEETING: "Første netværksmøde",
    TaskKind.NETWORK_MEETING: "Netværksmøde borgeren har bedt om",
    TaskKind.ACCOMPANY_ADMISSION: "Indlæggelse: følg og besøg",
    TaskKind.HOSPITAL_LEAVE_CONTACT: "Orlov fra hospital",
    TaskKind.DISCHARGE_FOLLOW_UP: "Opfølgning efter udskrivelse",
    TaskKind.INFORM_NETWORK_OF_DEATH: "Underret netværket om dødsfald",
    TaskKind.PLAN_FOLLOW_UP: "Opfølgning på Borgerens Plan",
    TaskKind.LEARNING_PLAN: "Læringsplan",
    TaskKind.SAFETY_PLAN: "Tryghedsplan",
    TaskKind.HEALTH_CHECK_PREPARATION: "Forberedelse af sundhedstjek",
    TaskKind.HEALTH_CHECK_FOLLOW_UP: "Opfølgning på sundhedstjek",
    TaskKind.EXAMINATION_REMINDER: "Påmindelse om undersøgelse",
    TaskKind.MEDICATION_CHANGE: "Medicinændring",
    TaskKind.DEPOT_VISIT_MISSED: "Udeblevet depotbesøg",
    TaskKind.RISK_REASSESSMENT: "Genvurdering af risiko",
    TaskKind.GOAL_CORRECTION: "Rettelse af indsatsmål",
    TaskKind.UNMATCHED_HOSPITAL_NOTICE: "Hospitalsadvis uden match",
    TaskKind.VISITATION_FOLLOW_UP: "Opfølgning på visitation",
    TaskKind.MOVE_OUT: "Udflytning",
    TaskKind.OTHER: "Opgave",
}


# The roles that take work from the queue (admin supports, and sees tasks without doing them).
WORK_QUEUE_ROLES = frozenset({Role.VISITATION, Role.COORDINATOR, Role.NURSE_CONSULTANT})

_ROLE_LABELS_DA = {
    Role.VISITATION: "Visitation",
    Role.COORDINATOR: "Koordinatorer",
    Role.NURSE_CONSULTANT: "Sygeplejekonsulenter",
}


@dataclass(frozen=True, slots=True)
class Pool:
    """Whoever has ``role`` at ``botilbud_id`` may claim; ``botilbud_id=None`` is municipality-wide."""

    role: Role
    botilbud_id: str | None = None

    def admits(self, actor: "Actor") -> bool:
        return actor.role == self.role and (self.botilbud_id is None or actor.botilbud_id == self.botilbud_id)

    @property
    def label_da(self) -> str:
        who = _ROLE_LABELS_DA.get(self.role, self.role.value)
        return f"{who} – {self.botilbud_id}" if self.botilbud_id else f"{who} – hele kommunen"


@dataclass(frozen=True, slots=True)
class Link:
    """What a task concerns, e.g. ``Link("hospital-notice", notice_id)`` or ``Link("referral", id)``."""

    rel: str
    ref: str

    def __str__(self) -> str:
        return f"{self.rel}:{self.ref}"

    @classmethod
    def parse(cls, text: str) -> "Link":
        rel, sep, ref = text.partition(":")
        if not sep or not rel or not ref:
            raise InvalidInput(f"'{text}' er ikke et link på formen type:reference")
        return cls(rel, ref)


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: tuple[Change, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A moment to remind whoever has the task, e.g. the evening and the morning before an examination."""

    at: datetime
    label: str
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Task:
    task_id: UUID
    kind: TaskKind
    title: str
    citizen_id: UUID | None  # None only for work about no known citizen (an unmatched hospital notice)
    status: TaskStatus
    priority: Priority
    created_at: datetime
    updated_at: datetime
    source_event_id: str
    source_event_type: str
    botilbud_id: str | None = None
    owner_sub: str | None = None
    pool: Pool | None = None
    business_status: str | None = None
    due_at: datetime | None = None
    description: str | None = None
    checklist: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    escalated_at: datetime | None = None
    overdue_since: datetime | None = None
    reminders: tuple[Reminder, ...] = ()
    # The link of the event that closed this task (cancelled it, or closed it as done, e.g. a discharge),
    # so withdrawing *that* event can reopen it. (One column for both: a task is closed once.)
    cancelled_by: str | None = None
    history: tuple[HistoryEntry, ...] = field(default=())

    @property
    def is_claimable(self) -> bool:
        return self.status is TaskStatus.OPEN and self.owner_sub is None and self.pool is not None

    def has_link(self, link: Link) -> bool:
        return link in self.links

    def is_overdue(self, now: datetime) -> bool:
        return self.status in ACTIVE_STATUSES and self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a rule asks for; ``new_task`` turns it into a ``Task``."""

    kind: TaskKind
    title: str
    priority: Priority = Priority.ROUTINE
    due_at: datetime | None = None
    owner_sub: str | None = None
    pool: Pool | None = None
    business_status: str | None = None
    description: str | None = None
    checklist: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    reminders: tuple[Reminder, ...] = ()

    def __post_init__(self) -> None:
        if (self.owner_sub is None) == (self.pool is None):
            raise InvalidInput("En opgave skal have enten en navngiven ejer eller en pulje – ikke begge")
        if not self.title.strip():
            raise InvalidInput("En opgave skal have en titel")


def new_task(
    spec: TaskSpec,
    *,
    task_id: UUID,
    citizen_id: UUID | None,
    botilbud_id: str | None,
    source_event_id: str,
    source_event_type: str,
    now: datetime,
) -> Task:
    _require_aware(now)
    if spec.due_at is not None:
        _require_aware(spec.due_at)
    return Task(
        task_id=task_id,
        kind=spec.kind,
        title=spec.title,
        citizen_id=citizen_id,
        status=TaskStatus.OPEN,
        priority=spec.priority,
        created_at=now,
        updated_at=now,
        source_event_id=source_event_id,
        source_event_type=source_event_type,
        botilbud_id=botilbud_id,
        owner_sub=spec.owner_sub,
        pool=spec.pool,
        business_status=spec.business_status,
        due_at=spec.due_at,
        description=spec.description,
        checklist=spec.checklist,
        links=spec.links,
        reminders=spec.reminders,
        history=(HistoryEntry(at=now, actor=SYSTEM_ACTOR, action="created", note=f"Fra hændelse {source_event_type}"),),
    )


# ---------------------------------------------------------------- transitions


def claim(task: Task, actor: Actor, now: datetime) -> Task:
    if task.owner_sub == actor.sub and task.status in (TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS):
        return task  # a repeated click or a retried request changes nothing
    _require_status(task, {TaskStatus.OPEN}, "tages")
    if task.owner_sub is not None and task.owner_sub != actor.sub:
        raise NotAllowed("Opgaven er tildelt en anden medarbejder og kan ikke tages")
    if task.owner_sub is None and (task.pool is None or not task.pool.admits(actor)):
        raise NotAllowed("Opgaven ligger i en pulje, du ikke hører til (rolle og botilbud skal passe)")
    return _change(task, now, actor.sub, "claimed", status=TaskStatus.CLAIMED, owner_sub=actor.sub)


def start(task: Task, actor: Actor, now: datetime) -> Task:
    if task.status is TaskStatus.IN_PROGRESS and task.owner_sub == actor.sub:
        return task
    _require_status(task, {TaskStatus.OPEN, TaskStatus.CLAIMED}, "sættes i gang")
    _require_owner(task, actor)
    return _change(task, now, actor.sub, "started", status=TaskStatus.IN_PROGRESS)


def complete(task: Task, actor: Actor, now: datetime, note: str | None = None) -> Task:
    if task.status is TaskStatus.DONE and task.owner_sub == actor.sub:
        return task
    _require_status(task, ACTIVE_STATUSES, "afsluttes")
    _require_owner(task, actor)
    return _change(task, now, actor.sub, "completed", note=note, status=TaskStatus.DONE)


def close_as_done(task: Task, actor: Actor, now: datetime, reason: str, *, closed_by: str | None = None) -> Task:
    """The work was recorded elsewhere (e.g. the follow-up was registered in Borgerens Plan). ``closed_by``
    names the event that made it so (kept in ``cancelled_by``), so that event's withdrawal can undo it."""
    if task.status is TaskStatus.DONE:
        return task
    _require_status(task, ACTIVE_STATUSES, "afsluttes")
    return _change(task, now, actor.sub, "completed", note=reason, status=TaskStatus.DONE, cancelled_by=closed_by)


def release(task: Task, actor: Actor, now: datetime) -> Task:
    """Put a claimed pool task back in its pool."""
    _require_status(task, {TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS}, "lægges tilbage")
    _require_owner(task, actor)
    if task.pool is None:
        raise TransitionNotAllowed("Opgaven er tildelt dig direkte og har ingen pulje at lægge den tilbage i")
    return _change(task, now, actor.sub, "released", status=TaskStatus.OPEN, owner_sub=None)


def cancel(task: Task, actor: Actor, now: datetime, reason: str, *, cancelled_by: str | None = None) -> Task:
    if task.status is TaskStatus.CANCELLED:
        return task
    _require_status(task, ACTIVE_STATUSES, "annulleres")
    if not reason.strip():
        raise InvalidInput("Angiv en begrundelse for at annullere opgaven")
    return _change(
        task, now, actor.sub, "cancelled", note=reason, status=TaskStatus.CANCELLED, cancelled_by=cancelled_by
    )


def reopen(task: Task, actor: Actor, now: datetime, reason: str) -> Task:
    """Undo a cancellation, or a closing by an event (``cancelled_by`` set), e.g. when the notice that
    caused it is itself withdrawn. Work a person completed stays completed."""
    reopenable = {TaskStatus.CANCELLED} | ({TaskStatus.DONE} if task.cancelled_by else set())
    _require_status(task, reopenable, "genåbnes")
    status = TaskStatus.OPEN
    return _change(task, now, actor.sub, "reopened", note=reason, status=status, cancelled_by=None)


def escalate(task: Task, to_pool: Pool, now: datetime, reason: str) -> Task:
    """Move an unclaimed task to another pool (the botilbud's coordinators); a named owner is released."""
    _require_status(task, {TaskStatus.OPEN}, "eskaleres")
    return _change(task, now, SYSTEM_ACTOR, "escalated", note=reason, pool=to_pool, owner_sub=None, escalated_at=now)


def revise(task: Task, actor: Actor, now: datetime, reason: str, **fields: Any) -> Task:
    """Change descriptive fields (title, due time, priority, links, …), e.g. after a corrected notice.

    A finished task is not changed; the correction is only noted in its history."""
    allowed = {"title", "due_at", "priority", "description", "checklist", "links", "business_status", "reminders"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"Feltet kan ikke ændres: {', '.join(sorted(unknown))}")
    if task.status.is_final:
        return note(task, actor, now, f"{reason} (opgaven var allerede {task.status.label_da.lower()})")
    return _change(task, now, actor.sub, "revised", note=reason, **fields)


def set_business_status(task: Task, actor: Actor, now: datetime, business_status: str | None) -> Task:
    """The owner's own word for where the work stands ("afventer svar fra afdelingen"); the system's
    rules set it too (``actor`` = system)."""
    if actor.sub != SYSTEM_ACTOR:
        _require_status(task, ACTIVE_STATUSES, "ændres")
        _require_owner(task, actor)
    if business_status is not None and (not business_status.strip() or len(business_status) > 100):
        raise InvalidInput("Forretningsstatus skal være tekst på 1–100 tegn")
    return _change(task, now, actor.sub, "business-status", business_status=business_status)


def reassign(
    task: Task, actor: Actor, now: datetime, *, owner_sub: str | None, pool: Pool | None, note: str | None = None
) -> Task:
    """Give an active task to a named person or a pool (e.g. the tovholder changed)."""
    _require_status(task, ACTIVE_STATUSES, "omfordeles")
    if owner_sub is None and pool is None:
        raise InvalidInput("Angiv en ejer eller en pulje")
    status = TaskStatus.OPEN if owner_sub is None or owner_sub != task.owner_sub else task.status
    return _change(task, now, actor.sub, "reassigned", note=note, owner_sub=owner_sub, pool=pool, status=status)


def flag_overdue(task: Task, now: datetime) -> Task:
    """Mark a task overdue once; returns the same object when nothing changed."""
    if task.overdue_since is not None or not task.is_overdue(now):
        return task
    return _change(task, now, SYSTEM_ACTOR, "overdue", overdue_since=now)


def mark_reminder_sent(task: Task, reminder: Reminder, now: datetime) -> Task:
    if reminder not in task.reminders:
        raise InvalidInput("Påmindelsen hører ikke til opgaven")
    sent = replace(reminder, sent_at=now)
    reminders = tuple(sent if r == reminder else r for r in task.reminders)
    entry = HistoryEntry(at=now, actor=SYSTEM_ACTOR, action="reminded", note=reminder.label)
    return replace(task, reminders=reminders, updated_at=now, history=task.history + (entry,))


def note(task: Task, actor: Actor, now: datetime, text: str) -> Task:
    entry = HistoryEntry(at=now, actor=actor.sub, action="noted", note=text)
    return replace(task, updated_at=now, history=task.history + (entry,))


# ---------------------------------------------------------------- helpers


def _change(task: Task, now: datetime, actor: str, action: str, *, note: str | None = None, **fields: Any) -> Task:
    _require_aware(now)
    changes = tuple(
        Change(name, getattr(task, name), value) for name, value in fields.items() if getattr(task, name) != value
    )
    entry = HistoryEntry(at=now, actor=actor, action=action, changes=changes, note=note)
    return replace(task, **fields, updated_at=now, history=task.history + (entry,))


def _require_status(task: Task, allowed: set[TaskStatus] | frozenset[TaskStatus], verb: str) -> None:
    if task.status not in allowed:
        raise TransitionNotAllowed(f"Opgaven er {task.status.label_da.lower()} og kan ikke {verb}")


def _require_owner(task: Task, actor: Actor) -> None:
    if task.owner_sub is None:
        raise TransitionNotAllowed("Tag opgaven først")
    if task.owner_sub != actor.sub:
        raise NotAllowed("Kun den, der har opgaven, kan gøre dette")


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise InvalidInput("Tidspunkter skal have tidszone")
