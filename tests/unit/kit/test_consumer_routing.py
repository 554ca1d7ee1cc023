"""The consumer's routing on FastStream's TestKafkaBroker (no database is touched on these paths):
unknown event types are skipped, bodies that break their contract and records that are not
CloudEvents go to the dead-letter topic with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts.referrals import VisitationDecidedV1
from contracts.topics import REFERRALS
from tovholder.messaging import EventConsumer, EventRouter, cloudevent_headers
from tovholder.service import _subscribe
from tovholder.settings import Settings


def make_consumer(dead_letters: list) -> tuple[KafkaBroker, EventConsumer]:
    router = EventRouter()

    @router.handles(VisitationDecidedV1)
    async def never_reached_without_db(event, meta, uow) -> None:  # pragma: no cover - paths below skip it
        raise AssertionError("should not run")

    async def publish_dead_letter(body: bytes, key: bytes | None, headers: dict[str, str]) -> None:
        dead_letters.append((body, headers))

    settings = Settings(service="plans", database_url="postgresql+asyncpg://unused/x")
    consumer = EventConsumer(settings=settings, router=router, sessions=None,  # type: ignore[arg-type]
                             publish_dead_letter=publish_dead_letter)
    broker = KafkaBroker()
    _subscribe(broker, settings, router, consumer)
    return broker, consumer


def headers_for(event_type: str) -> dict[str, str]:
    return cloudevent_headers(event_id=str(uuid.uuid4()), event_type=event_type, source="/tests",
                              subject=str(uuid.uuid4()), time=datetime.now(timezone.utc))


async def test_subscribes_to_the_topics_of_handled_events():
    broker, _ = make_consumer([])
    topics = {t for sub in broker.subscribers for t in sub.topic_names}
    assert topics == {REFERRALS.name}


async def test_event_types_not_handled_here_are_skipped():
    dead: list = []
    broker, _ = make_consumer(dead)
    async with TestKafkaBroker(broker) as br:
        await br.publish(b'{"anything": 1}', topic=REFERRALS.name,
                         headers=headers_for("tovholder.referrals.referral-received.v1"))
    assert dead == []


async def test_body_breaking_its_contract_is_dead_lettered_with_the_reason():
    dead: list = []
    broker, _ = make_consumer(dead)
    headers = headers_for(VisitationDecidedV1.event_type)
    async with TestKafkaBroker(broker) as br:
        await br.publish(b'{"citizen_id": "nope"}', topic=REFERRALS.name, headers=headers)
    assert len(dead) == 1
    body, dlq_headers = dead[0]
    assert body == b'{"citizen_id": "nope"}'
    assert dlq_headers["ce_id"] == headers["ce_id"]
    assert dlq_headers["dlq_reason"].startswith(f"body does not match contract {VisitationDecidedV1.event_type}")
    assert "citizen_id" in dlq_headers["dlq_reason"] and "decision" in dlq_headers["dlq_reason"]
    assert dlq_headers["dlq_original_topic"] == REFERRALS.name
    assert dlq_headers["dlq_consumer_group"] == "tovholder-plans"


async def test_record_without_cloudevent_headers_is_dead_lettered():
    dead: list = []
    broker, _ = make_consumer(dead)
    async with TestKafkaBroker(broker) as br:
        await br.publish(b"hello", topic=REFERRALS.name, headers={"x": "y"})
    assert len(dead) == 1
    assert dead[0][1]["dlq_reason"] == "not a CloudEvent: missing Kafka header(s) ce_id, ce_type, ce_source"
