"""Placement granted → plan opened → goal with a 14-day cadence → follow-up due event, on real
PostgreSQL and Tansu; and the scheduler announcing each due date exactly once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts.topics import PLANS
from services.plans.models import FollowUpScheduleRow, PlanVersionRow
from services.plans.services import announce_due_follow_ups
from services.plans.services import local_today
from tests.integration.plans.conftest import form_network, open_plan, outbox_types, staff
from tests.support import json_body, read_topic

pytestmark = pytest.mark.integration


def of_citizen(records, citizen_id, event_type):
    return [json_body(r) for r in records
            if r["headers"].get("ce_type") == event_type and r["key"] == str(citizen_id).encode()]


async def test_granted_place_opens_plan_and_a_14_day_goal_comes_due_as_an_event(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    opened = await read_topic(kafka, PLANS.name, until=lambda r: r["key"] == str(citizen_id).encode()
                              and r["headers"].get("ce_type") == "tovholder.plans.plan-opened.v1")
    assert of_citizen(opened, citizen_id, "tovholder.plans.plan-opened.v1")[0]["botilbud_id"] == "orion"

    coordinator = await form_network(plans, citizen_id)
    fourteen_days_ago = local_today() - timedelta(days=14)
    response = await plans.client.post(
        f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1"),
        json={"text": "Jeg vil lave mad selv to gange om ugen", "written_with_citizen": True,
              "cadence": {"days": 14}, "follow_up_from": fourteen_days_ago.isoformat()})
    assert response.status_code == 201, response.text
    goal_id = response.json()["goal_id"]

    def due_for_goal(r):
        return (r["headers"].get("ce_type") == "tovholder.plans.follow-up-due.v1"
                and json_body(r)["subject_id"] == goal_id)

    records = await read_topic(kafka, PLANS.name, until=due_for_goal)
    due = [json_body(r) for r in records if due_for_goal(r)]
    assert len(due) == 1
    assert due[0]["due_on"] == local_today().isoformat()
    assert due[0]["subject"] == "goal" and due[0]["cadence"] == "14 days"
    assert due[0]["assignee"] == coordinator and due[0]["botilbud_id"] == "orion"
    assert due[0]["citizen_id"] == str(citizen_id)

    version_created = of_citizen(records, citizen_id, "tovholder.plans.plan-version-created.v1")
    assert version_created[-1]["change"] == "goal-added" and version_created[-1]["goal_ids"] == [goal_id]

    # The scheduler running again (or in another replica) does not announce the same date twice.
    async with plans.ctx.uow() as uow:
        assert await announce_due_follow_ups(uow, today=local_today()) == 0
    assert (await outbox_types(plans, citizen_id)).count("tovholder.plans.follow-up-due.v1") == 1


async def test_the_scheduler_announces_when_the_day_comes_and_a_recorded_follow_up_moves_it_on(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    goal = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1"),
                                   json={"text": "Ikke miste det jeg kan", "kind": "maintain",
                                         "written_with_citizen": True, "cadence": {"preset": "8-weeks"},
                                         "follow_up_owner": "orion-n1"})
    assert goal.status_code == 201, goal.text
    goal_id = uuid.UUID(goal.json()["goal_id"])
    assert "tovholder.plans.follow-up-due.v1" not in await outbox_types(plans, citizen_id)

    due_day = local_today() + timedelta(weeks=8)
    async with plans.ctx.uow() as uow:
        assert await announce_due_follow_ups(uow, today=due_day - timedelta(days=1)) == 0
    async with plans.ctx.uow() as uow:
        assert await announce_due_follow_ups(uow, today=due_day) >= 1
    async with plans.ctx.sessions() as session:
        row = await session.get(FollowUpScheduleRow, goal_id)
        assert row.announced_for == due_day and row.due_on == due_day

    # Recording the follow-up (held today) counts the next one from today.
    held = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/follow-ups", headers=staff(plans, "n1"),
                                   json={"subject": "goal", "goal_id": str(goal_id), "held_on": local_today().isoformat(),
                                         "outcome": "Går godt; fortsætter", "written_with_citizen": True})
    assert held.status_code == 201, held.text
    assert held.json()["next_due_on"] == (local_today() + timedelta(weeks=8)).isoformat()
    types = await outbox_types(plans, citizen_id)
    assert types.count("tovholder.plans.follow-up-due.v1") == 1
    assert "tovholder.plans.follow-up-recorded.v1" in types

    listing = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan/follow-ups", headers=staff(plans, "k1"))
    assert listing.status_code == 200
    assert listing.json()["held"][0]["outcome"] == "Går godt; fortsætter"
    assert listing.json()["schedules"][0]["assignee"] == "orion-n1"


async def test_a_closed_goal_stops_its_follow_ups(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    goal = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1"),
                                   json={"text": "Flytte i egen lejlighed", "written_with_citizen": True,
                                         "cadence": {"weeks": 2}})
    goal_id = goal.json()["goal_id"]
    achieved = await plans.client.patch(f"/api/v1/citizens/{citizen_id}/plan/goals/{goal_id}",
                                        headers=staff(plans, "k1"), json={"status": "achieved"})
    assert achieved.status_code == 200, achieved.text
    async with plans.ctx.uow() as uow:
        await announce_due_follow_ups(uow, today=local_today() + timedelta(days=30))
    assert "tovholder.plans.follow-up-due.v1" not in await outbox_types(plans, citizen_id)


async def test_plan_level_cadence_for_sel_104_is_yearly(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    response = await plans.client.put(f"/api/v1/citizens/{citizen_id}/plan/cadence", headers=staff(plans, "k1"),
                                      json={"cadence": {"preset": "sel-104"}})
    assert response.status_code == 200, response.text
    listing = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan/follow-ups",
                                      headers=staff(plans, "k1"))).json()
    [schedule] = listing["schedules"]
    assert schedule["subject"] == "plan"
    today = local_today()
    assert schedule["due_on"] == today.replace(year=today.year + 1).isoformat() or today.month == 2 and today.day == 29


async def test_versions_are_kept_and_compared(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/plan"
    goal_id = (await plans.client.post(f"{base}/goals", headers=staff(plans, "k1"),
                                       json={"text": "Sove bedre", "written_with_citizen": False})).json()["goal_id"]
    sub = await plans.client.post(f"{base}/goals/{goal_id}/sub-goals", headers=staff(plans, "k1"),
                                  json={"text": "I seng før midnat", "written_with_citizen": True,
                                        "smart": {"measurable": "5 af 7 aftener"}})
    assert sub.status_code == 201, sub.text
    changed = await plans.client.patch(f"{base}/goals/{goal_id}", headers=staff(plans, "k1"),
                                       json={"text": "Sove bedre om natten", "written_with_citizen": True})
    assert changed.status_code == 200 and changed.json()["version"] == 4

    versions = (await plans.client.get(f"{base}/versions", headers=staff(plans, "k1"))).json()
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert [v["change"] for v in versions] == ["goal-changed", "sub-goal-added", "goal-added", "plan-opened"]
    v2 = (await plans.client.get(f"{base}/versions/2", headers=staff(plans, "k1"))).json()
    assert v2["goals"][0]["text"] == "Sove bedre"  # nothing is overwritten

    diff = (await plans.client.get(f"{base}/diff", params={"from": 2, "to": 4}, headers=staff(plans, "k1"))).json()
    paths = {c["path"]: c for c in diff["changes"]}
    assert paths[f"goals[{goal_id}].text"]["before"] == "Sove bedre"
    assert paths[f"goals[{goal_id}].text"]["after"] == "Sove bedre om natten"
    assert any(p.startswith(f"goals[{goal_id}].sub_goals[") and c["kind"] == "added" for p, c in paths.items())
    missing = await plans.client.get(f"{base}/versions/99", headers=staff(plans, "k1"))
    assert missing.status_code == 404

    async with plans.ctx.sessions() as session:
        numbers = list(await session.scalars(select(PlanVersionRow.number).where(
            PlanVersionRow.content["citizen_id"].astext == str(citizen_id))))
    assert sorted(numbers) == [1, 2, 3, 4]
