"""The outbox relay: publishes committed outbox rows to Kafka (acks=all, key = citizen id).

It is woken by PostgreSQL NOTIFY when a transaction that emitted events commits, with a slow poll
as a safety net. Only one relay per service publishes at a time (a PostgreSQL advisory lock), so
a citizen's events leave in the order they were committed even with several replicas. A crash
after publishing but before marking rows published means those rows go out again: consumers are
idempotent. Published rows are kept for ``outbox_retention_days`` so `tovholder replay` can
republish them after a broker loss.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import asyncpg
from opentelemetry import trace
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tovholder.db import OUTBOX_CHANNEL, OutboxMessage, asyncpg_dsn
from tovholder.messaging import cloudevent_headers
from tovholder.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from tovholder.settings import Settings
from tovholder.telemetry import context_from_traceparent, inject_headers, tracer

log = logging.getLogger(__name__)

# (topic, key, value, headers) -> awaitable that completes when the broker acknowledged (acks=all)
SendFn = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]]


class OutboxRelay:
    def __init__(self, *, settings: Settings, sessions: async_sessionmaker[AsyncSession], send: SendFn) -> None:
        self.settings = settings
        self.sessions = sessions
        self.send = send
        self.wakeup = asyncio.Event()
        self.is_leader = False
        self._last_cleanup = 0.0
        self._last_backlog_check = 0.0

    async def run_forever(self) -> None:
        """Listen, lead, drain; reconnect with backoff on any failure."""
        delay = 0.5
        while True:
            try:
                await self._run_once()
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.is_leader = False
                if cancel_requested():
                    # asyncpg may turn a cancellation into its own error mid-query: still stop.
                    raise asyncio.CancelledError from exc
                log.warning("outbox relay interrupted (%s: %s); restarting in %.1fs", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15)

    async def _run_once(self) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.settings.database_url), timeout=5)
        try:
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self.wakeup.set())
            lock_key = f"tovholder-outbox-relay-{self.settings.service}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                await asyncio.sleep(2)  # another replica publishes; stand by
            self.is_leader = True
            log.info("outbox relay is publishing for %s", self.settings.service)
            while True:
                await self.drain()
                await self._maybe_cleanup()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.outbox_poll_interval_s)
                    # Let commits that land together share one batch (costs a few ms of latency,
                    # saves a drain per commit under load).
                    await asyncio.sleep(self.settings.outbox_coalesce_s)
                except asyncio.TimeoutError:
                    pass
                self.wakeup.clear()
                if conn.is_closed():
                    raise ConnectionError("listen connection closed")
        finally:
            self.is_leader = False
            await conn.close()

    async def drain(self) -> int:
        """Publish everything unpublished, in commit order, batch by batch."""
        total = 0
        while True:
            published = await self._publish_batch()
            total += published
            if published < self.settings.outbox_batch_size:
                break
        await self._maybe_measure_backlog()
        return total

    async def _maybe_measure_backlog(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_backlog_check < 1.0:
            return
        self._last_backlog_check = now
        async with self.sessions() as session:
            backlog = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        OUTBOX_BACKLOG.labels(self.settings.service).set(backlog or 0)

    async def _publish_batch(self) -> int:
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.published_at.is_(None))
                    .order_by(OutboxMessage.id)
                    .limit(self.settings.outbox_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).scalars().all()
            if not rows:
                return 0
            acks = []
            for row in rows:
                acks.append(await self._send(row))
            await asyncio.gather(*acks)  # every send acknowledged by the broker (acks=all)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(published_at=func.now(), publish_count=OutboxMessage.publish_count + 1)
            )
        for row in rows:
            EVENTS_PUBLISHED.labels(self.settings.service, row.event_type).inc()
        return len(rows)

    async def _send(self, row: OutboxMessage) -> Awaitable[object]:
        parent = context_from_traceparent(row.traceparent)
        with tracer().start_as_current_span(
            f"{row.topic} publish", context=parent, kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": row.topic,
                        "messaging.message.id": str(row.event_id), "cloudevents.event_type": row.event_type},
        ):
            headers = cloudevent_headers(
                event_id=str(row.event_id), event_type=row.event_type, source=row.source,
                subject=row.subject, time=row.occurred_at,
            )
            inject_headers(headers)  # traceparent of this publish span
            return await self.send(
                row.topic, row.subject.encode(), row.body.encode(), [(k, v.encode()) for k, v in headers.items()]
            )

    async def _maybe_cleanup(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_cleanup < 600:
            return
        self._last_cleanup = now
        cutoff = datetime.now(timezone.utc) - timedelta(days=self.settings.outbox_retention_days)
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(OutboxMessage).where(OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < cutoff)
            )


def cancel_requested() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def replay(database_url: str, since: datetime) -> int:
    """Mark every event committed since ``since`` for publishing again and wake the relay.

    Safe after a broker loss because every consumer is idempotent (inbox)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=5)
    try:
        async with conn.transaction():
            result = await conn.execute(
                "UPDATE outbox SET published_at = NULL WHERE created_at >= $1 AND published_at IS NOT NULL", since
            )
            await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return int(result.split()[-1])
    finally:
        await conn.close()
