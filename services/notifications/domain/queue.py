"""Work-queue filters and keyset pagination, independent of the database.

Order: due time first (tasks without one last), then ``task_id`` — a total order, so a cursor
``(sort_at, task_id)`` resumes exactly after the last row seen (``WHERE (sort_at, task_id) > cursor``),
which an index on ``(sort_at, task_id)`` answers in the same time on page 1 and page 10,000.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from services.notifications.domain.clock import as_date, as_datetime, at_local
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.tasks import Priority, Task, TaskKind

NO_DUE_SORT_AT = datetime(9999, 12, 31, tzinfo=UTC)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def sort_at(due_at: datetime | None) -> datetime:
    return due_at if due_at is not None else NO_DUE_SORT_AT


@dataclass(frozen=True, slots=True)
class Cursor:
    sort_at: datetime
    task_id: UUID

    def encode(self) -> str:
        raw = json.dumps({"s": self.sort_at.isoformat(), "i": str(self.task_id)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            return cls(as_datetime(data["s"], "cursor"), UUID(data["i"]))
        except (binascii.Error, ValueError, KeyError, TypeError, InvalidInput) as error:
            raise InvalidInput("cursor er ugyldig; brug next_cursor fra det forrige svar") from error

    @classmethod
    def after(cls, task: Task) -> "Cursor":
        return cls(sort_at(task.due_at), task.task_id)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    kind: TaskKind | None = None
    citizen_id: UUID | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool | None = None
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None
    priority: Priority | None = None


def _bound(value: str, name: str, *, end_of_day: bool) -> datetime:
    """A date means the start (due_after) or end (due_before) of that Danish day."""
    if "T" in value or " " in value:
        return as_datetime(value, name)
    day = as_date(value, name)
    return at_local(day, 23, 59) if end_of_day else at_local(day, 0, 0)


def parse_filter(params: Mapping[str, str | None]) -> QueueFilter:
    """Query parameters → a ``QueueFilter``; every bad value gives a reason a person can act on."""
    kind = None
    if params.get("kind"):
        try:
            kind = TaskKind(params["kind"])
        except ValueError as error:
            known = ", ".join(k.value for k in TaskKind)
            raise InvalidInput(f"kind '{params['kind']}' findes ikke; brug en af: {known}") from error
    citizen_id = None
    if params.get("citizen_id"):
        try:
            citizen_id = UUID(params["citizen_id"])
        except ValueError as error:
            raise InvalidInput("citizen_id skal være et UUID") from error
    due_before = _bound(params["due_before"], "due_before", end_of_day=True) if params.get("due_before") else None
    due_after = _bound(params["due_after"], "due_after", end_of_day=False) if params.get("due_after") else None
    if due_before and due_after and due_after > due_before:
        raise InvalidInput("due_after ligger efter due_before")
    overdue = None
    if params.get("overdue") not in (None, ""):
        value = str(params["overdue"]).lower()
        if value not in ("true", "false", "1", "0"):
            raise InvalidInput("overdue skal være true eller false")
        overdue = value in ("true", "1")
    limit = DEFAULT_LIMIT
    if params.get("limit") not in (None, ""):
        try:
            limit = int(str(params["limit"]))
        except ValueError as error:
            raise InvalidInput("limit skal være et heltal") from error
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit skal være mellem 1 og {MAX_LIMIT}")
    cursor = Cursor.decode(params["cursor"]) if params.get("cursor") else None
    priority = None
    if params.get("priority"):
        try:
            priority = Priority(params["priority"])
        except ValueError as error:
            known = ", ".join(p.value for p in Priority)
            raise InvalidInput(f"priority '{params['priority']}' findes ikke; brug en af: {known}") from error
    return QueueFilter(kind, citizen_id, due_before, due_after, overdue, limit, cursor, priority)


def matches(task: Task, queue_filter: QueueFilter, now: datetime) -> bool:
    """The filter as a predicate (the SQL in the service must agree; tests compare the two)."""
    f = queue_filter
    if f.kind is not None and task.kind != f.kind:
        return False
    if f.priority is not None and task.priority != f.priority:
        return False
    if f.citizen_id is not None and task.citizen_id != f.citizen_id:
        return False
    if f.due_before is not None and (task.due_at is None or task.due_at > f.due_before):
        return False
    if f.due_after is not None and (task.due_at is None or task.due_at < f.due_after):
        return False
    if f.overdue is not None and task.is_overdue(now) != f.overdue:
        return False
    if f.cursor is not None and (sort_at(task.due_at), task.task_id) <= (f.cursor.sort_at, f.cursor.task_id):
        return False
    return True


def page(tasks: Sequence[Task], queue_filter: QueueFilter, now: datetime) -> tuple[list[Task], Cursor | None]:
    """Reference implementation over a list (the database does the same with an index)."""
    ordered = sorted((t for t in tasks if matches(t, queue_filter, now)), key=lambda t: (sort_at(t.due_at), t.task_id))
    rows = ordered[: queue_filter.limit + 1]
    has_more = len(rows) > queue_filter.limit
    rows = rows[: queue_filter.limit]
    return rows, (Cursor.after(rows[-1]) if has_more else None)
