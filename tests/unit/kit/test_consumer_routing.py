"""The consumer's routing on the paths that touch no database: unknown event types are skipped;
records the kit cannot decode — bodies that break their contract, are not JSON (whatever the
content type says) or not UTF-8, and records that are not CloudEvents — go to the dead-letter
topic with the reason and their Kafka key; a dead letter's reason leads with the root cause."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy.exc import IntegrityError

from contracts.referrals import VisitationDecidedV1
from contracts.topics import REFERRALS
from tovholder.messaging import EventConsumer, EventRouter, cloudevent_headers, root_cause
from tovholder.service import _subscribe
from tovholder.settings import Settings


def make_consumer(dead_letters: list) -> tuple[KafkaBroker, EventConsumer]:
    router = EventRouter()

    @router.handles(VisitationDecidedV1)
    async def never_reached_without_db(event, meta, uow) -> None:  # pragma: no cover - paths below skip it
        raise AssertionError("should not run")

    async def publish_dead_letter(body: bytes, key: bytes | None, headers: dict[str, str]) -> None:
        dead_letters.append((body, key, headers))

    settings = Settings(service="plans", database_url="postgresql+asyncpg://unused/x")
    consumer = EventConsumer(settings=settings, router=router, sessions=None,  # type: ignore[arg-type]
                             publish_dead_letter=publish_dead_letter)
    broker = KafkaBroker()
    _subscribe(broker, settings, router, consumer)
    return broker, consumer


def headers_for(event_type: str) -> dict[str, str]:
    return cloudevent_headers(event_id=str(uuid.uuid4()), event_type=event_type, source="/tests",
                              subject=str(uuid.uuid4()), time=datetime.now(timezone.utc))


def record(body: bytes, headers: dict[str, str], *, key: bytes = b"citizen-1", offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord(topic=REFERRALS.name, partition=2, offset=offset, timestamp=0, timestamp_type=0,
                          key=key, value=body, checksum=None, serialized_key_size=len(key),
                          serialized_value_size=len(body), headers=[(k, v.encode()) for k, v in headers.items()])


async def test_subscribes_to_the_topics_of_handled_events():
    broker, _ = make_consumer([])
    topics = {t for sub in broker.subscribers for t in sub.topic_names}
    assert topics == {REFERRALS.name}


async def test_event_types_not_handled_here_are_skipped_and_their_offset_committed():
    dead: list = []
    _, consumer = make_consumer(dead)
    offset = await consumer.handle_partition([record(b'{"anything": 1}', headers_for("tovholder.referrals.referral-received.v1"))])
    assert dead == []
    assert offset == 8


async def test_body_breaking_its_contract_is_dead_lettered_with_the_reason_and_key():
    dead: list = []
    _, consumer = make_consumer(dead)
    headers = headers_for(VisitationDecidedV1.event_type)
    await consumer.handle_partition([record(b'{"citizen_id": "nope"}', headers)])
    assert len(dead) == 1
    body, key, dlq_headers = dead[0]
    assert body == b'{"citizen_id": "nope"}'
    assert key == b"citizen-1"
    assert dlq_headers["ce_id"] == headers["ce_id"]
    assert dlq_headers["dlq_reason"].startswith(f"body does not match contract {VisitationDecidedV1.event_type}")
    assert "citizen_id" in dlq_headers["dlq_reason"] and "decision" in dlq_headers["dlq_reason"]
    assert dlq_headers["dlq_original_topic"] == REFERRALS.name
    assert dlq_headers["dlq_original_partition"] == "2" and dlq_headers["dlq_original_offset"] == "7"
    assert dlq_headers["dlq_consumer_group"] == "tovholder-plans"


async def test_body_that_is_not_json_is_dead_lettered_although_the_content_type_says_json():
    dead: list = []
    _, consumer = make_consumer(dead)
    headers = headers_for(VisitationDecidedV1.event_type)
    assert headers["content-type"] == "application/json"  # what the relay itself sets
    await consumer.handle_partition([record(b'{"citizen_id": ', headers)])
    assert len(dead) == 1
    _, key, dlq_headers = dead[0]
    assert key == b"citizen-1"
    assert dlq_headers["dlq_reason"].startswith("body is not valid JSON")


async def test_body_that_is_not_utf8_is_dead_lettered():
    dead: list = []
    _, consumer = make_consumer(dead)
    await consumer.handle_partition([record(b'{"a": "\xff\xfe"}', headers_for(VisitationDecidedV1.event_type))])
    assert [d[2]["dlq_reason"] for d in dead] == ['body is not UTF-8 (byte 7): '
                                                 f'{VisitationDecidedV1.event_type} must be a JSON body']


async def test_record_without_cloudevent_headers_is_dead_lettered():
    dead: list = []
    _, consumer = make_consumer(dead)
    await consumer.handle_partition([record(b"hello", {"x": "y"})])
    assert len(dead) == 1
    assert dead[0][2]["dlq_reason"] == "not a CloudEvent: missing Kafka header(s) ce_id, ce_type, ce_source, ce_specversion"


async def test_broken_cloudevent_headers_are_dead_lettered():
    dead: list = []
    _, consumer = make_consumer(dead)
    wrong_version = {**headers_for(VisitationDecidedV1.event_type), "ce_specversion": "0.3"}
    bad_time = {**headers_for(VisitationDecidedV1.event_type), "ce_time": "yesterday"}
    await consumer.handle_partition([record(b"{}", wrong_version), record(b"{}", bad_time, offset=8)])
    reasons = [d[2]["dlq_reason"] for d in dead]
    assert reasons[0] == "unsupported CloudEvents specversion '0.3' (expected 1.0)"
    assert reasons[1] == "ce_time is not an RFC 3339 time: 'yesterday'"


def test_root_cause_leads_a_dead_letters_reason():
    class UniqueViolation(Exception):
        pass

    driver = UniqueViolation('duplicate key value violates unique constraint "uq_task_source"\nDETAIL: Key (…)')
    wrapped = IntegrityError("INSERT INTO task …", {}, driver)
    try:
        try:
            raise wrapped
        except IntegrityError as exc:
            raise RuntimeError("(raised as a result of Query-invoked autoflush; consider using a "
                               "session.no_autoflush block …)") from exc
    except RuntimeError as outer:
        reason = root_cause(outer)
    assert reason == ('UniqueViolation: duplicate key value violates unique constraint "uq_task_source" '
                      '(surfaced as RuntimeError)')
    assert root_cause(ValueError("plain")) == "ValueError: plain"
