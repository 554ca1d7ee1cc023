"""Test harness on real parts: PostgreSQL and a broker (Apache Kafka, or Tansu) started by the suite, services run in-process
(integration) or as real processes (e2e). Nothing here mocks the database or the broker."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from contracts.base import BaseEvent
from tovholder.auth import issue_dev_token
from tovholder.apache_kafka import ApacheKafka
from tovholder.infra import EmbeddedPostgres, Tansu
from tovholder.messaging import cloudevent_headers, decode_headers
from tovholder.migrations import upgrade
from tovholder.service import ServiceContext, ServiceSpec, create_service
from tovholder.settings import Settings

T = TypeVar("T")
Broker = ApacheKafka | Tansu  # what the `kafka` fixture yields: `.bootstrap`, `.kind`
CPR_HASH_KEY = "test-cpr-hash-key-shared-by-referrals-and-health"
CPR_ENCRYPTION_KEY = "1cfAVJsZOl5Ys7yH0I-D7BHyNcaURV7xYkGfhvRZ0AQ="  # Fernet key, tests only


class NoBroker:
    """For tests of a service's HTTP side that need no events: a broker address where none listens.
    The service answers its API meanwhile (its relay and consumers wait for the broker)."""

    kind = "tansu"

    def __init__(self) -> None:
        from tovholder.infra import free_port

        self.bootstrap = f"127.0.0.1:{free_port()}"


def fresh_database(pg: EmbeddedPostgres, service: str) -> str:
    """A new, migrated database for one service; returns its SQLAlchemy URL."""
    name = f"{service}_{uuid.uuid4().hex[:8]}"
    pg.ensure_database(name)
    url = pg.url(name)
    upgrade(service, url)
    return url


def service_settings(service: str, *, database_url: str, kafka: Broker, state_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "service": service, "environment": "test", "database_url": database_url,
        "kafka_bootstrap": kafka.bootstrap, "state_dir": state_dir,
        "kafka_idempotent_producer": kafka.kind != "tansu",
        "handler_backoff_initial_s": 0.05, "handler_backoff_max_s": 0.5, "handler_max_attempts": 3,
        "outbox_poll_interval_s": 0.5, "log_format": "text",
        "cpr_hash_key": CPR_HASH_KEY, "cpr_encryption_key": CPR_ENCRYPTION_KEY,
    }
    values.update(overrides)
    return Settings(**values)


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15, interval: float = 0.1,
                     message: str = "condition not met") -> T:
    """Poll ``check`` until it returns something truthy (the system is asynchronous by design)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} within {timeout}s (last: {last!r})")


@dataclass
class RunningService:
    name: str
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx

    def token(self, role: str, sub: str | None = None, **claims: Any) -> str:
        return issue_dev_token(self.settings, role=role, sub=sub or f"{role}-test", **claims)

    def auth(self, role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub, **claims)}"}

    async def wait_consuming(self, timeout: float = 20) -> None:
        """Wait until the service's consumers have joined their group and got partitions."""
        await asyncio.wait_for(self.ctx.kafka_started.wait(), timeout)
        if self.ctx.consumer is None:
            return

        async def assigned() -> bool:
            return bool(self.ctx.consumer.assignment())

        await eventually(assigned, timeout=timeout, message=f"{self.name} consumers assigned")


@contextlib.asynccontextmanager
async def run_service(
    spec_or_name: ServiceSpec | str, *, pg: EmbeddedPostgres, kafka: Broker, state_dir: Path,
    database_url: str | None = None, wait: bool = True, **overrides: Any,
) -> AsyncIterator[RunningService]:
    """Run a service in-process (its real lifespan: consumers, relay, background jobs)."""
    if isinstance(spec_or_name, str):
        spec = importlib.import_module(f"services.{spec_or_name}.main").spec
    else:
        spec = spec_or_name
    url = database_url or fresh_database(pg, spec.name)
    settings = service_settings(spec.name, database_url=url, kafka=kafka, state_dir=state_dir, **overrides)
    app = create_service(spec, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{spec.name}") as client:
            running = RunningService(spec.name, app, client, settings)
            if wait:
                await running.wait_consuming()
            yield running


async def publish_event(kafka: Broker, body: BaseEvent | bytes, *, event_type: str | None = None,
                        event_id: str | None = None, topic: str | None = None, key: str | None = None,
                        headers: dict[str, str] | None = None, time: datetime | None = None) -> str:
    """Put one CloudEvent on the broker as another service's relay would (or a malformed one); ``time``:
    the event's time (default now)."""
    event_id = event_id or str(uuid.uuid4())
    if isinstance(body, BaseEvent):
        value = body.model_dump_json().encode()
        event_type = event_type or body.event_type
        topic = topic or body.topic.name
        key = key or body.event_subject()
    else:
        value = body
    assert topic and event_type is not None
    ce = cloudevent_headers(event_id=event_id, event_type=event_type, source="/tests", subject=key or "",
                            time=time or datetime.now(timezone.utc))
    if headers is not None:
        ce = headers
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=(key or "").encode(),
                                     headers=[(k, v.encode()) for k, v in ce.items()])
    finally:
        await producer.stop()
    return event_id


async def read_topic(kafka: Broker, topic: str, *, min_count: int = 1, timeout: float = 15,
                     until: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """Read a topic from the beginning until at least ``min_count`` records arrived
    (and, with ``until``, one record satisfies it)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        def done() -> bool:
            return len(records) >= min_count and (until is None or any(until(r) for r in records))

        while not done() and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                for m in messages:
                    records.append({"key": m.key, "value": m.value, "headers": decode_headers(m.headers),
                                    "partition": m.partition, "offset": m.offset})
    finally:
        await consumer.stop()
    return records


def json_body(record: dict[str, Any]) -> Any:
    return json.loads(record["value"])


async def with_statements_counted(database_url: str, service: str,
                                  use_case: Callable[[Any], Awaitable[T]]) -> tuple[T, list[str]]:
    """Run ``use_case(uow)`` in a unit of work on a connection of its own and return what it returned with
    every statement it sent (each a round trip; BEGIN and COMMIT come on top): the round-trip tests."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from tovholder.uow import UnitOfWork

    engine = create_async_engine(database_url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    try:
        async with UnitOfWork(async_sessionmaker(engine, expire_on_commit=False), service=service) as uow:
            result = await use_case(uow)
    finally:
        await engine.dispose()
    return result, statements


def start_service_process(service: str, *, database_url: str, bootstrap: str, state_dir: Path, log: Path,
                          port: int, idempotent_producer: bool = True) -> subprocess.Popen:
    """``tovholder serve <service>`` as a real process (its own session, dying with the test), for tests
    that kill it: a consumer killed mid-stream, one of two replicas."""
    from tovholder.infra import die_with_parent

    env = {**os.environ, "TOVHOLDER_SERVICE": service, "TOVHOLDER_DATABASE_URL": database_url,
           "TOVHOLDER_KAFKA_BOOTSTRAP": bootstrap, "TOVHOLDER_PORT": str(port),
           "TOVHOLDER_KAFKA_IDEMPOTENT_PRODUCER": "true" if idempotent_producer else "false",
           "TOVHOLDER_STATE_DIR": str(state_dir), "TOVHOLDER_ENVIRONMENT": "test", "TOVHOLDER_LOG_FORMAT": "text",
           "TOVHOLDER_CPR_HASH_KEY": CPR_HASH_KEY, "TOVHOLDER_CPR_ENCRYPTION_KEY": CPR_ENCRYPTION_KEY}
    return subprocess.Popen([sys.executable, "-m", "tovholder.cli", "serve", service], env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=die_with_parent())
