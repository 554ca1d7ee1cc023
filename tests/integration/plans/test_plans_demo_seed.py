"""The demo data loads into a real plans database, twice without a second effect, and a demo
tovholder can work on their citizen's plan."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.plans import demo
from services.plans.models import NetworkMemberRow, Plan, StaffMemberRow
from tovholder.demo import demo_data

pytestmark = pytest.mark.integration


async def test_demo_seed_is_idempotent_and_usable(plans):
    data = demo_data()
    for _ in range(2):
        async with plans.ctx.uow() as uow:
            await demo.seed(uow, data)
    async with plans.ctx.sessions() as session:
        seeded = await session.scalar(select(func.count()).select_from(Plan).where(
            Plan.citizen_id.in_([c["citizen_id"] for c in data["citizens"]])))
        assert seeded == len(data["citizens"])
        assert await session.scalar(select(func.count()).select_from(NetworkMemberRow)) >= len(data["citizens"])
        # The staff directory knows every demo coordinator and nurse consultant at their botilbud.
        home_staff = [s for s in data["staff"] if s["role"] in ("coordinator", "nurse-consultant")]
        known = dict((await session.execute(select(StaffMemberRow.staff_id, StaffMemberRow.botilbud_id).where(
            StaffMemberRow.source == "demo"))).all())
        assert all(known.get(s["sub"]) == s["botilbud"] for s in home_staff)
    first = data["citizens"][0]
    headers = plans.auth("nurse-consultant", sub=first["tovholder_sub"], botilbud=first["botilbud"])
    read = await plans.client.get(f"/api/v1/citizens/{first['citizen_id']}/plan", headers=headers)
    assert read.status_code == 200 and read.json()["version"] == 2 and len(read.json()["goals"]) == 1
    goal_id = read.json()["goals"][0]["goal_id"]
    changed = await plans.client.patch(f"/api/v1/citizens/{first['citizen_id']}/plan/goals/{goal_id}",
                                       headers=headers, json={"cadence": {"preset": "8-weeks"}})
    assert changed.status_code == 200, changed.text
