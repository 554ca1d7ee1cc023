"""After the broker was replaced, see that every consumer of this service holds partitions again.

Normally nothing is needed: a new broker (new cluster id) has no consumer groups, so a consumer's
next heartbeat or commit fails with an unknown member id, it rejoins, finds no committed offsets
and starts from the earliest offset (``auto_offset_reset="earliest"``) — everything the relays
replay is read again, and the inbox makes that harmless.

One case needs help (Tansu 0.6 with aiokafka 0.14): a consumer that rejoins a restarted Tansu
*before* the topics are recreated is given no partitions; when the topics appear it rejoins, but
Tansu, whose group generation stayed at 0, hands back the same empty assignment, for ever. Leaving
the group and joining as a new member gets a new generation and the partitions. This watch does
that, once per consumer and broker change, for a consumer that still holds nothing some seconds
after its topics exist.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from tovholder.broker_view import BrokerView

log = logging.getLogger(__name__)

# Longer than a consumer needs to notice new topics (metadata max age) and finish a rebalance.
STRANDED_AFTER_S = 8.0
CHECK_EVERY_S = 1.0


class ConsumerRecovery:
    def __init__(self, *, service: str, describe_broker: Callable[[Sequence[str]], Awaitable[BrokerView]],
                 consumers: Callable[[], list[AIOKafkaConsumer]]) -> None:
        self.service = service
        self.describe_broker = describe_broker
        self.consumers = consumers
        self.cluster_id: str | None = None
        # Since the last broker change: consumers not yet seen holding partitions (id → when first
        # seen empty with their topics present, or None), and those already made to rejoin.
        self._pending: dict[int, float | None] = {}
        self._rejoined: set[int] = set()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.check_once()
            except (KafkaError, asyncio.TimeoutError, OSError):
                pass  # the broker is away: the relay and /readyz say so; look again shortly
            await asyncio.sleep(CHECK_EVERY_S)

    async def check_once(self) -> None:
        consumers = [c for c in self.consumers() if c.subscription()]
        topics = sorted({t for c in consumers for t in c.subscription()})
        view = await self.describe_broker(topics)
        if view.cluster_id is None:
            return
        if self.cluster_id is None:
            self.cluster_id = view.cluster_id
            return
        if view.cluster_id != self.cluster_id:
            self.cluster_id = view.cluster_id
            self._pending = {id(c): None for c in consumers}
            self._rejoined = set()
        if not self._pending or view.unusable(topics):
            return  # nothing to watch, or the topics are not back yet
        now = time.monotonic()
        for consumer in consumers:
            key = id(consumer)
            if key not in self._pending:
                continue
            if consumer.assignment():
                del self._pending[key]  # holds partitions again: fine
                continue
            empty_since = self._pending[key] = self._pending[key] or now
            if now - empty_since >= STRANDED_AFTER_S and key not in self._rejoined:
                self._rejoin(consumer)
                self._rejoined.add(key)
                del self._pending[key]

    def _rejoin(self, consumer: AIOKafkaConsumer) -> None:
        topics = sorted(consumer.subscription())
        log.warning("%s: a consumer holds no partitions %.0fs after the new broker got its topics (%s); "
                    "leaving the group and joining again as a new member", self.service, STRANDED_AFTER_S,
                    ", ".join(topics))
        consumer.unsubscribe()
        consumer.subscribe(topics)
