"""The unit of work: one transaction that holds a state change, the events it causes (outbox rows)
and the audit entries, committed together.

    async with UnitOfWork(session_factory, service="plans") as uow:
        plan = Plan(...); uow.session.add(plan)
        uow.emit(PlanOpenedV1(...))
        uow.audit(principal, "plan.open", citizen_id=plan.citizen_id, object_type="plan", object_id=plan.id)
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Iterable

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import BaseEvent
from tovholder.db import OUTBOX_CHANNEL, AuditEntry, InboxEntry, OutboxMessage
from tovholder.telemetry import current_trace_id, current_traceparent

if TYPE_CHECKING:
    from tovholder.auth import Principal

SYSTEM_ACTOR = "system"


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, service: str) -> None:
        self._sessions = sessions
        self.service = service
        self.session: AsyncSession
        self.emitted: list[tuple[uuid.UUID, BaseEvent]] = []
        self._committed = False
        # What this transaction's use cases already looked up, by a key the repository chooses (a
        # consumer batch's prefetch fills it: one SELECT for the batch instead of one per event).
        # It lives and dies with the transaction, so it is never staler than the session itself.
        self.looked_up: dict[Any, Any] = {}

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._sessions()
        self.emitted = []
        self._committed = False
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
        self.session.add(
            OutboxMessage(
                event_id=event_id,
                topic=body.topic.name,
                event_type=body.event_type,
                source=f"/tovholder/{self.service}",
                subject=body.event_subject(),
                occurred_at=occurred_at or datetime.now(timezone.utc),
                body=body.model_dump_json(),
                traceparent=current_traceparent(),
            )
        )
        self.emitted.append((event_id, body))
        return event_id

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
        self.session.add(
            AuditEntry(
                actor_sub=actor.sub if actor else SYSTEM_ACTOR,
                actor_role=actor.role if actor else SYSTEM_ACTOR,
                actor_org=actor.org if actor else None,
                actor_name=actor.name if actor else None,
                action=action,
                citizen_id=uuid.UUID(str(citizen_id)) if citizen_id else None,
                object_type=object_type,
                object_id=str(object_id) if object_id is not None else None,
                detail=detail,
                trace_id=current_trace_id(),
            )
        )

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
            await self.session.execute(insert(AuditEntry), values)

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
        result = await self.session.execute(
            insert(InboxEntry)
            .values([{"consumer": consumer, "event_id": e, "event_type": t} for e, t in unique])
            .on_conflict_do_nothing()
            .returning(InboxEntry.event_id)
        )
        return set(result.scalars().all())

    async def commit(self) -> None:
        if self.emitted:
            # Delivered by PostgreSQL only if the transaction commits: wakes the relay at once.
            await self.session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        await self.session.rollback()
