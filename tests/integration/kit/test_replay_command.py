"""`tovholder replay` after a broker loss: it refuses (exit 1, one line) while the broker lacks the
topics — a restarted Tansu would acknowledge the writes and keep nothing — and by default starts
where the lost broker's run started, as `tovholder up` recorded it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from contracts.plans import PlanOpenedV1
from tests.support import fresh_database, service_settings
from tovholder.db import OutboxMessage, create_engine, session_factory
from tovholder.infra import Tansu, create_topics
from tovholder.launcher import read_broker_record, record_broker_start, republish_for_an_empty_broker
from tovholder.uow import UnitOfWork

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def replay_command(*args: str, database_url: str, bootstrap: str, state_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOVHOLDER_DATABASE_URL": database_url, "TOVHOLDER_KAFKA_BOOTSTRAP": bootstrap,
           "TOVHOLDER_STATE_DIR": str(state_dir)}
    return subprocess.run([sys.executable, "-m", "tovholder.cli", "replay", "--service", "plans", *args],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


async def test_replay_refuses_without_topics_and_defaults_to_the_lost_brokers_start(pg, state_dir, tmp_path):
    broker = Tansu(log_file=tmp_path / "tansu.log")
    broker.start()
    await create_topics(broker.bootstrap)
    record_broker_start(state_dir, "tansu", broker.bootstrap, broker.cluster_id)
    url = fresh_database(pg, "plans")
    engine = create_engine(service_settings("plans", database_url=url, kafka=broker, state_dir=state_dir))
    sessions = session_factory(engine)
    try:
        async with UnitOfWork(sessions, service="plans") as uow:
            for _ in range(2):
                uow.emit(PlanOpenedV1(citizen_id=uuid.uuid4(), plan_id=uuid.uuid4(), botilbud_id="orion",
                                      opened_at=datetime.now(timezone.utc)))
            await uow.commit()
        async with sessions() as session, session.begin():  # as the relay does once the broker took them
            await session.execute(update(OutboxMessage).values(published_at=func.now()))

        async def unpublished() -> int:
            async with sessions() as session:
                return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                            .where(OutboxMessage.published_at.is_(None)))

        # The broker dies and comes back empty; `tovholder up` records the restart.
        broker.kill()
        broker = Tansu(port=broker.port, log_file=tmp_path / "tansu2.log")
        broker.start()
        record_broker_start(state_dir, "tansu", broker.bootstrap, broker.cluster_id)

        refused = replay_command(database_url=url, bootstrap=broker.bootstrap, state_dir=state_dir)
        assert refused.returncode == 1
        assert refused.stdout == ""
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "nothing was marked" in lines[0], refused.stderr
        assert "topic tovholder.plans.events.v1 does not exist" in lines[0]
        assert await unpublished() == 0

        await create_topics(broker.bootstrap)
        done = replay_command(database_url=url, bootstrap=broker.bootstrap, state_dir=state_dir)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("plans: 2 events published since "), done.stdout
        assert await unpublished() == 2  # published to the lost broker's run: all of it again

        later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        none = replay_command("--since", later, database_url=url, bootstrap=broker.bootstrap, state_dir=state_dir)
        assert none.returncode == 0 and none.stdout.startswith("plans: 0 events"), none.stdout + none.stderr
    finally:
        await engine.dispose()
        broker.stop()


def test_replay_without_since_and_without_a_recorded_broker_start_says_so(tmp_path):
    result = replay_command(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none",
                            bootstrap="127.0.0.1:1", state_dir=tmp_path)
    assert result.returncode == 1
    assert "pass --since" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_replay_when_the_broker_is_unreachable_marks_nothing(pg, state_dir, tmp_path):
    url = fresh_database(pg, "plans")
    result = replay_command("--since", "2026-01-01T00:00:00Z", database_url=url, bootstrap="127.0.0.1:1",
                            state_dir=state_dir)
    assert result.returncode == 1
    assert "cannot reach the broker at 127.0.0.1:1" in result.stderr and "nothing was marked" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


async def test_a_fresh_local_tansu_gets_again_what_the_previous_run_was_given(pg, state_dir, tmp_path):
    """`tovholder up` on a state directory used before: the new Tansu is empty, so what was published
    during the last run (not necessarily consumed before Ctrl-C) goes out again."""
    url = fresh_database(pg, "plans")
    assert await republish_for_an_empty_broker(read_broker_record(state_dir), {"plans": url}) == (None, 0)

    record_broker_start(state_dir, "tansu", "127.0.0.1:1", "tansu-earlier")
    engine = create_engine(service_settings("plans", database_url=url, kafka=Tansu(), state_dir=state_dir))
    sessions = session_factory(engine)
    try:
        async with UnitOfWork(sessions, service="plans") as uow:
            uow.emit(PlanOpenedV1(citizen_id=uuid.uuid4(), plan_id=uuid.uuid4(), botilbud_id="orion",
                                  opened_at=datetime.now(timezone.utc)))
            await uow.commit()
        async with sessions() as session, session.begin():
            await session.execute(update(OutboxMessage).values(published_at=func.now()))
        since, count = await republish_for_an_empty_broker(read_broker_record(state_dir), {"plans": url})
        assert count == 1 and since == datetime.fromisoformat(read_broker_record(state_dir)["started_at"])
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.published_at.is_(None))) == 1
    finally:
        await engine.dispose()
