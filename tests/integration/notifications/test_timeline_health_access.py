"""The citizen's timeline in notifications is a copy of other services' events; its health lines (the
hospital department, treatment orders, coercion) follow the health service's own rule. Admin,
visitation and a coordinator outside the citizen's network — whom health refuses — do not see them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from contracts.health import CoercionConsideredV1, HospitalNoticeRegisteredV1, TreatmentOrderRecordedV1
from contracts.plans import FollowUpDueV1, NetworkMemberAddedV1
from tests.support import eventually, publish_event

pytestmark = pytest.mark.integration
BOTILBUD = "orion"
DEPARTMENT = "Afsnit P7 (lukket)"


async def timeline(svc, citizen, role, sub, botilbud=None):
    response = await svc.client.get(f"/api/v1/citizens/{citizen}/timeline", headers=svc.auth(role, sub, botilbud=botilbud))
    assert response.status_code == 200, response.text
    return response.json()


async def test_health_lines_and_tasks_only_for_those_health_lets_read_them(notifications, kafka):
    citizen, now = uuid.uuid4(), datetime.now(timezone.utc)
    await publish_event(kafka, HospitalNoticeRegisteredV1(
        citizen_id=citizen, notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="STIN", kind="admission",
        hospital_episode_id="EPJ-9", department=DEPARTMENT, sender_org="SOR:1234567", occurred_at=now,
        legal_basis="retssikkerhedsloven § 12 c", tovholder_sub="nurse-a", botilbud_id=BOTILBUD))
    await publish_event(kafka, TreatmentOrderRecordedV1(citizen_id=citizen, treatment_order_id=uuid.uuid4(),
                                                        judgment_date=date.today(), valid_until=None, conditions_count=2))
    await publish_event(kafka, CoercionConsideredV1(citizen_id=citizen, entry_id=uuid.uuid4(), measure="forced-medication",
                                                    decision="not-used", considered_at=now, decided_by_sub="nurse-a",
                                                    tovholder_sub="nurse-a", botilbud_id=BOTILBUD))
    await publish_event(kafka, NetworkMemberAddedV1(citizen_id=citizen, staff_id="koord-net", role="coordinator",
                                                    added_at=now, basis="citizen-choice", botilbud_id=BOTILBUD))
    await publish_event(kafka, FollowUpDueV1(citizen_id=citizen, plan_id=uuid.uuid4(), subject="plan",
                                             subject_id=uuid.uuid4(), due_on=date.today(),
                                             late_after=date.today() + timedelta(days=3), cadence="14 dage",
                                             botilbud_id=BOTILBUD))

    async def all_arrived():
        response = await notifications.client.get(f"/api/v1/citizens/{citizen}/timeline",
                                                  headers=notifications.auth("nurse-consultant", "nurse-a", botilbud=BOTILBUD))
        return response.json() if response.status_code == 200 and len(response.json()["timeline"]) >= 5 else None

    tovholder_view = await eventually(all_arrived, message="five timeline lines")
    health_lines = [e for e in tovholder_view["timeline"] if e["service"] == "health"]
    assert len(health_lines) == 3 and any(DEPARTMENT in e["title"] for e in health_lines)
    assert any(DEPARTMENT in t["title"] for t in tovholder_view["tasks"])

    for role, sub, botilbud in (("nurse-consultant", "nurse-b", BOTILBUD),  # the botilbud's nurses
                                ("coordinator", "koord-net", BOTILBUD)):  # in the citizen's network
        seen = await timeline(notifications, citizen, role, sub, botilbud)
        assert len([e for e in seen["timeline"] if e["service"] == "health"]) == 3, role

    for role, sub, botilbud in (("admin", "admin-1", None), ("visitation", "visit-1", None),
                                ("coordinator", "koord-1", BOTILBUD)):  # at the botilbud, not in the network
        seen = await timeline(notifications, citizen, role, sub, botilbud)
        assert [e["service"] for e in seen["timeline"] if e["service"] == "health"] == [], role
        assert {e["service"] for e in seen["timeline"]} == {"plans"}, role  # the rest of the picture stays
        assert DEPARTMENT not in repr(seen), role
        assert not [t for t in seen["tasks"] if t["source_event_type"].startswith("tovholder.health.")], role

