"""Every JSON route of notifications declares its response model and takes a typed body; a bad body
gets a clear 4xx (Danish for staff, a receipt for partners), never a 500."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute

from tests.support import eventually, publish_event

from .test_hospital_notice_tasks import notice, queue

pytestmark = pytest.mark.integration


def test_every_json_route_declares_a_response_model():
    from services.notifications.api import routers

    json_routes = [r for router in routers for r in router.routes
                   if isinstance(r, APIRoute) and r.path.startswith(("/api/", "/integration/"))]
    assert len(json_routes) >= 16
    missing = [f"{sorted(r.methods)} {r.path}" for r in json_routes if r.response_model is None]
    assert missing == []


async def test_bad_bodies_on_task_actions_get_422_in_danish(notifications, kafka):
    citizen = uuid.uuid4()
    await publish_event(kafka, notice(citizen))
    (task,) = await eventually(lambda: _mine(notifications, citizen), message="task")
    headers = notifications.auth("nurse-consultant", "nurse-a", botilbud="orion")
    assert (await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=headers)).status_code == 200
    for path, body, says in [
        ("complete", {"note": 5}, "note skal være tekst"),
        ("complete", {"note": "x" * 1001}, "højst 1000 tegn"),
        ("complete", {"note": "besøgt\x1b[2J"}, "styretegn"),
        ("complete", {"notat": "ukendt felt"}, "notat"),
        ("business-status", {}, "business_status"),
        ("business-status", {"business_status": "venter\x07"}, "styretegn"),
        ("business-status", {"business_status": "x" * 101}, "højst 100 tegn"),
        ("business-status", [1, 2], "body"),
    ]:
        response = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/{path}", headers=headers, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert says in response.json()["detail"], (path, body, response.json())
    nul = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=headers,
                                          json={"note": "besøgt\x00"})
    assert nul.status_code == 422  # PostgreSQL cannot store NUL: refused, never a 500
    ok = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/business-status", headers=headers,
                                         json={"business_status": "venter"})
    assert ok.status_code == 200 and ok.json()["business_status"] == "venter"
    done = await notifications.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "done"  # the body stays optional


async def test_bad_resend_bodies_get_a_422_receipt(notifications):
    partner = notifications.auth("partner", "partner-1", org="SOR:4567890")
    created = await notifications.client.post("/integration/v1/subscriptions", headers=partner, json={
        "callback_url": "https://127.0.0.1:9/hook", "event_types": ["tovholder.plans.follow-up-due.v1"],
        "secret": "0123456789abcdef0123456789abcdef-partner"})
    assert created.status_code == 202, created.text
    sub = created.json()["subscription_id"]
    for body in ({"delivery_ids": ["not-a-uuid"]}, {"event_ids": "e1"}, {"delivery_ids": [], "other": 1},
                 {"event_ids": ["a\x00b"]}):
        response = await notifications.client.post(f"/integration/v1/subscriptions/{sub}/resend", headers=partner, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["status"] == "fatal-error" and response.json()["reason"], body
    fine = await notifications.client.post(f"/integration/v1/subscriptions/{sub}/resend", headers=partner,
                                           json={"event_ids": [str(uuid.uuid4())]})
    assert fine.status_code == 202 and fine.json() == {"subscription_id": sub, "queued": [], "already_queued": []}


async def _mine(svc, citizen):
    return [t for t in await queue(svc, "nurse-a") if t["citizen_id"] == str(citizen)]


async def test_hostile_subscription_bodies_get_a_422_receipt(notifications):
    """Read raw like every partner endpoint: deep nesting and NUL are refused with a receipt."""
    partner = notifications.auth("partner", "partner-1", org="SOR:4567890")
    deep = "[" * 10_000 + "]" * 10_000
    nul = '{"callback_url": "https://partner.example/hook\\u0000", "event_types": [], "secret": "' + "s" * 40 + '"}'
    for body in (deep, nul, "{not json"):
        response = await notifications.client.post("/integration/v1/subscriptions", headers={
            **partner, "content-type": "application/json"}, content=body)
        assert response.status_code == 422, (body[:40], response.text)
        receipt = response.json()
        assert receipt["status"] == "fatal-error" and receipt["reason"], receipt
