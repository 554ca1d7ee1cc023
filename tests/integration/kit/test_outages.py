"""When the database or the broker is down, a service says so (503, a clear message, Retry-After)
and writes nothing half-way; when it is back, the service recovers by itself."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contracts.plans import PlanOpenedV1
from contracts.referrals import VisitationDecidedV1
from contracts.topics import PLANS, REFERRALS, dead_letter_topic
from services.referrals.models import Referral
from tests.support import eventually, publish_event, run_service
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics

pytestmark = pytest.mark.integration


def referral_message() -> dict:
    return {
        "message_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:59:58+01:00",
        "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
        "cpr": "0101901234", "citizen_name": "Test Borger", "reason": "Brug for botilbud",
    }


def granted() -> VisitationDecidedV1:
    return VisitationDecidedV1(
        citizen_id=uuid.uuid4(), referral_id=uuid.uuid4(), decision="granted", decided_at=datetime.now(timezone.utc),
        decided_by="visitation-1", legal_basis="SEL §108", step=7, offer_id="tangkaer", botilbud_id="tangkaer",
    )


@pytest.fixture
def own_pg(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", log_file=tmp_path / "pg.log")
    server.start()
    yield server
    server.stop()


async def test_database_down_gives_503_and_nothing_half_written(own_pg, kafka, state_dir):
    async with run_service("referrals", pg=own_pg, kafka=kafka, state_dir=state_dir,
                           database_connect_timeout_s=1.0) as referrals:
        partner = referrals.auth("partner", "epj", org="SOR:1234567")
        visitation = referrals.auth("visitation", "visitation-1")
        assert (await referrals.client.get("/readyz")).status_code == 200

        own_pg.stop()
        ready = await referrals.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")

        listing = await referrals.client.get("/api/v1/referrals", headers=visitation)
        assert listing.status_code == 503
        assert "database" in listing.json()["detail"] and "intet er ændret" in listing.json()["detail"]  # staff: Danish
        assert listing.json()["code"] == "unavailable" and listing.headers["retry-after"]

        message = referral_message()
        receipt = await referrals.client.post("/integration/v1/referrals", json=message, headers=partner)
        assert receipt.status_code == 503, receipt.text
        assert receipt.json()["status"] == "transient-error"
        assert "nothing was stored" in receipt.json()["reason"]  # partners: English
        assert receipt.json()["message_id"] == message["message_id"]
        assert receipt.headers["retry-after"]

        # A FHIR client is a partner too: English, whatever shape its route answers in.
        fhir = await referrals.client.get(f"/fhir/r4/Patient/{uuid.uuid4()}",
                                          headers=referrals.auth("partner", "epj", org="SOR:1234567", scope="system/*.read"))
        assert fhir.status_code == 503, fhir.text
        assert "intet er ændret" not in fhir.text and "nothing was" in fhir.text

        own_pg.start()

        async def ready_again() -> bool:
            return (await referrals.client.get("/readyz")).status_code == 200
        await eventually(ready_again, timeout=20, message="ready after the database came back")
        async with referrals.ctx.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Referral)) == 0  # nothing half-written
        # The sender retries, as the receipt told it to, and now it is stored once.
        retried = await referrals.client.post("/integration/v1/referrals", json=message, headers=partner)
        assert retried.status_code == 202 and retried.json()["status"] == "ok"


async def test_broker_down_makes_readyz_503_and_it_recovers(pg, state_dir, tmp_path):
    broker = Tansu(log_file=tmp_path / "tansu.log")
    broker.start()
    await create_topics(broker.bootstrap)
    try:
        async with run_service("plans", pg=pg, kafka=broker, state_dir=state_dir) as plans:
            assert (await plans.client.get("/readyz")).status_code == 200
            broker.stop()

            async def not_ready() -> bool:
                response = await plans.client.get("/readyz")
                return response.status_code == 503 and response.json()["checks"]["kafka"] != "ok"
            await eventually(not_ready, timeout=20, message="readyz reports the broker down")
            assert (await plans.client.get("/healthz")).status_code == 200  # alive: do not restart it

            port = broker.port
            broker = Tansu(port=port, log_file=tmp_path / "tansu2.log")
            broker.start()
            await create_topics(broker.bootstrap)

            async def ready() -> bool:
                return (await plans.client.get("/readyz")).status_code == 200
            await eventually(ready, timeout=30, message="ready after the broker came back")
    finally:
        broker.stop()


def postgres_processes(server: EmbeddedPostgres) -> list[int]:
    """The postmaster and its children (each child is a session of its own, so not one process group)."""
    pids = [server.process.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == server.process.pid:
                pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def frozen(server: EmbeddedPostgres) -> Iterator[None]:
    """PostgreSQL hangs: every process of it stopped (SIGSTOP), so connections open but nothing answers."""
    stopped = postgres_processes(server)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def test_readyz_and_metrics_answer_within_a_second_when_the_database_hangs(own_pg, kafka, state_dir):
    async with run_service("plans", pg=own_pg, kafka=kafka, state_dir=state_dir) as plans:
        assert (await plans.client.get("/readyz")).status_code == 200
        with frozen(own_pg):
            for _ in range(3):  # and again: a hung check must not pile up behind the next one
                started = time.perf_counter()
                ready = await plans.client.get("/readyz")
                assert time.perf_counter() - started < 1.0
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"].startswith("unavailable")
                assert ready.json()["checks"]["kafka"] == "ok"
            started = time.perf_counter()
            scraped = await plans.client.get("/metrics")
            assert scraped.status_code == 200 and time.perf_counter() - started < 1.5

        async def ready_again() -> bool:
            return (await plans.client.get("/readyz")).status_code == 200
        await eventually(ready_again, timeout=20, message="ready once the database answers again")


async def test_readyz_names_the_topics_a_restarted_broker_lacks(pg, state_dir, tmp_path):
    broker = Tansu(log_file=tmp_path / "tansu.log")
    broker.start()
    await create_topics(broker.bootstrap)
    try:
        async with run_service("plans", pg=pg, kafka=broker, state_dir=state_dir) as plans:
            assert (await plans.client.get("/readyz")).status_code == 200
            port = broker.port
            broker.kill()
            broker = Tansu(port=port, log_file=tmp_path / "tansu2.log")
            broker.start()  # empty: no topics

            async def lacks_topics() -> dict | None:
                response = await plans.client.get("/readyz")
                kafka_check = response.json()["checks"]["kafka"]
                return response.json() if response.status_code == 503 and "does not exist" in kafka_check else None
            answer = await eventually(lacks_topics, timeout=20, message="readyz reports the missing topics")
            for topic in (PLANS.name, REFERRALS.name, dead_letter_topic("plans").name):
                assert topic in answer["checks"]["kafka"]

            await create_topics(broker.bootstrap)

            async def ready() -> bool:
                return (await plans.client.get("/readyz")).status_code == 200
            await eventually(ready, timeout=20, message="ready once the topics exist")
    finally:
        broker.stop()


def metric(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{"):
            got = ",".join(sorted(line[line.index("{") + 1:line.index("}")].split(",")))
            if got == wanted:
                return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_show_consumer_lag_and_the_age_of_the_oldest_unpublished_event(own_pg, state_dir, tmp_path):
    broker = Tansu(log_file=tmp_path / "tansu.log")
    broker.start()
    await create_topics(broker.bootstrap)
    try:
        async with run_service("plans", pg=own_pg, kafka=broker, state_dir=state_dir,
                               database_connect_timeout_s=1.0) as plans:
            # Lag: the database is down, so the consumer cannot get past the first of these events.
            key = str(uuid.uuid4())
            first = await publish_event(broker, granted(), key=key)
            async def consumed_once() -> bool:
                scraped = (await plans.client.get("/metrics")).text
                return any(line.startswith("tovholder_consumer_lag{") and 'service="plans"' in line
                           for line in scraped.splitlines())
            await eventually(consumed_once, message="lag reported for the assigned partitions")
            own_pg.stop()
            for _ in range(4):
                await publish_event(broker, granted(), key=key)

            async def lag_of_four() -> float | None:
                scraped = (await plans.client.get("/metrics")).text
                lags = [float(line.rsplit(" ", 1)[1]) for line in scraped.splitlines()
                        if line.startswith("tovholder_consumer_lag{") and 'service="plans"' in line]
                return max(lags, default=0) >= 3 and max(lags)
            assert await eventually(lag_of_four, timeout=20, message="lag while the consumer is stuck") >= 3
            own_pg.start()

            async def caught_up() -> bool:
                scraped = (await plans.client.get("/metrics")).text
                lags = [float(line.rsplit(" ", 1)[1]) for line in scraped.splitlines()
                        if line.startswith("tovholder_consumer_lag{") and 'service="plans"' in line]
                return bool(lags) and max(lags) == 0
            await eventually(caught_up, timeout=30, message="no lag once the database is back")
            assert first

            # Age of the oldest unpublished event: the broker loses the topic, plans emits one.
            port = broker.port
            broker.kill()
            broker = Tansu(port=port, log_file=tmp_path / "tansu2.log")
            broker.start()
            async with plans.ctx.uow() as uow:
                uow.emit(PlanOpenedV1(citizen_id=uuid.uuid4(), plan_id=uuid.uuid4(), botilbud_id="orion",
                                      opened_at=datetime.now(timezone.utc)))
                await uow.commit()

            async def waiting_over_a_second() -> float | None:
                scraped = (await plans.client.get("/metrics")).text
                age = metric(scraped, "tovholder_outbox_oldest_unpublished_age_seconds", service="plans")
                return age if age and age > 1 else None
            await eventually(waiting_over_a_second, timeout=20, message="the unpublished event's age grows")
            changes = metric((await plans.client.get("/metrics")).text, "tovholder_broker_cluster_changes_total",
                             service="plans")
            assert changes and changes >= 1

            await create_topics(broker.bootstrap)

            async def all_published() -> bool:
                scraped = (await plans.client.get("/metrics")).text
                return metric(scraped, "tovholder_outbox_oldest_unpublished_age_seconds", service="plans") == 0
            await eventually(all_published, timeout=20, message="age back to 0 once published")
    finally:
        broker.stop()
