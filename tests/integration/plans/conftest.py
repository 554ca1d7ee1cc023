"""Shared helpers for the plans integration tests: one plans service per module on the real
PostgreSQL + Tansu from tests/conftest.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from contracts.referrals import VisitationDecidedV1
from services.plans.models import Plan
from tests.support import RunningService, eventually, publish_event, run_service
from tovholder.db import AuditEntry, OutboxMessage


@pytest.fixture(scope="module")
async def plans(pg, kafka, tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("plans-state")
    async with run_service("plans", pg=pg, kafka=kafka, state_dir=state_dir) as svc:
        yield svc
        # Stop only once the relay has published: stopping it mid-publish can hang the shutdown (kit).
        await outbox_drained(svc)


def granted(citizen_id: uuid.UUID, botilbud: str = "orion") -> VisitationDecidedV1:
    return VisitationDecidedV1(
        citizen_id=citizen_id, referral_id=uuid.uuid4(), decision="granted",
        decided_at=datetime.now(timezone.utc), decided_by="visitation-1", legal_basis="SEL §108",
        step=7, offer_id=botilbud, botilbud_id=botilbud,
    )


async def open_plan(kafka, svc: RunningService, botilbud: str = "orion") -> uuid.UUID:
    """A place is granted (as referrals would publish it) and the plans service opens the plan."""
    citizen_id = uuid.uuid4()
    await publish_event(kafka, granted(citizen_id, botilbud))

    async def opened():
        async with svc.ctx.sessions() as session:
            return await session.scalar(select(Plan.id).where(Plan.citizen_id == citizen_id))

    await eventually(opened, message="plan opened")
    return citizen_id


async def form_network(svc: RunningService, citizen_id: uuid.UUID, botilbud: str = "orion",
                       members: tuple[tuple[str, str], ...] = (("k1", "coordinator"), ("n1", "nurse-consultant"))):
    """The botilbud's staff make the initial assignment; the first member records the rest."""
    first_sub = f"{botilbud}-{members[0][0]}"
    await known_staff(svc, citizen_id, *(name for name, _ in members), botilbud=botilbud)
    for name, role in members:
        headers = staff(svc, members[0][0], botilbud)
        response = await svc.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=headers,
                                         json={"staff_id": f"{botilbud}-{name}", "role": role,
                                               "basis": "initial-assignment"})
        assert response.status_code == 201, response.text
    return first_sub


async def known_staff(svc: RunningService, citizen_id: uuid.UUID, *names: str, botilbud: str = "orion",
                      role: str = "coordinator") -> None:
    """Plans knows a staff member once they have signed in (domain/staff.py): each reads the network."""
    for name in names:
        response = await svc.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=staff(svc, name, botilbud, role))
        # 404 for staff outside the citizen's reach: the same answer as for a citizen who does not exist
        assert response.status_code in (200, 403, 404), response.text


def staff(svc: RunningService, name: str, botilbud: str = "orion", role: str = "coordinator") -> dict[str, str]:
    return svc.auth(role, sub=f"{botilbud}-{name}", botilbud=botilbud)


def citizen(svc: RunningService, citizen_id: uuid.UUID) -> dict[str, str]:
    return svc.auth("citizen", sub=str(citizen_id))


async def outbox_types(svc: RunningService, citizen_id: uuid.UUID) -> list[str]:
    async with svc.ctx.sessions() as session:
        rows = await session.scalars(select(OutboxMessage.event_type).where(OutboxMessage.subject == str(citizen_id))
                                     .order_by(OutboxMessage.id))
        return list(rows)


async def audit_actions(svc: RunningService, citizen_id: uuid.UUID) -> list[tuple[str, str]]:
    async with svc.ctx.sessions() as session:
        rows = await session.execute(select(AuditEntry.actor_sub, AuditEntry.action)
                                     .where(AuditEntry.citizen_id == citizen_id).order_by(AuditEntry.id))
        return [(r.actor_sub, r.action) for r in rows]


async def count_rows(svc: RunningService, model, *where) -> int:
    async with svc.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def outbox_drained(svc: RunningService) -> None:
    async def nothing_unpublished():
        return await count_rows(svc, OutboxMessage, OutboxMessage.published_at.is_(None)) == 0

    await eventually(nothing_unpublished, message="outbox drained")
