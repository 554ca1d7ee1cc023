"""Prometheus metrics shared by every service (exposed at GET /metrics)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

OUTBOX_BACKLOG = Gauge("tovholder_outbox_backlog", "Outbox events not yet published", ["service"])
OUTBOX_OLDEST_UNPUBLISHED_AGE = Gauge(
    "tovholder_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox event not yet published (0 when all are published)", ["service"],
)
EVENTS_PUBLISHED = Counter("tovholder_events_published_total", "Events published by the outbox relay", ["service", "event_type"])
EVENTS_CONSUMED = Counter(
    "tovholder_events_consumed_total", "Events consumed, by outcome", ["service", "event_type", "outcome"]
)
CONSUMER_LAG = Gauge(
    "tovholder_consumer_lag", "Records on the broker this service's consumer group has not consumed yet",
    ["service", "topic", "partition"],
)
BROKER_CLUSTER_CHANGES = Counter(
    "tovholder_broker_cluster_changes_total",
    "Times the broker's cluster id changed (a restarted in-memory broker, a new cluster); each replays the outbox",
    ["service"],
)
OUTBOX_RELAY_LEADER = Gauge(
    "tovholder_outbox_relay_leader",
    "1 while this replica's outbox relay holds the service's lock and publishes; 0 while it stands by "
    "(exactly one replica of a service publishes, so its events leave in commit order)", ["service"],
)
DEAD_LETTERS = Counter("tovholder_dead_letters_total", "Events sent to the dead-letter topic", ["service", "event_type"])
HANDLER_SECONDS = Histogram(
    "tovholder_handler_seconds", "Time to handle one event (incl. retries)", ["service", "event_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECEIPTS = Counter("tovholder_receipts_total", "Integration receipts given", ["service", "endpoint", "status"])

log = logging.getLogger(__name__)
T = TypeVar("T")

_lag_labels: dict[str, set[tuple[str, str]]] = {}  # service -> (topic, partition) label sets it reported


async def measure_outbox(sessions: async_sessionmaker[AsyncSession], service: str) -> None:
    """Backlog and age of the oldest unpublished event, in one query (the partial index on
    unpublished rows keeps it cheap)."""
    from tovholder.db import OutboxMessage

    async with sessions() as session:
        backlog, oldest_age = (await session.execute(
            select(func.count(), extract("epoch", func.now() - func.min(OutboxMessage.created_at)))
            .select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )).one()
    OUTBOX_BACKLOG.labels(service).set(backlog or 0)
    OUTBOX_OLDEST_UNPUBLISHED_AGE.labels(service).set(max(0.0, float(oldest_age or 0)))


async def measure_consumer_lag(service: str, consumers: Iterable) -> None:
    """Lag per assigned partition of the given aiokafka consumers; partitions this process no
    longer holds disappear from the metric instead of showing a stale number."""
    from tovholder.broker_view import consumer_lag

    seen: set[tuple[str, str]] = set()
    for consumer in consumers:
        for partition, lag in (await consumer_lag(consumer)).items():
            labels = (partition.topic, str(partition.partition))
            CONSUMER_LAG.labels(service, *labels).set(lag)
            seen.add(labels)
    for labels in _lag_labels.get(service, set()) - seen:
        CONSUMER_LAG.remove(service, *labels)
    _lag_labels[service] = seen


_abandoned: set[asyncio.Task] = set()  # cancelled checks still cleaning up (kept referenced until they end)


async def await_at_most(awaitable: Awaitable[T], seconds: float) -> T:
    """The result, or asyncio.TimeoutError after ``seconds`` — without waiting for the cancelled
    work to wind down (asyncio.wait_for does wait, and a hung database connection can take many
    seconds to give up after its cancellation)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        return task.result()
    task.cancel()
    _abandoned.add(task)
    task.add_done_callback(_forget)
    raise asyncio.TimeoutError(f"no answer within {seconds:.1f}s")


def _forget(task: asyncio.Task) -> None:
    _abandoned.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("an abandoned check failed later: %s", type(task.exception()).__name__)


async def refresh(service: str, sessions: async_sessionmaker[AsyncSession], consumers: Iterable,
                  *, timeout: float = 0.5) -> None:
    """Bring the gauges up to date before a scrape, each within ``timeout``: a database or broker
    that hangs leaves the last values in place rather than hanging /metrics."""
    for measurement in (measure_outbox(sessions, service), measure_consumer_lag(service, consumers)):
        try:
            await await_at_most(measurement, timeout)
        except Exception as exc:  # noqa: BLE001 - an outage shows in /readyz; /metrics still answers
            log.debug("metrics not refreshed (%s: %s); serving the last values", type(exc).__name__, exc)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
