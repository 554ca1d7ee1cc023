"""Notifications and FHIR R4: the work queue read as Task (the work queue's own access rules, SMART
scopes, paging, OperationOutcome refusals, every answer validated with fhir.resources), and a
subscription with payload "fhir" that receives the changed CarePlan only while the citizen's consent
covers the partner's organisation for the plan."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from fhir.resources.R4B.careplan import CarePlan
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from contracts.plans import ConsentGivenV1, ConsentRevokedV1, FollowUpDueV1, PlanVersionCreatedV1
from tests.fhir_support import fhir_get, links, refusal_text, search
from tests.support import eventually, publish_event
from tovholder.db import AuditEntry

from .receiver import Receiver

pytestmark = pytest.mark.integration
ORG = "SOR:4567890"
SECRET = "0123456789abcdef0123456789abcdef-partner"
PLAN_VERSION = "tovholder.plans.plan-version-created.v1"


def partner(svc, org=ORG, **claims):
    return svc.auth("partner", f"partner-{org}", org=org, **claims)


def follow_up(citizen, assignee: str | None = None) -> FollowUpDueV1:
    return FollowUpDueV1(citizen_id=citizen, plan_id=uuid.uuid4(), subject="goal", subject_id=uuid.uuid4(),
                         due_on=date.today() + timedelta(days=2), late_after=date.today() + timedelta(days=5),
                         cadence="14 dage", assignee=assignee, botilbud_id="orion")


async def test_the_work_queue_reads_as_tasks_on_the_work_queues_rules(notifications, kafka):
    citizen = uuid.uuid4()
    for n in range(3):
        await publish_event(kafka, follow_up(citizen, assignee="orion-k1" if n == 0 else None))
    coordinator = notifications.auth("coordinator", "orion-k1", botilbud="orion", scope="user/*.read")

    async def three():
        body = await search(notifications.client, "Task", coordinator, patient=f"Patient/{citizen}")
        return body if body["total"] == 3 else None

    everything = await eventually(three, timeout=60, message="three tasks")
    task = everything["entry"][0]["resource"]
    assert task["for"]["reference"] == f"Patient/{citizen}" and task["intent"] == "order"
    assert task["status"] in ("requested", "accepted") and task["priority"] in ("routine", "urgent", "asap")
    assert task["restriction"]["period"]["end"] and task["code"]["text"]
    assert (await fhir_get(notifications.client, f"/fhir/r4/Task/{task['id']}", coordinator))["id"] == task["id"]

    first = await search(notifications.client, "Task", coordinator, patient=str(citizen), _count=2)
    assert len(first["entry"]) == 2 and "next" in links(first)
    second = (await notifications.client.get(links(first)["next"], headers=coordinator)).json()
    assert len(second["entry"]) == 1 and "next" not in links(second)
    assert len({e["resource"]["id"] for e in first["entry"] + second["entry"]}) == 3

    mine = await search(notifications.client, "Task", coordinator, owner="Practitioner/orion-k1")
    assert {e["resource"]["owner"]["identifier"]["value"] for e in mine["entry"]} == {"orion-k1"} and mine["total"] >= 1
    pooled = [e["resource"] for e in everything["entry"] if "owner" not in e["resource"]]
    assert pooled and all(t["performerType"][0]["coding"][0]["code"] for t in pooled)
    assert (await search(notifications.client, "Task", coordinator, patient=str(citizen), status="completed"))["total"] == 0
    assert "status must be one of" in refusal_text(
        await search(notifications.client, "Task", coordinator, expected=400, patient=str(citizen), status="done"))

    # Staff elsewhere see nothing of it; citizens and partners never read the work queue; scopes narrow.
    elsewhere = notifications.auth("coordinator", "hygge-k1", botilbud="hygge")
    assert (await search(notifications.client, "Task", elsewhere, patient=str(citizen)))["total"] == 0
    await fhir_get(notifications.client, f"/fhir/r4/Task/{task['id']}", elsewhere, expected=404)
    await search(notifications.client, "Task", notifications.auth("citizen", str(citizen)), expected=403)
    await search(notifications.client, "Task", partner(notifications, scope="system/*.read"), expected=403,
                 patient=str(citizen))
    narrow = notifications.auth("coordinator", "orion-k1", botilbud="orion", scope="user/CarePlan.read")
    assert "user/Task.read" in refusal_text(await search(notifications.client, "Task", narrow, expected=403,
                                                         patient=str(citizen)))
    async with notifications.ctx.sessions() as s:
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.citizen_id == citizen))).scalars().all()
    assert {"task.list", "task.read", "task.refused"} <= set(actions)


def plan_version(citizen, plan_id, version: int) -> PlanVersionCreatedV1:
    return PlanVersionCreatedV1(citizen_id=citizen, plan_id=plan_id, version=version, change="goal-added",
                                goal_ids=[uuid.uuid4()], created_at=datetime.now(timezone.utc), created_by="orion-k1",
                                written_with_citizen=True)


async def deliveries(svc, subscription_id):
    r = await svc.client.get(f"/integration/v1/subscriptions/{subscription_id}/deliveries", headers=partner(svc))
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def settled(svc, subscription_id, event_id, status):
    async def check():
        return next((d for d in await deliveries(svc, subscription_id)
                     if d["event_id"] == event_id and d["status"] == status), None)
    return check


async def test_a_fhir_subscription_receives_the_changed_careplan_only_while_consent_covers_it(notifications, kafka):
    citizen, plan_id, consent_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with Receiver() as receiver:
        r = await notifications.client.post("/integration/v1/subscriptions", headers=partner(notifications), json={
            "message_id": str(uuid.uuid4()), "callback_url": receiver.url, "event_types": [PLAN_VERSION],
            "secret": SECRET, "payload": "fhir"})
        assert r.status_code == 202, r.text
        sub = r.json()["subscription_id"]
        before = await publish_event(kafka, plan_version(citizen, plan_id, 2))
        await eventually(settled(notifications, sub, before, "withheld"), message="withheld without consent", timeout=60)
        given = ConsentGivenV1(citizen_id=citizen, consent_id=consent_id, recipient_kind="organisation", recipient_id=ORG,
                               category="plan", given_at=datetime.now(timezone.utc) - timedelta(seconds=1),
                               recorded_by="borger")
        await publish_event(kafka, given)
        changed = plan_version(citizen, plan_id, 3)
        covered = await publish_event(kafka, changed)
        await eventually(settled(notifications, sub, covered, "delivered"), message="delivered under consent", timeout=60)
        await publish_event(kafka, ConsentRevokedV1(
            citizen_id=citizen, consent_id=consent_id, recipient_kind="organisation", recipient_id=ORG, category="plan",
            given_at=given.given_at, revoked_at=datetime.now(timezone.utc), recorded_by="borger"))
        after = await publish_event(kafka, plan_version(citizen, plan_id, 4))
        await eventually(settled(notifications, sub, after, "withheld"), message="withheld after withdrawal", timeout=60)
        requests = list(receiver.requests)
    (request,) = requests  # only the version the consent covered
    assert request.headers["Content-Type"].startswith("application/fhir+json")
    assert Webhook(SECRET.encode()).verify(request.body, request.headers) is not None
    care = CarePlan.model_validate_json(request.body)
    assert care.id == str(plan_id) and care.meta.versionId == "3" and care.status == "active"
    assert care.subject.reference == f"Patient/{citizen}"
    assert care.subject.identifier.value == notifications.ctx.cpr_vault().citizen_reference(ORG, citizen)
    assert [e.valueReference.reference for e in care.extension] == [f"Goal/{changed.goal_ids[0]}"]
    withheld = next(d for d in await deliveries(notifications, sub) if d["event_id"] == after)
    assert "consent" in withheld["reason"]
