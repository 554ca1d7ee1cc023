"""An in-memory broker (Tansu) restarted under a running service comes back empty: no topics, no
log, no consumer groups, and it still acknowledges writes to the topics it lacks. The service must
not mark anything published to a topic that does not exist, must notice the new broker by its
cluster id and replay its outbox, and its consumers must start again from the earliest offset."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from contracts.plans import PlanOpenedV1
from contracts.referrals import VisitationDecidedV1
from contracts.topics import PLANS
from services.plans.models import Plan
from tests.support import eventually, publish_event, read_topic, run_service
from tovholder.db import OutboxMessage
from tovholder.infra import Tansu, create_topics
from tovholder.metrics import BROKER_CLUSTER_CHANGES

pytestmark = pytest.mark.integration


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@contextlib.contextmanager
def captured(logger: str = "tovholder") -> Iterator[Records]:
    """What the kit logs (added after the service set up its own logging, which replaces the root's handlers)."""
    handler = Records()
    logging.getLogger(logger).addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger(logger).removeHandler(handler)


@pytest.fixture
def broker(tmp_path) -> Iterator[Tansu]:
    tansu = Tansu(log_file=tmp_path / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


def restart_empty(broker: Tansu, tmp_path, n: int) -> Tansu:
    """SIGKILL the broker and start a fresh one on the same port: memory storage, so nothing survives."""
    broker.kill()
    again = Tansu(port=broker.port, log_file=tmp_path / f"tansu-{n}.log")
    again.start()
    return again


async def emit_plan_opened(svc, citizen: uuid.UUID) -> None:
    async with svc.ctx.uow() as uow:
        uow.emit(PlanOpenedV1(citizen_id=citizen, plan_id=uuid.uuid4(), botilbud_id="orion",
                              opened_at=datetime.now(timezone.utc)))
        await uow.commit()


async def unpublished(svc) -> int:
    async with svc.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.published_at.is_(None))) or 0


async def test_relay_holds_events_for_missing_topics_and_replays_on_a_new_broker(pg, state_dir, broker, tmp_path):
    await create_topics(broker.bootstrap)
    async with run_service("plans", pg=pg, kafka=broker, state_dir=state_dir) as plans:
        before = [uuid.uuid4() for _ in range(5)]
        for citizen in before:
            await emit_plan_opened(plans, citizen)

        async def all_published() -> bool:
            return await unpublished(plans) == 0
        await eventually(all_published, message="published to the first broker")
        changes_before = BROKER_CLUSTER_CHANGES.labels("plans")._value.get()

        with captured() as logs:
            broker = restart_empty(broker, tmp_path, 2)
            after = [uuid.uuid4() for _ in range(3)]
            for citizen in after:
                await emit_plan_opened(plans, citizen)

            async def holding() -> bool:
                return any("holding its events" in m for m in logs.at(logging.WARNING))
            await eventually(holding, timeout=20, message="the relay refuses the missing topic with a WARNING")
            # The new broker was noticed (cluster id) and the old rows marked for republishing;
            # nothing is marked published while the topic does not exist.
            assert BROKER_CLUSTER_CHANGES.labels("plans")._value.get() == changes_before + 1
            assert await unpublished(plans) == len(before) + len(after)
            assert any("broker was replaced" in m for m in logs.at(logging.WARNING))

            await create_topics(broker.bootstrap)
            await eventually(all_published, timeout=20, message="published once the topics exist")
            assert not logs.at(logging.ERROR), logs.at(logging.ERROR)

        keys = {str(c).encode() for c in before + after}
        records = await read_topic(broker, PLANS.name, min_count=len(keys))
        assert keys <= {r["key"] for r in records}, "every event, from before and after the restart, is on the new broker"
    broker.stop()


def granted(citizen: uuid.UUID) -> VisitationDecidedV1:
    return VisitationDecidedV1(
        citizen_id=citizen, referral_id=uuid.uuid4(), decision="granted", decided_at=datetime.now(timezone.utc),
        decided_by="visitation-1", legal_basis="SEL §108", step=7, offer_id="tangkaer", botilbud_id="tangkaer",
    )


@pytest.mark.parametrize("topics_after_s", [0, 4], ids=["topics-at-once", "topics-late"])
async def test_consumer_starts_from_the_earliest_offset_on_a_new_broker(pg, state_dir, broker, tmp_path,
                                                                         topics_after_s):
    """Before the restart the group's position on one partition is 4; the new broker's log for it
    then grows past that before the consumer is back. It must read from offset 0 anyway (its
    group is gone, so it rejoins and has no committed offset → earliest), not skip 0–3 — also when
    the topics appear only after the consumer has rejoined the empty broker."""
    await create_topics(broker.bootstrap)
    key = str(uuid.uuid4())  # one key → one partition
    async with run_service("plans", pg=pg, kafka=broker, state_dir=state_dir) as plans:
        async def plans_opened(citizens) -> bool:
            async with plans.ctx.sessions() as session:
                found = await session.scalar(select(func.count()).select_from(Plan)
                                             .where(Plan.citizen_id.in_(citizens)))
            return found == len(citizens)

        first = [uuid.uuid4() for _ in range(4)]
        for citizen in first:
            await publish_event(broker, granted(citizen), key=key)
        await eventually(lambda: plans_opened(first), message="consumed from the first broker")

        broker = restart_empty(broker, tmp_path, 2)
        await asyncio.sleep(topics_after_s)
        await create_topics(broker.bootstrap)
        second = [uuid.uuid4() for _ in range(6)]
        for citizen in second:  # at once, before the consumer has noticed anything
            await publish_event(broker, granted(citizen), key=key)
        await eventually(lambda: plans_opened(second), timeout=40,
                         message="every event on the new broker consumed, offsets 0-3 included")
    broker.stop()
