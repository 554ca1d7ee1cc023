"""The unit of work writes the rows nothing reads back — outbox, audit, receipts — and the relay's
wake-up in one statement at commit, on real PostgreSQL: all of them or none, however many, and the
NOTIFY only when the transaction commits."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from contracts.plans import PlanOpenedV1
from tests.support import fresh_database
from tovholder.auth import Principal
from tovholder.db import OUTBOX_CHANNEL, AuditEntry, OutboxMessage
from tovholder.uow import UnitOfWork

pytestmark = pytest.mark.integration

STAFF = Principal(sub="k1", role="coordinator", name="Koordinator", botilbud="orion")


def opened(citizen_id: uuid.UUID) -> PlanOpenedV1:
    return PlanOpenedV1(citizen_id=citizen_id, plan_id=uuid.uuid4(), botilbud_id="orion",
                        opened_at="2026-11-02T09:00:00Z")


@pytest.fixture
async def database(pg):
    url = fresh_database(pg, "plans")
    engine = create_async_engine(url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    try:
        yield engine, async_sessionmaker(engine, expire_on_commit=False), statements, url
    finally:
        await engine.dispose()


async def counts(sessions) -> tuple[int, int]:
    async with sessions() as session:
        return ((await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one(),
                (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def test_an_event_and_its_audit_entry_are_one_statement_with_the_wake_up(database):
    engine, sessions, statements, url = database
    listener = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    woken: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(OUTBOX_CHANNEL, lambda connection, pid, channel, payload: woken.put_nowait(channel))
    try:
        citizen = uuid.uuid4()
        async with UnitOfWork(sessions, service="plans") as uow:
            uow.emit(opened(citizen))
            uow.audit(STAFF, "plan.opened", citizen_id=citizen, object_type="plan", object_id=citizen,
                      detail={"why": "a test"})
            statements.clear()
            await uow.commit()
        assert len(statements) == 1, statements
        assert "INSERT INTO outbox" in statements[0] and "INSERT INTO audit_log" in statements[0]
        assert "pg_notify" in statements[0]
        assert await asyncio.wait_for(woken.get(), 5) == OUTBOX_CHANNEL
        assert await counts(sessions) == (1, 1)
        async with sessions() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
            entry = (await session.execute(select(AuditEntry))).scalar_one()
        assert row.subject == str(citizen) and row.published_at is None and row.publish_count == 0
        assert row.created_at is not None and row.source == "/tovholder/plans"
        assert entry.actor_sub == "k1" and entry.citizen_id == citizen and entry.detail == {"why": "a test"}
        assert entry.at is not None

        # Rolled back: nothing written, nobody woken; a later commit writes only its own rows.
        async with UnitOfWork(sessions, service="plans") as uow:
            uow.emit(opened(citizen))
            uow.audit(None, "plan.opened", citizen_id=citizen)
            await uow.rollback()
            uow.audit(None, "plan.read", citizen_id=citizen)
            await uow.commit()
        async with UnitOfWork(sessions, service="plans") as uow:
            uow.emit(opened(citizen))  # left without commit
        await asyncio.sleep(0.3)
        assert woken.empty()
        assert await counts(sessions) == (1, 2)
    finally:
        await listener.close()


async def test_any_number_of_rows_is_one_statement_of_one_text(database):
    engine, sessions, statements, _ = database
    citizen = uuid.uuid4()
    for rows in (4_000, 3):
        async with UnitOfWork(sessions, service="plans") as uow:
            for index in range(rows):
                uow.emit(opened(citizen))
                # Some with a detail, some without (SQL NULL).
                uow.audit(STAFF, "plan.read", citizen_id=citizen, detail={"n": index} if index % 2 else None)
            await uow.commit()
    # 4,000 outbox rows × 9 columns and 4,000 audit rows × 10 would be 76,000 parameters as VALUES
    # lists, over asyncpg's 32,767: as one array a column they are 21, in a text that does not depend
    # on the number of rows (prepared once, then reused).
    writes = [s for s in statements if s.startswith("WITH write_0")]
    assert len(writes) == 2 and writes[0] == writes[1], writes
    assert writes[0].count("INSERT INTO audit_log") == 1 and "pg_notify" in writes[0]
    assert await counts(sessions) == (4_003, 4_003)
    async with sessions() as session:
        details = (await session.execute(select(AuditEntry.detail).where(AuditEntry.detail.is_not(None)))).scalars()
        assert sorted(d["n"] for d in details) == [1] + list(range(1, 4_000, 2))
