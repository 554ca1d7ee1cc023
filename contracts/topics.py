"""Every Kafka topic Tovholder uses, who writes it and who reads it.

This table is the single source for topic creation (`tovholder up`, the tests), the Strimzi
``KafkaTopic``/``KafkaUser`` ACL manifests in ``deploy/k8s`` (checked by a test), and the
consumers' subscriptions. One topic per producing service keeps all of one citizen's events from
that service in one ordered partition (key = citizen id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVICES = ("referrals", "plans", "health", "notifications")


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    consumers: tuple[str, ...] = field(default=())
    partitions: int = 6
    retention_ms: int = 14 * 24 * 3600 * 1000
    dead_letter: bool = False


REFERRALS = Topic("tovholder.referrals.events.v1", "referrals", consumers=("plans", "health", "notifications"))
PLANS = Topic("tovholder.plans.events.v1", "plans", consumers=("referrals", "health", "notifications"))
HEALTH = Topic("tovholder.health.events.v1", "health", consumers=("referrals", "plans", "notifications"))
NOTIFICATIONS = Topic("tovholder.notifications.events.v1", "notifications", consumers=("health",))

EVENT_TOPICS: tuple[Topic, ...] = (REFERRALS, PLANS, HEALTH, NOTIFICATIONS)


def dead_letter_topic(consumer: str) -> Topic:
    """Where a consumer parks an event it could not handle (written and read only by that consumer)."""
    return Topic(
        f"tovholder.{consumer}.dlq.v1",
        consumer,
        consumers=(consumer,),
        partitions=1,
        retention_ms=90 * 24 * 3600 * 1000,
        dead_letter=True,
    )


DEAD_LETTER_TOPICS: tuple[Topic, ...] = tuple(
    dead_letter_topic(s) for s in SERVICES if any(s in t.consumers for t in EVENT_TOPICS)
)
ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + DEAD_LETTER_TOPICS


def consumed_by(service: str) -> tuple[Topic, ...]:
    return tuple(t for t in EVENT_TOPICS if service in t.consumers)


def consumer_group(service: str) -> str:
    return f"tovholder-{service}"
