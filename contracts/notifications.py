"""Events published by the notifications service (work queues)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import NOTIFICATIONS


@event("task-created", version=1, topic=NOTIFICATIONS)
class TaskCreatedV1(EventBody):
    task_id: UUID
    kind: str
    source_event_id: str
    created_at: datetime


@event("task-completed", version=1, topic=NOTIFICATIONS)
class TaskCompletedV1(EventBody):
    task_id: UUID
    kind: str
    completed_by: str
    completed_at: datetime
