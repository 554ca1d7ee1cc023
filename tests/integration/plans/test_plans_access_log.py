"""Min log in the plans service (the kit's router, the same in all four): the citizen sees who read
their plan, by name and role; another citizen and staff are refused, and the refusal is logged."""

from __future__ import annotations

import uuid

import pytest

from datetime import timedelta

from sqlalchemy import select

from tests.integration.plans.conftest import audit_actions, citizen, form_network, open_plan
from tovholder import clock
from tovholder.access_log import forget_expired_entries
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration


async def test_the_citizen_finds_the_coordinators_read_of_their_plan(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    coordinator = plans.auth("coordinator", sub="orion-k1", botilbud="orion", name="Karen Koordinator")
    assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=coordinator)).status_code == 200
    assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=citizen(plans, citizen_id))).status_code == 200

    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=citizen(plans, citizen_id))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["service"] == "plans" and page["citizen_id"] == str(citizen_id)
    newest_first = [e["at"] for e in page["entries"]]
    assert newest_first == sorted(newest_first, reverse=True)
    reads = [e for e in page["entries"] if e["action"] == "plan.read"]
    mine, theirs = [e for e in reads if e["mine"]], [e for e in reads if not e["mine"]]
    assert len(mine) == 1 and mine[0]["actor_role"] == "dig selv"
    assert len(theirs) == 1
    assert isinstance(theirs[0]["entry_id"], int)
    assert theirs[0] | {"at": None, "entry_id": None} == {
        "at": None, "entry_id": None, "service": "plans", "actor_name": "Karen Koordinator", "actor_role": "koordinator",
        "actor_organisation": None, "mine": False, "kind": "læst", "category": "Borgerens plan",
        "purpose": "Opslag i arbejdet med dit forløb", "action": "plan.read"}
    assert all(e["category"] != "Andet" for e in page["entries"])


async def test_pages_follow_the_cursor_and_never_repeat(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    me = citizen(plans, citizen_id)
    for _ in range(5):
        await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=me)
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=me, params=params)).json()
        seen += [f"{e['at']} {e['action']}" for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) >= 7  # the open, two member additions, five reads (and the log reads themselves)
    assert len(seen) == len(set(seen))
    bad = await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=me, params={"cursor": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-cursor"


@pytest.mark.parametrize("who", ["other-citizen", "coordinator", "nurse-consultant", "visitation", "partner"])
async def test_nobody_else_reads_the_log_and_the_refusal_is_in_it(plans, kafka, who):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    headers = {
        "other-citizen": plans.auth("citizen", sub=str(uuid.uuid4())),
        "coordinator": plans.auth("coordinator", sub="orion-k1", botilbud="orion"),  # even the citizen's own
        "nurse-consultant": plans.auth("nurse-consultant", sub="orion-n1", botilbud="orion"),
        "visitation": plans.auth("visitation", sub="visitation-1"),
        "partner": plans.auth("partner", sub="gp", org="SOR:1"),
    }[who]
    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert any(action == "access-log.refused" for _, action in await audit_actions(plans, citizen_id))
    own = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=citizen(plans, citizen_id))).json()
    refused = [e for e in own["entries"] if e["action"] == "access-log.refused"]
    assert refused and refused[0]["purpose"] == "Adgang nægtet" and refused[0]["category"] == "Min log"


async def test_an_administrator_reads_the_log(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=plans.auth("admin", sub="admin-1"))
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["entries"]] == ["plan.open"]


async def test_entries_older_than_the_retention_period_are_forgotten(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    async with plans.ctx.uow() as uow:
        uow.session.add(AuditEntry(actor_sub="orion-k1", actor_role="coordinator", action="plan.read",
                                   citizen_id=citizen_id, at=clock.now() - timedelta(days=6 * 365)))
        await uow.commit()
    async with plans.ctx.uow() as uow:
        await forget_expired_entries(uow, older_than=clock.now() - timedelta(days=plans.ctx.settings.audit_retention_days))
    async with plans.ctx.sessions() as session:
        left = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen_id)))
    assert left == ["plan.open"]
