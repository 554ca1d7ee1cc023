"""Broker and consumer failures, the way Kafka promises to survive them, on a real 3-node Apache
Kafka cluster (KRaft, replication factor 3, min.insync.replicas 2, unclean leader election off):

- 10,000 events stream through the outbox relay (idempotent producer, acks=all) to plans; halfway
  the leader of the busiest partition is killed with SIGKILL. Nothing is lost, nothing is written
  twice to the log, no effect happens twice, and the stream goes on.
- The same stream with the consuming service killed (SIGKILL, a real process) halfway and started
  again: nothing lost, no effect twice.

Bounded: each test gives up after a few minutes and says how far it got.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from contracts.plans import PlanOpenedV1
from contracts.referrals import VisitationDecidedV1
from contracts.topics import ALL_TOPICS, REFERRALS
from services.plans.models import Plan
from tests.support import fresh_database, read_topic, run_service, service_settings, start_service_process
from tovholder.apache_kafka import QUICK_START_JVM, KafkaCluster, kafka_available
from tovholder.db import InboxEntry, OutboxMessage, create_engine, session_factory
from tovholder.infra import create_topics, free_port
from tovholder.outbox import OutboxRelay
from tovholder.uow import UnitOfWork

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not kafka_available(), reason="needs Java 17+ for Apache Kafka"),
]

EVENTS = 10_000
DEADLINE_S = 240


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(tmp_path_factory.mktemp("cluster"), size=3, min_insync_replicas=2,
                           jvm_options=QUICK_START_JVM)
    cluster.start()
    try:
        asyncio.run(create_topics(cluster.bootstrap, ALL_TOPICS, replication_factor=3, timeout=60))
        yield cluster
    finally:
        cluster.kill()  # thrown away: a controlled shutdown of the last nodes would wait for a lost quorum


def granted(citizen_id: uuid.UUID, botilbud: str) -> VisitationDecidedV1:
    return VisitationDecidedV1(
        citizen_id=citizen_id, referral_id=uuid.uuid4(), decision="granted", decided_at=datetime.now(timezone.utc),
        decided_by="visitation-1", legal_basis="SEL §108", step=7, offer_id=botilbud, botilbud_id=botilbud,
    )


async def commit_events(sessions, count: int, botilbud: str) -> None:
    """What referrals would have committed: ``count`` decisions in its outbox, 500 per transaction.
    Each test grants places at a botilbud of its own, so its effects are told apart on a shared topic."""
    for start in range(0, count, 500):
        async with UnitOfWork(sessions, service="referrals") as uow:
            for _ in range(min(500, count - start)):
                uow.emit(granted(uuid.uuid4(), botilbud))
            await uow.commit()


def opened_at(botilbud: str):
    return OutboxMessage.event_type == PlanOpenedV1.event_type, OutboxMessage.body.contains(f'"botilbud_id":"{botilbud}"')


class Relay:
    """The referrals outbox relay against the cluster, with the production producer settings."""

    def __init__(self, settings, sessions) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                                         enable_idempotence=True, linger_ms=2, request_timeout_ms=15000)
        self.relay = OutboxRelay(settings=settings, sessions=sessions, send=self.send)
        self.task: asyncio.Task | None = None

    async def send(self, topic, key, value, headers):
        return await self.producer.send(topic, value=value, key=key, headers=headers)

    async def __aenter__(self) -> "Relay":
        await self.producer.start()
        self.task = asyncio.create_task(self.relay.run_forever())
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.producer.stop()


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def wait_for(check, *, what: str, deadline: float) -> int:
    last = 0
    while time.monotonic() < deadline:
        last = await check()
        if last is True or (isinstance(last, int) and last >= EVENTS):
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what}: got {last} of {EVENTS} before the deadline")


async def leader_of_busiest_partition(bootstrap: str, topic: str) -> tuple[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = (await admin.describe_topics([topic]))[0]["partitions"]
    finally:
        await admin.close()
    # The keys are random citizens: partitions fill evenly, so the busiest is any; take the leader
    # that leads the most partitions of the topic (its loss moves the most traffic).
    leaders: dict[int, list[int]] = {}
    for p in partitions:
        leaders.setdefault(p["leader"], []).append(p["partition"])
    node, led = max(leaders.items(), key=lambda item: len(item[1]))
    return node, led[0]


async def test_leader_killed_mid_stream_loses_nothing_and_duplicates_nothing(cluster, pg, tmp_path):
    deadline = time.monotonic() + DEADLINE_S
    referrals_url = fresh_database(pg, "referrals")
    settings = service_settings("referrals", database_url=referrals_url, kafka=cluster, state_dir=tmp_path)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    await commit_events(sessions, EVENTS, "failover-leader")
    try:
        async with run_service("plans", pg=pg, kafka=cluster, state_dir=tmp_path) as plans, Relay(settings, sessions):
            async def plans_opened() -> int:
                return await count(plans.ctx.sessions, Plan)

            while await plans_opened() < EVENTS // 2:
                assert time.monotonic() < deadline, "the stream did not reach halfway"
                await asyncio.sleep(0.05)
            node_id, partition = await leader_of_busiest_partition(cluster.bootstrap, REFERRALS.name)
            cluster.node(node_id).kill()
            killed_at = await plans_opened()
            assert killed_at < EVENTS, "the stream finished before the leader was killed; make it longer"

            await wait_for(plans_opened, what="plans opened after the leader was killed", deadline=deadline)
            async def all_published() -> bool:
                return await count(sessions, OutboxMessage, OutboxMessage.published_at.is_(None)) == 0
            await wait_for(all_published, what="outbox drained", deadline=deadline)

            assert await count(plans.ctx.sessions, Plan) == EVENTS  # 0 lost
            assert await count(plans.ctx.sessions, InboxEntry) == EVENTS  # each handled once
            assert await count(plans.ctx.sessions, OutboxMessage, *opened_at("failover-leader")) == EVENTS
        # The idempotent producer wrote each event once, although sends were retried across the failover.
        records = await read_topic(cluster, REFERRALS.name, min_count=EVENTS, timeout=60)
        ids = [r["headers"]["ce_id"] for r in records]
        assert len(ids) == EVENTS and len(set(ids)) == EVENTS
        print(f"\nleader {node_id} (partition {partition}) killed after {killed_at} of {EVENTS}; all {EVENTS} arrived once")
    finally:
        await engine.dispose()
        # The killed node comes back for the next test: a cluster of three again.
        for node in cluster.nodes:
            if not node.running:
                node.start()


def start_plans_process(*, database_url: str, bootstrap: str, state_dir: Path, log: Path) -> subprocess.Popen:
    return start_service_process("plans", database_url=database_url, bootstrap=bootstrap, state_dir=state_dir,
                                 log=log, port=free_port())


async def test_consumer_killed_mid_stream_loses_nothing_and_repeats_no_effect(cluster, pg, tmp_path):
    deadline = time.monotonic() + DEADLINE_S
    referrals_url = fresh_database(pg, "referrals")
    plans_url = fresh_database(pg, "plans")
    settings = service_settings("referrals", database_url=referrals_url, kafka=cluster, state_dir=tmp_path)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    plans_engine = create_engine(service_settings("plans", database_url=plans_url, kafka=cluster, state_dir=tmp_path))
    plans_sessions = session_factory(plans_engine)
    # The plans group goes on from the offsets the previous test committed; what it may see again
    # from there belongs to another botilbud and is not counted.
    await commit_events(sessions, EVENTS, "failover-consumer")
    plans = start_plans_process(database_url=plans_url, bootstrap=cluster.bootstrap, state_dir=tmp_path,
                                log=tmp_path / "plans.log")
    try:
        async with Relay(settings, sessions):
            async def plans_opened() -> int:
                return await count(plans_sessions, Plan, Plan.botilbud_id == "failover-consumer")

            while await plans_opened() < EVENTS // 2:
                assert time.monotonic() < deadline, f"the stream did not reach halfway (see {tmp_path / 'plans.log'})"
                assert plans.poll() is None, f"plans exited (see {tmp_path / 'plans.log'})"
                await asyncio.sleep(0.05)
            os.killpg(plans.pid, signal.SIGKILL)
            plans.wait()
            killed_at = await plans_opened()
            assert killed_at < EVENTS, "the stream finished before the consumer was killed; make it longer"
            plans = start_plans_process(database_url=plans_url, bootstrap=cluster.bootstrap, state_dir=tmp_path,
                                        log=tmp_path / "plans.log")
            await wait_for(plans_opened, what="plans opened after the consumer was killed", deadline=deadline)
            assert await count(plans_sessions, Plan, Plan.botilbud_id == "failover-consumer") == EVENTS
            assert await count(plans_sessions, OutboxMessage, *opened_at("failover-consumer")) == EVENTS
        print(f"\nconsumer killed after {killed_at} of {EVENTS}; all {EVENTS} handled once")
    finally:
        if plans.poll() is None:
            os.killpg(plans.pid, signal.SIGTERM)
            plans.wait(timeout=20)
        await engine.dispose()
        await plans_engine.dispose()
