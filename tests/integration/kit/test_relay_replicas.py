"""Two replicas of one service, as production runs every service (the HorizontalPodAutoscaler keeps at
least two): both serve and consume, but only one outbox relay publishes, so a citizen's events leave in
the order they were committed. When that replica dies (SIGKILL, mid-stream, with sends in flight), the
other takes over within seconds: every event reaches the topic, each citizen's events first arrive in
commit order, and what is sent twice is at most what the dead relay had in hand.

Real processes (``tovholder serve referrals``), real PostgreSQL, the suite's broker; bounded in time.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from contracts.referrals import VisitationDecidedV1
from contracts.topics import REFERRALS
from tests.support import fresh_database, read_topic, service_settings, start_service_process
from tovholder.db import OutboxMessage, create_engine, session_factory
from tovholder.infra import free_port
from tovholder.uow import UnitOfWork

pytestmark = [pytest.mark.integration]

CITIZENS = 200
EVENTS_PER_CITIZEN = 15  # 3,000 events, committed 20 per transaction while the replicas publish
DEADLINE_S = 120
LEADER = re.compile(r'^tovholder_outbox_relay_leader\{service="referrals"\} (\S+)$', re.M)


class Replica:
    def __init__(self, name: str, *, database_url: str, bootstrap: str, idempotent: bool, state_dir: Path) -> None:
        self.name, self.port, self.log = name, free_port(), state_dir / f"{name}.log"
        self.process = start_service_process("referrals", database_url=database_url, bootstrap=bootstrap,
                                             state_dir=state_dir, log=self.log, port=self.port,
                                             idempotent_producer=idempotent)

    async def leading(self, http: httpx.AsyncClient) -> bool | None:
        """Whether its relay publishes (None: not answering yet)."""
        assert self.process.poll() is None, f"{self.name} exited (see {self.log})"
        try:
            metrics = (await http.get(f"http://127.0.0.1:{self.port}/metrics")).text
        except httpx.TransportError:
            return None
        found = LEADER.search(metrics)
        return None if found is None else float(found.group(1)) == 1.0

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def decision(citizen_id: uuid.UUID, n: int) -> VisitationDecidedV1:
    # The step tells a citizen's events apart in the order they were committed.
    return VisitationDecidedV1(
        citizen_id=citizen_id, referral_id=uuid.uuid4(), decision="granted", decided_at=datetime.now(timezone.utc),
        decided_by="visitation-1", legal_basis="SEL §108", step=n % 7 + 1, offer_id="tangkaer", botilbud_id="tangkaer",
    )


async def test_only_one_replica_publishes_and_the_other_takes_over_when_it_dies(pg, kafka, tmp_path):
    deadline = time.monotonic() + DEADLINE_S
    url = fresh_database(pg, "referrals")
    settings = service_settings("referrals", database_url=url, kafka=kafka, state_dir=tmp_path)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    replicas = [Replica(name, database_url=url, bootstrap=kafka.bootstrap, idempotent=kafka.kind != "tansu",
                        state_dir=tmp_path) for name in ("replica-a", "replica-b")]
    citizens = [uuid.uuid4() for _ in range(CITIZENS)]
    committed: list[str] = []  # event ids in commit order

    async def published() -> int:
        async with sessions() as session:
            return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.published_at.is_not(None))) or 0

    async def commit_stream() -> None:
        pending = [(c, n) for n in range(EVENTS_PER_CITIZEN) for c in citizens]
        for start in range(0, len(pending), 20):
            async with UnitOfWork(sessions, service="referrals") as uow:
                for citizen_id, n in pending[start:start + 20]:
                    committed.append(str(uow.emit(decision(citizen_id, n))))
                await uow.commit()
            await asyncio.sleep(0.01)

    try:
        async with httpx.AsyncClient(timeout=2) as http:
            async def leaders() -> list[bool | None]:
                return [await r.leading(http) for r in replicas]

            while (states := await leaders()).count(True) != 1 or None in states:
                assert time.monotonic() < deadline, f"no single leader: {states} (see {tmp_path}/replica-*.log)"
                await asyncio.sleep(0.2)
            leader, standby = (replicas[0], replicas[1]) if states[0] else (replicas[1], replicas[0])

            stream = asyncio.create_task(commit_stream())
            total = CITIZENS * EVENTS_PER_CITIZEN
            while await published() < total // 3:
                assert time.monotonic() < deadline, "the stream did not get going"
                await asyncio.sleep(0.02)
            leader.kill()
            killed_at = await published()
            killed_when = time.monotonic()
            assert killed_at < total, "everything was published before the leader died; make the stream longer"

            while not await standby.leading(http):
                assert time.monotonic() < deadline, f"the standby never took over (see {standby.log})"
                await asyncio.sleep(0.1)
            takeover_s = time.monotonic() - killed_when
            await stream
            while await published() < total:
                assert time.monotonic() < deadline, f"only {await published()} of {total} published"
                await asyncio.sleep(0.1)

        records = await read_topic(kafka, REFERRALS.name, min_count=total, timeout=60)
        position = {event_id: i for i, event_id in enumerate(committed)}
        ids = [r["headers"]["ce_id"] for r in records if r["headers"].get("ce_id") in position]
        assert set(ids) == set(committed), f"{len(set(committed) - set(ids))} events never reached the topic"
        # Each citizen's events first arrive in the order they were committed (a repeat is a resend of
        # what the dead relay had in hand, harmless to idempotent consumers).
        by_citizen: dict[bytes, list[int]] = {}
        seen: set[str] = set()
        for record in records:
            event_id = record["headers"].get("ce_id")
            if event_id in position and event_id not in seen:
                seen.add(event_id)
                by_citizen.setdefault(record["key"], []).append(position[event_id])
        assert len(by_citizen) == CITIZENS
        out_of_order = [key for key, order in by_citizen.items() if order != sorted(order)]
        assert not out_of_order, f"{len(out_of_order)} citizens' events arrived out of commit order"
        resent = len(ids) - len(set(ids))
        assert resent <= settings.outbox_batch_size, f"{resent} events sent twice"
        assert takeover_s < 15, f"the standby took {takeover_s:.1f} s to take over"
        print(f"\nleader killed after {killed_at} of {total} published; the standby published the rest after "
              f"{takeover_s:.1f} s; {resent} sent twice; every citizen's events in commit order")
    finally:
        for replica in replicas:
            replica.stop()
        await engine.dispose()
