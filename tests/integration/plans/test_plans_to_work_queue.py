"""End to end across two services on real PostgreSQL and Tansu: a place is granted → plans opens the
plan → a goal with a 14-day cadence comes due → notifications puts a follow-up task in the
responsible coordinator's work queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.plans.services import local_today
from tests.integration.plans.conftest import form_network, open_plan, staff
from tests.support import eventually, run_service

pytestmark = pytest.mark.integration


async def test_a_due_goal_follow_up_becomes_a_task_for_the_coordinator(plans, pg, kafka, tmp_path_factory):
    async with run_service("notifications", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("notif")) as notif:
        citizen_id = await open_plan(kafka, plans, botilbud="tangkaer")
        coordinator = await form_network(plans, citizen_id, botilbud="tangkaer")
        goal = await plans.client.post(
            f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1", botilbud="tangkaer"),
            json={"text": "Jeg vil i gang med at svømme", "written_with_citizen": True, "cadence": {"days": 14},
                  "follow_up_from": (local_today() - timedelta(days=14)).isoformat()})
        assert goal.status_code == 201, goal.text
        headers = notif.auth("coordinator", sub=coordinator, botilbud="tangkaer")

        async def follow_up_task():
            queue = await notif.client.get("/api/v1/work-queue", headers=headers)
            assert queue.status_code == 200, queue.text
            tasks = [t for t in queue.json() if t["citizen_id"] == str(citizen_id) and t["kind"] == "plan-follow-up"]
            return tasks

        [task] = await eventually(follow_up_task, timeout=30, message="follow-up task in the coordinator's queue")
        assert task["owner"] == coordinator
