"""The unit of work: one transaction that holds a state change, the events it causes (outbox rows)
and the audit entries, committed together.

The rows nothing in the transaction reads back — outbox, audit, a partner's receipt — are not flushed
one INSERT each: ``commit`` writes them all, and the NOTIFY that wakes the relay, in one statement (a
WITH of INSERTs, ``write_statement``), so a partner message or a consumed event costs a few round trips,
not one a row.

    async with UnitOfWork(session_factory, service="plans") as uow:
        plan = Plan(...); uow.session.add(plan)
        uow.emit(PlanOpenedV1(...))
        uow.audit(principal, "plan.open", citizen_id=plan.citizen_id, object_type="plan", object_id=plan.id)
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import functools
import json
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Table, TextClause, inspect, text
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import BaseEvent
from tovholder.db import OUTBOX_CHANNEL, AuditEntry, InboxEntry, OutboxMessage
from tovholder.telemetry import current_trace_id, current_traceparent

if TYPE_CHECKING:
    from tovholder.auth import Principal

_POSTGRESQL = postgresql.dialect()

CLAIM_INBOX = text(
    "INSERT INTO inbox (consumer, event_id, event_type) "
    "SELECT :consumer, e, t FROM unnest(CAST(:ids AS VARCHAR(100)[]), CAST(:types AS VARCHAR(200)[])) AS u(e, t) "
    "ON CONFLICT DO NOTHING RETURNING event_id")

SYSTEM_ACTOR = "system"


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, service: str) -> None:
        self._sessions = sessions
        self.service = service
        self.session: AsyncSession
        self.emitted: list[tuple[uuid.UUID, BaseEvent]] = []
        self._committed = False
        self._at_commit: dict[tuple[Table, tuple[str, ...], bool], list[dict[str, Any]]] = {}
        # What this transaction's use cases already looked up, by a key the repository chooses (a
        # consumer batch's prefetch fills it: one SELECT for the batch instead of one per event).
        # It lives and dies with the transaction, so it is never staler than the session itself.
        self.looked_up: dict[Any, Any] = {}

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._sessions()
        self.emitted = []
        self._committed = False
        self._at_commit = {}
        self.looked_up = {}
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, body: BaseEvent, *, occurred_at: datetime | None = None) -> uuid.UUID:
        """Record an event to publish once this transaction commits. Returns its CloudEvent id."""
        event_id = uuid.uuid4()
        self.insert_at_commit(OutboxMessage.__table__, {
            "event_id": event_id,
            "topic": body.topic.name,
            "event_type": body.event_type,
            "source": f"/tovholder/{self.service}",
            "subject": body.event_subject(),
            "occurred_at": occurred_at or datetime.now(timezone.utc),
            "body": body.model_dump_json(),
            "traceparent": current_traceparent(),
        })
        self.emitted.append((event_id, body))
        return event_id

    def add_at_commit(self, row: Any) -> None:
        """A new ORM row that nothing in this transaction reads back (a timeline entry), written as
        ``insert_at_commit`` writes: the columns it sets, the others their defaults."""
        mapper = inspect(row).mapper
        self.insert_at_commit(mapper.local_table, {attribute.columns[0].key: value for attribute in mapper.column_attrs
                                                   if (value := getattr(row, attribute.key)) is not None})

    def insert_at_commit(self, table: Table, row: dict[str, Any], *, unless_there: bool = False) -> None:
        """A row that nothing in this transaction reads back, written with the others when it commits
        (and dropped if it rolls back). Rows of one table with the same columns share one INSERT.
        ``unless_there``: a row whose key is taken already is left out (ON CONFLICT DO NOTHING)."""
        missing = [(key, make) for key, make in _python_defaults(table) if key not in row]
        if missing:  # the statement is text: SQLAlchemy applies no Python-side default to it
            row = {**row, **{key: make() for key, make in missing}}
        self._at_commit.setdefault((table, tuple(sorted(row)), unless_there), []).append(row)

    def audit(
        self,
        actor: "Principal | None",
        action: str,
        *,
        citizen_id: uuid.UUID | str | None = None,
        object_type: str | None = None,
        object_id: Any = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write an audit entry (who, what, which citizen, when). ``actor=None`` means the system."""
        self.insert_at_commit(AuditEntry.__table__, {
            "actor_sub": actor.sub if actor else SYSTEM_ACTOR,
            "actor_role": actor.role if actor else SYSTEM_ACTOR,
            "actor_org": actor.org if actor else None,
            "actor_name": actor.name if actor else None,
            "action": action,
            "citizen_id": uuid.UUID(str(citizen_id)) if citizen_id else None,
            "object_type": object_type,
            "object_id": str(object_id) if object_id is not None else None,
            "detail": detail,
            "trace_id": current_trace_id(),
        })

    async def audit_many(self, actor: "Principal", action: str, rows: "Iterable[tuple[Any, Any]]", *,
                         object_type: str) -> None:
        """One audit entry per citizen shown by a list read — (citizen_id, object_id) pairs — in one
        multi-row INSERT, so each citizen's Min log shows the read (one entry naming many would not)."""
        trace_id = current_trace_id()
        values = [
            {"actor_sub": actor.sub, "actor_role": actor.role, "actor_org": actor.org, "actor_name": actor.name,
             "action": action, "citizen_id": uuid.UUID(str(citizen_id)), "object_type": object_type,
             "object_id": str(object_id) if object_id is not None else None, "trace_id": trace_id}
            for citizen_id, object_id in rows if citizen_id is not None
        ]
        if values:
            # The core INSERT, many parameter sets: compiled once (PostgreSQL's own Insert never is).
            await self.session.execute(core_insert(AuditEntry), values)

    async def lock(self, keys: Iterable[tuple[str, int]]) -> None:
        """Transaction-scoped advisory locks on ``(key, seed)`` (``hashtextextended(key, seed)``), the ones
        not held yet, in the order given and in one statement; held until the transaction ends. Callers
        that take several keep one order (sorted), so two transactions never wait on each other in a ring."""
        wanted = [(key, seed) for key, seed in dict.fromkeys(keys) if ("advisory-lock", key, seed) not in self.looked_up]
        if not wanted:
            return
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(k, s)) "
                 "FROM unnest(CAST(:keys AS text[]), CAST(:seeds AS bigint[])) WITH ORDINALITY AS t(k, s, n) ORDER BY n"),
            {"keys": [key for key, _ in wanted], "seeds": [seed for _, seed in wanted]})
        for key, seed in wanted:
            self.looked_up[("advisory-lock", key, seed)] = True

    async def claim_inbox(self, consumer: str, event_id: str, event_type: str) -> bool:
        """True if this consumer has not handled the event before (and now has, once we commit)."""
        result = await self.session.execute(
            insert(InboxEntry)
            .values(consumer=consumer, event_id=event_id, event_type=event_type)
            .on_conflict_do_nothing()
            .returning(InboxEntry.event_id)
        )
        return result.first() is not None

    async def claim_inbox_many(self, consumer: str, events: list[tuple[str, str]]) -> set[str]:
        """Claim a batch of (event_id, event_type) in one statement; returns the ids not handled
        before (the others are duplicates)."""
        if not events:
            return set()
        unique = list({event_id: (event_id, event_type) for event_id, event_type in events}.values())
        # One array a column: the same text for every batch size, compiled and prepared once.
        result = await self.session.execute(CLAIM_INBOX, {
            "consumer": consumer, "ids": [e for e, _ in unique], "types": [t for _, t in unique]})
        return set(result.scalars().all())

    async def commit(self) -> None:
        await self._write_at_commit()
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        await self.session.rollback()
        # What the transaction held dies with it: kept rows, events, locks and what it looked up.
        self._at_commit = {}
        self.emitted = []
        self.looked_up = {}

    async def _write_at_commit(self) -> None:
        """The rows kept for the commit, and the NOTIFY, in one statement. The session's own changes
        are flushed first, so a kept row may refer to a row the use case added through the session (a
        foreign key)."""
        await self.session.flush()
        pending, self._at_commit = self._at_commit, {}
        if not pending and not self.emitted:
            return
        shape = tuple(pending)
        parameters: dict[str, Any] = {"channel": OUTBOX_CHANNEL} if self.emitted else {}
        for index, ((table, keys, _), rows) in enumerate(pending.items()):
            for position, (key, is_json) in enumerate(_column_kinds(table, keys)):
                parameters[f"w{index}_{position}"] = [
                    json.dumps(row[key]) if is_json and row[key] is not None else row[key] for row in rows]
        await self.session.execute(write_statement(shape, notify=bool(self.emitted)), parameters)


@functools.cache
def _python_defaults(table: Table) -> tuple[tuple[str, Callable[[], Any]], ...]:
    """The table's Python-side column defaults (a scalar, or a callable such as ``uuid.uuid4``)."""
    return tuple((column.key, (lambda value=column.default.arg: value) if column.default.is_scalar
                  else functools.partial(column.default.arg, None))
                 for column in table.columns
                 if column.default is not None and (column.default.is_scalar or column.default.is_callable))


@functools.cache
def _column_kinds(table: Table, keys: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Each written column's key, and whether it holds JSON (sent as text, asyncpg's JSONB codec)."""
    return tuple((key, isinstance(table.c[key].type, (JSON, JSONB))) for key in keys)


@functools.lru_cache(maxsize=256)
def write_statement(shape: tuple[tuple[Table, tuple[str, ...], bool], ...], *, notify: bool) -> TextClause:
    """``WITH write_0 AS (INSERT INTO t (a, b) SELECT * FROM unnest(CAST(:w0_0 AS a's type[]), …)), …
    SELECT pg_notify(:channel, '')``: one array a column (``:w<insert>_<column>``), whatever the number
    of rows. Its text depends only on which tables and columns are written (``shape``), so it is built
    once here, and SQLAlchemy and asyncpg prepare it once and reuse it (a VALUES list a row would be a
    new statement for every batch size, compiled and prepared anew each time); and no number of rows
    meets the limit on parameters a statement."""
    quote = _POSTGRESQL.identifier_preparer
    writes: list[str] = []
    for index, (table, keys, unless_there) in enumerate(shape):
        columns = [table.c[key] for key in keys]
        arrays = [f"CAST(:w{index}_{position} AS {column.type.compile(dialect=_POSTGRESQL)}[])"
                  for position, column in enumerate(columns)]
        writes.append(f"write_{index} AS (INSERT INTO {quote.format_table(table)} "
                      f"({', '.join(quote.quote(column.name) for column in columns)}) "
                      f"SELECT * FROM unnest({', '.join(arrays)})"
                      f"{' ON CONFLICT DO NOTHING' if unless_there else ''})")
    # pg_notify is delivered by PostgreSQL only if the transaction commits: it wakes the relay at once.
    wake = "pg_notify(:channel, '')" if notify else "1"
    return text(f"WITH {', '.join(writes)} SELECT {wake}" if writes else f"SELECT {wake}")
