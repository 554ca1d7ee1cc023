"""CloudEvents over Kafka, event handlers as plain functions, and the batch consumer around them:
idempotent inbox, retries with backoff, and the dead-letter topic.

A service declares handlers on an EventRouter:

    events = EventRouter()

    @events.handles(VisitationDecidedV1)
    async def open_plan(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
        ...; uow.emit(PlanOpenedV1(...))

The kit subscribes the service's consumer group to the topics of those events and, per event:
checks the CloudEvents headers and decodes the body itself (bad headers, bytes that are not UTF-8
or JSON, a body that does not match its contract → dead letter at once, no retry), skips event
types the service does not handle, skips an event already in the inbox, otherwise runs the handlers
and records the inbox entry in one transaction with the effect — one transaction per partition
batch. A failing handler is retried alone with exponential backoff and then
dead-lettered with the root cause; a database outage is retried until it ends (it is not the
event's fault). The partition then moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import BaseEvent, model_for
from contracts.topics import consumer_group, dead_letter_topic
from tovholder.infra_errors import is_infrastructure_error
from tovholder.metrics import DEAD_LETTERS, EVENTS_CONSUMED, HANDLER_SECONDS
from tovholder.settings import Settings
from tovholder.telemetry import context_from_traceparent, tracer
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)

CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


@dataclass(frozen=True)
class EventMeta:
    """The CloudEvent attributes and Kafka position of the event being handled."""

    event_id: str
    event_type: str
    source: str
    subject: str
    time: datetime | None
    topic: str
    partition: int
    offset: int


Handler = Callable[[Any, EventMeta, UnitOfWork], Awaitable[None]]
# Runs once per batch transaction, before its handlers, with the batch's new events (not the
# duplicates): it looks up in one statement what the handlers would otherwise look up one by one
# (into ``uow.looked_up``). It must not change state: a batch that fails is prepared again.
Preparer = Callable[[list[tuple[Any, EventMeta]], UnitOfWork], Awaitable[None]]


class EventRouter:
    def __init__(self) -> None:
        self.handlers: dict[str, list[Handler]] = {}
        self.models: dict[str, type[BaseEvent]] = {}
        self.preparers: list[Preparer] = []

    def prepares(self, fn: Preparer) -> Preparer:
        """Register a batch preparer (see ``Preparer``)."""
        self.preparers.append(fn)
        return fn

    def prepares_events(self, use_case: Callable[[UnitOfWork, list[Any]], Awaitable[None]]) -> None:
        """Register a service's use case ``(uow, events)`` as a batch preparer: it reads the batch's
        events only, not their CloudEvent attributes."""
        async def prepare(batch: list[tuple[Any, EventMeta]], uow: UnitOfWork) -> None:
            await use_case(uow, [event for event, _ in batch])

        prepare.__name__ = getattr(use_case, "__name__", "prepare")
        self.preparers.append(prepare)

    def include(self, other: EventRouter) -> None:
        """Take in another router's handlers and preparers (e.g. the kit's ``consent_events``)."""
        for event_type, handlers in other.handlers.items():
            self.handlers.setdefault(event_type, []).extend(handlers)
        self.models.update(other.models)
        self.preparers.extend(other.preparers)

    def handles(self, *models: type[BaseEvent]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for model in models:
                self.handlers.setdefault(model.event_type, []).append(fn)
                self.models[model.event_type] = model
            return fn

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({m.topic.name for m in self.models.values()})


def cloudevent_headers(*, event_id: str, event_type: str, source: str, subject: str, time: datetime) -> dict[str, str]:
    """CloudEvents Kafka protocol binding, binary content mode."""
    return {
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_source": source,
        "ce_type": event_type,
        "ce_time": time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "ce_subject": subject,
        "content-type": "application/json",
    }


def decode_headers(raw_headers: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in raw_headers or ():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        headers[key] = value
    return headers


class DeadLetter(Exception):
    """This event can never be handled: park it with the reason."""


@dataclass
class Decoded:
    """A record the kit could read: its contract model and CloudEvent attributes."""

    record: Any  # aiokafka ConsumerRecord
    headers: dict[str, str]
    event: BaseEvent
    meta: EventMeta
    handlers: list[Handler]


def root_cause(exc: BaseException) -> str:
    """``Type: message`` of the deepest cause, then what it surfaced as — so a dead letter's reason
    leads with what went wrong (a unique violation), not with SQLAlchemy's autoflush wrapping."""
    chain = [exc]
    seen = {id(exc)}
    while True:
        current = chain[-1]
        nxt = getattr(current, "orig", None) or current.__cause__
        if not isinstance(nxt, BaseException) or id(nxt) in seen:
            break
        chain.append(nxt)
        seen.add(id(nxt))
    root = chain[-1]
    text = (str(root).strip().splitlines() or [""])[0]
    reason = f"{type(root).__name__}: {text}" if text else type(root).__name__
    if root is not exc:
        reason += f" (surfaced as {type(exc).__name__})"
    return reason[:1000]


class EventConsumer:
    """Consumes one service's topics in batches and runs its EventRouter's handlers.

    Per fetch, each partition's records are handled in one transaction: the inbox entries are
    claimed in one statement, the handlers run one event after another, and the offsets are
    committed after the transaction. Partitions of one fetch run concurrently; within a partition
    (= a set of citizens, since the key is the citizen id) order is kept. An event whose handler
    fails is isolated: what came before it commits, it is retried alone with backoff and then
    dead-lettered, and the records after it continue. Records the kit cannot decode go to the
    dead-letter topic with the reason, whatever their content type."""

    def __init__(
        self,
        *,
        settings: Settings,
        router: EventRouter,
        sessions: async_sessionmaker[AsyncSession],
        publish_dead_letter: Callable[[bytes, bytes | None, dict[str, str]], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self.service = settings.service
        self.group = consumer_group(settings.service)
        self.router = router
        self.sessions = sessions
        self.publish_dead_letter = publish_dead_letter
        self.dead_letter_topic = dead_letter_topic(settings.service).name
        self.kafka: Any = None  # the AIOKafkaConsumer while running

    # ------------------------------------------------------------------ the loop

    async def run_forever(self, client_options: dict[str, Any]) -> None:
        """Consume until cancelled; reconnect with backoff when the broker goes away."""
        from aiokafka import AIOKafkaConsumer
        from aiokafka.errors import CommitFailedError, IllegalStateError

        delay = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                *self.router.topics,
                **client_options,
                group_id=self.group,
                client_id=f"tovholder-{self.service}",
                enable_auto_commit=False,  # committed after the transaction that handled the records
                auto_offset_reset="earliest",
                session_timeout_ms=self.settings.consumer_session_timeout_ms,
                heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
                max_poll_records=self.settings.consumer_batch_size,
                fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            )
            # Per partition, the next offset to handle: /metrics reports lag from it (the consumer's own
            # position runs ahead by the batch being handled).
            handled: dict[Any, int] = {}
            consumer.handled_offsets = handled  # type: ignore[attr-defined]
            try:
                await consumer.start()
                self.kafka = consumer
                delay = 0.5
                while True:
                    batches = await consumer.getmany(timeout_ms=1000, max_records=self.settings.consumer_batch_size)
                    if not batches:
                        continue
                    assigned = consumer.assignment()
                    for tp in [tp for tp in handled if tp not in assigned]:
                        del handled[tp]
                    for tp, records in batches.items():
                        handled.setdefault(tp, records[0].offset)
                    done = await asyncio.gather(*(self.handle_partition(records) for records in batches.values()))
                    offsets = dict(zip(batches, done))
                    try:
                        await consumer.commit(offsets)
                        handled.update(offsets)
                    except (CommitFailedError, IllegalStateError) as exc:
                        # A rebalance took these partitions away meanwhile: their new owner gets the
                        # records again, and the inbox makes that harmless.
                        log.info("offsets not committed after a rebalance (%s)", type(exc).__name__)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer interrupted (%s: %s); reconnecting in %.1fs", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15)
            finally:
                self.kafka = None
                with contextlib.suppress(Exception):
                    await consumer.stop()

    def assignment(self) -> set[Any]:
        return set(self.kafka.assignment()) if self.kafka is not None else set()

    # ------------------------------------------------------------------ one partition's records

    async def handle_partition(self, records: list[Any]) -> int:
        """Handle one partition's fetched records in order; returns the offset to commit."""
        pending: list[Decoded] = []
        for record in records:
            started = time.perf_counter()
            headers = decode_headers(record.headers)
            try:
                decoded = self.decode(record, headers)
            except DeadLetter as exc:
                await self._dead_letter(record, headers, reason=str(exc), attempts=1)
                self._count(headers, "dead-lettered", started)
                continue
            if decoded is None:
                self._count(headers, "skipped", None)
                continue
            pending.append(decoded)
        while pending:
            pending = await self._handle_batch(pending)
        return records[-1].offset + 1

    def decode(self, record: Any, headers: dict[str, str]) -> Decoded | None:
        """The record as a contract event, None when this service does not handle its type, or
        DeadLetter with the reason. The body is never parsed before this point."""
        missing = [h for h in ("ce_id", "ce_type", "ce_source", "ce_specversion") if not headers.get(h)]
        if missing:
            raise DeadLetter(f"not a CloudEvent: missing Kafka header(s) {', '.join(missing)}")
        if headers["ce_specversion"] != "1.0":
            raise DeadLetter(f"unsupported CloudEvents specversion {headers['ce_specversion'][:20]!r} (expected 1.0)")
        event_type = headers["ce_type"]
        handlers = self.router.handlers.get(event_type)
        if not handlers:
            return None  # another service's business, or a type this version does not know
        ce_time = headers.get("ce_time")
        parsed_time = _parse_time(ce_time)
        if ce_time and parsed_time is None:
            raise DeadLetter(f"ce_time is not an RFC 3339 time: {ce_time[:40]!r}")
        body = record.value or b""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DeadLetter(f"body is not UTF-8 (byte {exc.start}): {event_type} must be a JSON body") from None
        try:
            json.loads(text)
        except ValueError as exc:
            raise DeadLetter(f"body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
                             f"{event_type} must be a JSON body") from None
        model = model_for(event_type) or self.router.models[event_type]
        try:
            event = model.model_validate_json(text)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            raise DeadLetter(f"body does not match contract {event_type}: {detail}") from None
        meta = EventMeta(
            event_id=headers["ce_id"], event_type=event_type, source=headers["ce_source"],
            subject=headers.get("ce_subject", ""), time=parsed_time,
            topic=record.topic, partition=record.partition, offset=record.offset,
        )
        return Decoded(record=record, headers=headers, event=event, meta=meta, handlers=handlers)

    async def _handle_batch(self, batch: list[Decoded]) -> list[Decoded]:
        """Handle ``batch`` in one transaction. Returns what is left to handle: empty, or the
        records after an event whose handler failed. That event is isolated without a savepoint
        per event (two round trips each on the happy path): the transaction is rolled back, the
        records before it are handled again as a batch, and it is retried alone."""
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            failed: tuple[int, Exception] | None = None
            outcomes: list[str] = []
            try:
                async with UnitOfWork(self.sessions, service=self.service) as uow:
                    fresh = await uow.claim_inbox_many(self.group, [(d.meta.event_id, d.meta.event_type) for d in batch])
                    try:
                        await self._prepare([d for d in batch if d.meta.event_id in fresh], uow)
                    except Exception as exc:
                        if is_infrastructure_error(exc):
                            raise
                        failed = (0, exc)  # part of handling: the first event is isolated, and so on
                    for index, item in enumerate(batch if failed is None else ()):
                        if item.meta.event_id not in fresh:
                            outcomes.append("duplicate")
                            continue
                        fresh.discard(item.meta.event_id)  # the same id twice in one batch: once
                        try:
                            await self._run_handlers(item, uow)
                        except Exception as exc:
                            if is_infrastructure_error(exc):
                                raise
                            failed = (index, exc)
                            break  # leaving without commit rolls the whole batch back
                        outcomes.append("handled")
                    if failed is None:
                        await uow.commit()
            except Exception as exc:
                if cancel_requested():
                    raise asyncio.CancelledError from exc
                delay = self._backoff(attempt)
                log.warning("batch of %d not handled (%s); retrying in %.2fs%s", len(batch), root_cause(exc), delay,
                            " (infrastructure: retrying until it is back)" if is_infrastructure_error(exc) else "",
                            extra={"events": len(batch), "attempt": attempt})
                await asyncio.sleep(delay)
                continue
            if failed is None:
                elapsed = (time.perf_counter() - started) / max(len(outcomes), 1)
                for item, outcome in zip(batch, outcomes):
                    EVENTS_CONSUMED.labels(self.service, item.meta.event_type, outcome).inc()
                    HANDLER_SECONDS.labels(self.service, item.meta.event_type).observe(elapsed)
                return []
            index, first_error = failed
            before = batch[:index]
            while before:
                before = await self._handle_batch(before)
            await self._handle_alone(batch[index], first_error)
            return batch[index + 1:]

    async def _prepare(self, items: list[Decoded], uow: UnitOfWork) -> None:
        if items and self.router.preparers:
            events = [(item.event, item.meta) for item in items]
            for prepare in self.router.preparers:
                await prepare(events, uow)

    async def _run_handlers(self, item: Decoded, uow: UnitOfWork) -> None:
        parent = context_from_traceparent(item.headers.get("traceparent"))
        with tracer().start_as_current_span(
            f"{item.meta.topic} process", context=parent, kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": item.meta.topic,
                        "messaging.consumer.group.name": self.group, "messaging.message.id": item.meta.event_id,
                        "messaging.kafka.destination.partition": item.meta.partition,
                        "messaging.kafka.message.offset": item.meta.offset,
                        "cloudevents.event_type": item.meta.event_type},
        ):
            for handler in item.handlers:
                await handler(item.event, item.meta, uow)

    async def _handle_alone(self, item: Decoded, first_error: Exception) -> None:
        """An event whose handler failed in its batch: retried alone with backoff, then parked."""
        error: Exception = first_error
        attempt = 1
        extra = {"event_id": item.meta.event_id, "event_type": item.meta.event_type}
        while True:
            if not is_infrastructure_error(error) and attempt >= self.settings.handler_max_attempts:
                reason = root_cause(error)
                log.error("handler failed %d times; dead-lettering: %s", attempt, reason,
                          extra={**extra, "attempt": attempt})
                await self._dead_letter(item.record, item.headers, reason=reason, attempts=attempt)
                self._count(item.headers, "dead-lettered", None)
                return
            delay = self._backoff(attempt)
            log.warning("handler failed (%s); retrying in %.2fs%s", root_cause(error), delay,
                        " (infrastructure: retrying until it is back)" if is_infrastructure_error(error) else "",
                        extra={**extra, "attempt": attempt})
            await asyncio.sleep(delay)
            attempt += 1
            started = time.perf_counter()
            try:
                async with UnitOfWork(self.sessions, service=self.service) as uow:
                    if not await uow.claim_inbox(self.group, item.meta.event_id, item.meta.event_type):
                        self._count(item.headers, "duplicate", started)
                        return
                    await self._prepare([item], uow)
                    await self._run_handlers(item, uow)
                    await uow.commit()
                self._count(item.headers, "handled", started)
                return
            except Exception as exc:
                if cancel_requested():
                    raise asyncio.CancelledError from exc
                error = exc

    def _count(self, headers: dict[str, str], outcome: str, started: float | None) -> None:
        event_type = headers.get("ce_type") or "unknown"
        EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()
        if started is not None:
            HANDLER_SECONDS.labels(self.service, event_type).observe(time.perf_counter() - started)

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.handler_backoff_initial_s * 2 ** (attempt - 1), self.settings.handler_backoff_max_s)
        return base * random.uniform(0.8, 1.2)

    async def _dead_letter(self, record: Any, headers: dict[str, str], *, reason: str, attempts: int) -> None:
        """Park the record on the service's dead-letter topic: the same body and Kafka key, its
        headers, and why."""
        dlq_headers = {
            **{k: v for k, v in headers.items() if not k.startswith("dlq_")},
            "dlq_reason": reason,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_attempts": str(attempts),
            "dlq_consumer_group": self.group,
            "dlq_failed_at": datetime.now(timezone.utc).isoformat(),
        }
        attempt = 0
        while True:  # the dead-letter topic is on the same broker: wait for it rather than lose the event
            attempt += 1
            try:
                await self.publish_dead_letter(record.value or b"", record.key, dlq_headers)
                break
            except Exception as exc:
                if cancel_requested():
                    raise asyncio.CancelledError from exc
                log.warning("could not publish to dead-letter topic (%s); retrying", root_cause(exc))
                await asyncio.sleep(min(0.5 * 2**attempt, 30))
        DEAD_LETTERS.labels(self.service, headers.get("ce_type", "unknown")).inc()
        log.error("event dead-lettered: %s", reason, extra={"event_id": headers.get("ce_id"), "topic": record.topic})


def cancel_requested() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
