"""When the database or the broker is down, a service says so (503, a clear message, Retry-After)
and writes nothing half-way; when it is back, the service recovers by itself."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from services.referrals.models import Referral
from tests.support import eventually, run_service
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics

pytestmark = pytest.mark.integration


def referral_message() -> dict:
    return {
        "message_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:59:58+01:00",
        "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
        "cpr": "0101901234", "citizen_name": "Test Borger", "reason": "Brug for botilbud",
    }


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
        assert "database" in listing.json()["detail"] and "nothing was changed" in listing.json()["detail"]
        assert listing.headers["retry-after"]

        message = referral_message()
        receipt = await referrals.client.post("/integration/v1/referrals", json=message, headers=partner)
        assert receipt.status_code == 503, receipt.text
        assert receipt.json()["status"] == "transient-error"
        assert receipt.json()["message_id"] == message["message_id"]
        assert receipt.headers["retry-after"]

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
