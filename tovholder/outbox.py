"""The outbox relay: publishes committed outbox rows to Kafka (acks=all, key = citizen id).

It is woken by PostgreSQL NOTIFY when a transaction that emitted events commits, with a slow poll
as a safety net. Only one relay per service publishes at a time (a PostgreSQL advisory lock), so
a citizen's events leave in the order they were committed even with several replicas. A crash
after publishing but before marking rows published means those rows go out again: consumers are
idempotent. Published rows are kept for ``outbox_retention_days`` so `tovholder replay` can
republish them after a broker loss.

Before each batch the relay asks the broker itself (``tovholder.broker_view``) whether the batch's
topics exist and what its cluster id is:
- a topic is missing (Tansu restarted empty, and it would acknowledge writes to it anyway) → the
  rows stay unpublished; a WARNING, and another try after a short backoff;
- the cluster id changed → the broker is a new one, with an empty log: every row published since
  this process first saw the previous broker is marked unpublished again (or every retained row,
  when that broker was already there at this process's start) and goes out again before anything
  else. The same check runs when the relay is idle, so a restart is noticed without traffic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
from aiokafka.errors import KafkaError
from opentelemetry import trace
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tovholder.broker_view import BrokerView, TopicsMissing
from tovholder.db import OUTBOX_CHANNEL, OutboxMessage, asyncpg_dsn
from tovholder.messaging import cancel_requested, cloudevent_headers
from tovholder.metrics import BROKER_CLUSTER_CHANGES, EVENTS_PUBLISHED, OUTBOX_RELAY_LEADER, measure_outbox
from tovholder.settings import Settings
from tovholder.telemetry import context_from_traceparent, inject_headers, tracer

log = logging.getLogger(__name__)

# (topic, key, value, headers) -> awaitable that completes when the broker acknowledged (acks=all)
SendFn = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]]
# topics -> what the broker says about them (asked fresh, see tovholder.broker_view)
DescribeBrokerFn = Callable[[Sequence[str]], Awaitable[BrokerView]]

BROKER_RETRY_INITIAL_S = 0.25
BROKER_RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class BrokerChanged(Exception):
    """The broker answering now is not the one the relay published to before."""

    previous: str
    current: str
    # Every row published to the previous broker has published_at >= since (None: all retained rows).
    since: datetime | None


class OutboxRelay:
    def __init__(self, *, settings: Settings, sessions: async_sessionmaker[AsyncSession], send: SendFn,
                 describe_broker: DescribeBrokerFn | None = None) -> None:
        """``describe_broker`` guards every batch (topics exist, same broker). Services always
        pass it; only a caller that manages the broker itself (a test) may leave it out."""
        self.settings = settings
        self.sessions = sessions
        self.send = send
        self.describe_broker = describe_broker
        self.wakeup = asyncio.Event()
        self.is_leader = False  # /metrics shows 0 (standing by) until this replica takes the lock
        # The broker this process publishes to, and the database time from which everything it
        # published there has published_at >= it (None while it is the broker this process
        # started with: when that one started is unknown).
        self.cluster_id: str | None = None
        self.cluster_since: datetime | None = None
        self._broker_retry_s = BROKER_RETRY_INITIAL_S
        self._last_cleanup = 0.0
        self._last_backlog_check = 0.0

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    @is_leader.setter
    def is_leader(self, leading: bool) -> None:
        self._is_leader = leading
        OUTBOX_RELAY_LEADER.labels(self.settings.service).set(1 if leading else 0)

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
            idle = False
            while True:
                if not await self._publish_what_the_broker_takes(check_broker_first=idle):
                    # The broker cannot take it now: try again after a backoff, not on every
                    # commit's NOTIFY, so an outage costs a few log lines, not a busy loop.
                    await asyncio.sleep(self._broker_retry_s)
                    self._broker_retry_s = min(self._broker_retry_s * 2, BROKER_RETRY_MAX_S)
                    self.wakeup.clear()
                    continue
                self._broker_retry_s = BROKER_RETRY_INITIAL_S
                await self._maybe_cleanup()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.outbox_poll_interval_s)
                    idle = False
                    # Let commits that land together share one batch (costs a few ms of latency,
                    # saves a drain per commit under load).
                    await asyncio.sleep(self.settings.outbox_coalesce_s)
                except asyncio.TimeoutError:
                    idle = True  # nothing committed for a while: look at the broker anyway
                self.wakeup.clear()
                if conn.is_closed():
                    raise ConnectionError("listen connection closed")
        finally:
            self.is_leader = False
            await conn.close()

    async def _publish_what_the_broker_takes(self, *, check_broker_first: bool) -> bool:
        """Drain; False (after a WARNING) when the broker is unreachable or lacks a topic."""
        try:
            if check_broker_first and self.describe_broker is not None:
                await self._notice_broker(await self.describe_broker(()))
            await self.drain()
            return True
        except TopicsMissing as exc:
            log.warning("outbox relay for %s is holding its events: %s (cluster %s); they stay in the outbox "
                        "and go out once the topics exist; next try in %.1fs", self.settings.service, exc,
                        exc.cluster_id, self._broker_retry_s)
        except (KafkaError, asyncio.TimeoutError) as exc:
            reason = str(exc) if str(exc).startswith(type(exc).__name__) else f"{type(exc).__name__}: {exc}"
            log.warning("outbox relay for %s cannot reach the broker (%s); the events stay in the outbox; "
                        "next try in %.1fs", self.settings.service, reason, self._broker_retry_s)
        await self._maybe_measure_backlog()
        return False

    async def drain(self) -> int:
        """Publish everything unpublished, in commit order, batch by batch.

        Raises TopicsMissing, or KafkaError when the broker cannot be reached; nothing is marked
        published that the broker did not take."""
        total = 0
        while True:
            try:
                published = await self._publish_batch()
            except BrokerChanged as change:
                await self._replay_after(change)
                continue
            total += published
            if published < self.settings.outbox_batch_size:
                break
        await self._maybe_measure_backlog()
        return total

    async def _notice_broker(self, view: BrokerView) -> None:
        """Remember the first broker; on another cluster id, replay before anything else goes out."""
        change = self._broker_change(view)
        if change is not None:
            await self._replay_after(change)

    def _broker_change(self, view: BrokerView) -> BrokerChanged | None:
        if view.cluster_id is None:  # a broker older than metadata v2 does not say; nothing to compare
            return None
        if self.cluster_id is None:
            self.cluster_id = view.cluster_id
            return None
        if view.cluster_id == self.cluster_id:
            return None
        return BrokerChanged(self.cluster_id, view.cluster_id, self.cluster_since)

    async def _replay_after(self, change: BrokerChanged) -> None:
        async with self.sessions() as session, session.begin():
            count, replayed_at = await mark_for_republishing(session, since=change.since)
        self.cluster_id, self.cluster_since = change.current, replayed_at
        BROKER_CLUSTER_CHANGES.labels(self.settings.service).inc()
        log.warning("the broker was replaced (cluster id %s, was %s: a restarted in-memory broker or a new cluster, "
                    "its log empty); republishing %d events published %s", change.current, change.previous, count,
                    f"since {change.since.isoformat()}" if change.since else "within the outbox retention")

    async def _maybe_measure_backlog(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_backlog_check < 1.0:
            return
        self._last_backlog_check = now
        await measure_outbox(self.sessions, self.settings.service)

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
            if self.describe_broker is not None:
                topics = sorted({row.topic for row in rows})
                view = await self.describe_broker(topics)
                change = self._broker_change(view)
                if change is not None:
                    raise change  # rolls back; drain() replays, then tries again
                problems = view.unusable(topics)
                if problems:
                    raise TopicsMissing(problems, view.cluster_id)  # rolls back: the rows stay unpublished
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


async def mark_for_republishing(session: AsyncSession, *, since: datetime | None) -> tuple[int, datetime]:
    """Mark every row published since ``since`` (None: every retained row) as unpublished again.

    Returns how many, and the database's clock at that moment (the relay compares it with
    ``published_at``, which the database sets, so no two clocks are mixed)."""
    replayed_at = await session.scalar(text("SELECT clock_timestamp()"))
    statement = update(OutboxMessage).where(OutboxMessage.published_at.is_not(None))
    if since is not None:
        statement = statement.where(OutboxMessage.published_at >= since)
    result = await session.execute(statement.values(published_at=None))
    return result.rowcount or 0, replayed_at


async def replay(database_url: str, since: datetime | None) -> int:
    """Mark every event published since ``since`` (None: every retained one) for publishing again
    and wake the relay. Safe after a broker loss because every consumer is idempotent (inbox).

    By ``published_at``, not ``created_at``: an event committed earlier but published to the lost
    broker after ``since`` was lost with it too."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=5)
    try:
        async with conn.transaction():
            result = await conn.execute(
                "UPDATE outbox SET published_at = NULL WHERE published_at IS NOT NULL"
                " AND ($1::timestamptz IS NULL OR published_at >= $1)", since
            )
            await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return int(result.split()[-1])
    finally:
        await conn.close()


async def replay_topics(database_url: str, since: datetime | None) -> list[str]:
    """The topics of the events ``replay`` would republish (to check they exist first)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT topic FROM outbox WHERE published_at IS NOT NULL"
            " AND ($1::timestamptz IS NULL OR published_at >= $1)", since
        )
        return sorted(r["topic"] for r in rows)
    finally:
        await conn.close()
