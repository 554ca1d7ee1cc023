"""CloudEvents over Kafka, event handlers as plain functions, and the consumer loop around them:
idempotent inbox, retries with backoff, and the dead-letter topic.

A service declares handlers on an EventRouter:

    events = EventRouter()

    @events.handles(VisitationDecidedV1)
    async def open_plan(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
        ...; uow.emit(PlanOpenedV1(...))

The kit subscribes the service's consumer group to the topics of those events and, per event:
validates the body against its contract (invalid → dead letter at once, no retry), skips event
types the service does not handle, skips an event already in the inbox, otherwise runs the handlers
and records the inbox entry in one transaction. A failing handler is retried with exponential
backoff and then dead-lettered with the reason; a database outage is retried until it ends
(it is not the event's fault). The partition then moves on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import BaseEvent, model_for
from contracts.topics import consumer_group, dead_letter_topic
from tovholder.infra_errors import is_infrastructure_error
from tovholder.metrics import DEAD_LETTERS, EVENTS_CONSUMED, HANDLER_SECONDS
from tovholder.settings import Settings
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


class EventRouter:
    def __init__(self) -> None:
        self.handlers: dict[str, list[Handler]] = {}
        self.models: dict[str, type[BaseEvent]] = {}

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


class EventConsumer:
    """Runs an EventRouter's handlers for one service's consumer group."""

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

    async def handle_record(
        self, *, body: bytes, key: bytes | None, raw_headers: Any, topic: str, partition: int, offset: int
    ) -> str:
        """Handle one Kafka record; returns the outcome (handled, duplicate, skipped, dead-lettered)."""
        headers = decode_headers(raw_headers)
        event_type = headers.get("ce_type", "")
        started = time.perf_counter()
        try:
            outcome = await self._handle(body, headers, topic, partition, offset)
        except DeadLetter as exc:
            await self._dead_letter(body, key, headers, topic, partition, offset, reason=str(exc), attempts=1)
            outcome = "dead-lettered"
        EVENTS_CONSUMED.labels(self.service, event_type or "unknown", outcome).inc()
        if outcome != "skipped":
            HANDLER_SECONDS.labels(self.service, event_type or "unknown").observe(time.perf_counter() - started)
        return outcome

    async def _handle(self, body: bytes, headers: dict[str, str], topic: str, partition: int, offset: int) -> str:
        missing = [h for h in ("ce_id", "ce_type", "ce_source") if not headers.get(h)]
        if missing:
            raise DeadLetter(f"not a CloudEvent: missing Kafka header(s) {', '.join(missing)}")
        event_type = headers["ce_type"]
        handlers = self.router.handlers.get(event_type)
        if not handlers:
            return "skipped"  # another service's business, or a type this version does not know
        model = model_for(event_type) or self.router.models[event_type]
        try:
            event = model.model_validate_json(body)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            raise DeadLetter(f"body does not match contract {event_type}: {detail}") from None
        meta = EventMeta(
            event_id=headers["ce_id"], event_type=event_type, source=headers["ce_source"],
            subject=headers.get("ce_subject", ""), time=_parse_time(headers.get("ce_time")),
            topic=topic, partition=partition, offset=offset,
        )
        attempt = 0
        while True:
            attempt += 1
            try:
                async with UnitOfWork(self.sessions, service=self.service) as uow:
                    if not await uow.claim_inbox(self.group, meta.event_id, event_type):
                        return "duplicate"
                    for handler in handlers:
                        await handler(event, meta, uow)
                    await uow.commit()
                return "handled"
            except Exception as exc:
                infrastructure = is_infrastructure_error(exc)
                extra = {"event_id": meta.event_id, "event_type": event_type, "attempt": attempt}
                if not infrastructure and attempt >= self.settings.handler_max_attempts:
                    log.error("handler failed %d times; dead-lettering", attempt, extra=extra, exc_info=True)
                    await self._dead_letter(
                        body, None, headers, topic, partition, offset,
                        reason=f"{type(exc).__name__}: {exc}"[:1000], attempts=attempt,
                    )
                    return "dead-lettered"
                delay = self._backoff(attempt)
                log.warning(
                    "handler failed (%s: %s); retrying in %.2fs%s", type(exc).__name__, str(exc)[:200], delay,
                    " (infrastructure: retrying until it is back)" if infrastructure else "", extra=extra,
                )
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.handler_backoff_initial_s * 2 ** (attempt - 1), self.settings.handler_backoff_max_s)
        return base * random.uniform(0.8, 1.2)

    async def _dead_letter(
        self, body: bytes, key: bytes | None, headers: dict[str, str], topic: str, partition: int, offset: int,
        *, reason: str, attempts: int,
    ) -> None:
        dlq_headers = {
            **{k: v for k, v in headers.items() if not k.startswith("dlq_")},
            "dlq_reason": reason,
            "dlq_original_topic": topic,
            "dlq_original_partition": str(partition),
            "dlq_original_offset": str(offset),
            "dlq_attempts": str(attempts),
            "dlq_consumer_group": self.group,
            "dlq_failed_at": datetime.now(timezone.utc).isoformat(),
        }
        attempt = 0
        while True:  # the dead-letter topic is on the same broker: wait for it rather than lose the event
            attempt += 1
            try:
                await self.publish_dead_letter(body, key, dlq_headers)
                break
            except Exception:
                log.warning("could not publish to dead-letter topic; retrying", exc_info=True)
                await asyncio.sleep(min(0.5 * 2**attempt, 30))
        DEAD_LETTERS.labels(self.service, headers.get("ce_type", "unknown")).inc()
        log.error("event dead-lettered: %s", reason, extra={"event_id": headers.get("ce_id"), "topic": topic})


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
