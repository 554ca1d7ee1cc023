"""Events published by the notifications service (work queues).

Task titles are short, generated work descriptions ("Indlagt: følg og besøg borgeren (Afsnit P2)"),
never a citizen's own words or clinical detail."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import NOTIFICATIONS

TaskPriority = Literal["routine", "urgent", "asap"]


@event("task-created", version=1, topic=NOTIFICATIONS)
class TaskCreatedV1(EventBody):
    task_id: UUID
    kind: str
    source_event_id: str
    created_at: datetime
    title: str | None = None
    priority: TaskPriority | None = None
    due_at: datetime | None = None
    owner: str | None = None
    pool_role: str | None = None
    botilbud_id: str | None = None


@event("task-completed", version=1, topic=NOTIFICATIONS)
class TaskCompletedV1(EventBody):
    task_id: UUID
    kind: str
    completed_by: str
    completed_at: datetime


@event("task-claimed", version=1, topic=NOTIFICATIONS)
class TaskClaimedV1(EventBody):
    task_id: UUID
    kind: str
    claimed_by: str
    claimed_at: datetime


@event("task-cancelled", version=1, topic=NOTIFICATIONS)
class TaskCancelledV1(EventBody):
    """Withdrawn (e.g. the hospital notice was cancelled) or closed (e.g. the citizen died); kept as history."""

    task_id: UUID
    kind: str
    reason: str
    cancelled_at: datetime


@event("task-escalated", version=1, topic=NOTIFICATIONS)
class TaskEscalatedV1(EventBody):
    """Nobody claimed an urgent task in time: it moved to the pool of ``to_role`` (the botilbud's named
    escalation role, or the coordinators when it already waited there)."""

    task_id: UUID
    kind: str
    to_role: str
    botilbud_id: str | None
    escalated_at: datetime
