"""What a service can see of its broker, asked fresh: the cluster id and which topics exist.

aiokafka's cached ``ClusterMetadata`` is not enough for either question. It keeps no cluster id,
and it keeps the partitions it last saw, so after an in-memory broker (Tansu) restarts empty the
producer still "knows" every topic — and Tansu acknowledges writes to topics it does not have,
which then vanish. So the relay, `/readyz` and `tovholder replay` ask the broker with a metadata
request of their own (one round trip) before they trust a topic.

A new cluster id means a new broker: its log and its consumer groups start empty. The outbox
relay reacts by replaying (see ``tovholder.outbox``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaClient, AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.structs import TopicPartition

from contracts.topics import ALL_TOPICS, EVENT_TOPICS, consumed_by, dead_letter_topic

NO_ERROR = 0


class TopicsMissing(KafkaError):
    """The broker lacks topics we are about to write to (or read from), or has them with fewer
    partitions than the contract says (auto-created by some client), which is no better."""

    def __init__(self, problems: dict[str, str], cluster_id: str | None) -> None:
        self.problems = dict(sorted(problems.items()))
        self.missing = list(self.problems)
        self.cluster_id = cluster_id
        super().__init__("; ".join(f"topic {name} {why}" for name, why in self.problems.items()))


def expected_partitions(topic: str) -> int:
    """Partitions the contract gives a topic (contracts.topics; at least 1 for any other topic)."""
    return EXPECTED_PARTITIONS.get(topic, 1)


EXPECTED_PARTITIONS = {t.name: t.partitions for t in ALL_TOPICS}


@dataclass(frozen=True)
class BrokerView:
    """One metadata response: the cluster id (None from brokers older than metadata v2) and, for
    the topics asked about, how many partitions each has (0 = the topic does not exist)."""

    cluster_id: str | None
    partitions: dict[str, int] = field(default_factory=dict)

    def unusable(self, topics: Iterable[str]) -> dict[str, str]:
        """Topics that do not exist, or exist with fewer partitions than the contract: why, by name."""
        problems = {}
        for name in sorted(set(topics)):
            have, want = self.partitions.get(name, 0), expected_partitions(name)
            if have == 0:
                problems[name] = "does not exist"
            elif have < want:
                problems[name] = f"has {have} partitions, {want} expected (created by a client, not by us?)"
        return problems

    def missing(self, topics: Iterable[str]) -> list[str]:
        return list(self.unusable(topics))


async def describe_broker(client: AIOKafkaClient, topics: Iterable[str] = (), *, timeout: float = 2.0) -> BrokerView:
    """Ask the broker (not aiokafka's cache) for its cluster id and the given topics.

    Never asks the broker to create a topic. Raises KafkaError (or asyncio.TimeoutError) when no
    known broker answers within ``timeout``."""
    wanted = sorted(set(topics))
    return await asyncio.wait_for(_describe(client, wanted), timeout)


async def _describe(client: AIOKafkaClient, topics: list[str]) -> BrokerView:
    nodes = [broker.nodeId for broker in client.cluster.brokers()]
    if not nodes:
        raise KafkaConnectionError("no broker known yet (the client has not bootstrapped)")
    random.shuffle(nodes)
    last_error: Exception | None = None
    for node in nodes:
        try:
            response = await client.send(node, MetadataRequest(topics, allow_auto_topic_creation=False))
        except (KafkaError, OSError) as exc:  # that node is down; another may answer
            last_error = exc
            continue
        partitions: dict[str, int] = {name: 0 for name in topics}
        for topic_data in response.topics:
            error_code, name, partition_list = topic_data[0], topic_data[1], topic_data[-1]
            if name in partitions and error_code == NO_ERROR:
                partitions[name] = len(partition_list)
        return BrokerView(cluster_id=getattr(response, "cluster_id", None), partitions=partitions)
    raise KafkaConnectionError(f"no broker answered a metadata request ({type(last_error).__name__}: {last_error})")


async def unusable_topics(bootstrap: str, topics: Iterable[str], *, timeout: float = 10.0,
                          **client_options) -> tuple[dict[str, str], str | None]:
    """One-shot check from outside a service (`tovholder replay`): which of ``topics`` the broker
    at ``bootstrap`` lacks (and why), and its cluster id. Raises KafkaError when it cannot be reached."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **client_options)
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        view = await describe_broker(client, topics, timeout=timeout)
        return view.unusable(topics), view.cluster_id
    finally:
        await client.close()


def service_topics(service: str) -> list[str]:
    """Every topic a service needs: what it publishes, what it consumes, its dead-letter topic."""
    produced = [t.name for t in EVENT_TOPICS if t.producer == service]
    consumed = [t.name for t in consumed_by(service)]
    dead_letters = [dead_letter_topic(service).name] if consumed else []
    return sorted({*produced, *consumed, *dead_letters})


async def consumer_lag(consumer: AIOKafkaConsumer, *, timeout: float = 0.2) -> dict[TopicPartition, int]:
    """Records not yet handled per assigned partition: the end of the partition's log (asked of the
    broker; the high watermark of the last fetch when the broker does not answer in time) minus the
    next offset to handle. The kit's batch consumer fetches ahead of what it has handled,
    so it tells the offsets it has handled up to (``handled_offsets`` on the consumer); otherwise the
    consumer's position. Partitions without a known watermark or position (just assigned,
    resetting) are left out rather than reported as 0."""
    lag: dict[TopicPartition, int] = {}
    handled = getattr(consumer, "handled_offsets", None) or {}
    assigned = list(consumer.assignment())
    # The log's end asked of the broker: a consumer stuck retrying one batch (its database is down)
    # fetches nothing new, so the watermark of its last fetch would hide what piled up behind it.
    try:
        ends = await asyncio.wait_for(consumer.end_offsets(assigned), timeout) if assigned else {}
    except (KafkaError, AssertionError, asyncio.TimeoutError):
        ends = {}
    for partition in assigned:
        try:
            highwater = ends.get(partition, consumer.highwater(partition))
            if highwater is None:
                continue
            position = handled.get(partition)
            if position is None:
                position = await asyncio.wait_for(consumer.position(partition), timeout)
        except (KafkaError, AssertionError, asyncio.TimeoutError):  # unassigned meanwhile, or resetting
            continue
        lag[partition] = max(0, highwater - position)
    return lag


def never_auto_create_topics() -> None:
    """Make every aiokafka metadata request in this process say allow_auto_topic_creation=false.

    aiokafka (0.14) sends true and has no option for it. Apache Kafka here and in production has
    ``auto.create.topics.enable=false``, but Tansu has no such switch: right after a restart the
    consumers' metadata requests would create our topics with Tansu's default of 4 partitions, so
    the real ones (contracts.topics) could not be created and keys would land on other
    partitions. Topics are created by `tovholder up`/the tests (create_topics) and Strimzi only."""
    defaults = MetadataRequest.__init__.__defaults__
    names = MetadataRequest.__init__.__code__.co_varnames[1:MetadataRequest.__init__.__code__.co_argcount]
    if names != ("topics", "allow_auto_topic_creation") or defaults is None or len(defaults) != 2:
        raise RuntimeError(f"aiokafka's MetadataRequest changed ({names}); revisit never_auto_create_topics()")
    MetadataRequest.__init__.__defaults__ = (defaults[0], False)


never_auto_create_topics()  # on import: every kit module that talks to the broker imports this one
