"""The citizen calls a network meeting (issue 13): stored with its deadline — 5 working days, Danish
holidays counted — and its event in the same transaction; one open request at a time; the network's
staff set its time and close it; the citizen sees status and time; what is not theirs is refused."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.plans.models import NetworkMeetingRow
from tests.integration.plans.conftest import audit_actions, citizen, count_rows, form_network, open_plan, outbox_types, staff
from tovholder import clock

pytestmark = pytest.mark.integration
REQUESTED = "tovholder.plans.network-meeting-requested.v1"


async def test_the_citizen_calls_a_network_meeting_and_sees_its_time_once_the_coordinator_sets_it(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    coordinator = await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/network/meetings"
    me = citizen(plans, citizen_id)

    called = await plans.client.post(base, headers=me, json={"reason": "  Jeg vil tale om at flytte  ",
                                                              "wanted": ["Min mor", "Min koordinator", "Min mor"]})
    assert called.status_code == 201, called.text
    meeting = called.json()
    assert (meeting["status"], meeting["reason"], meeting["wanted"]) == ("requested", "Jeg vil tale om at flytte",
                                                                       ["Min mor", "Min koordinator"])
    assert meeting["assignee"] == coordinator and meeting["late"] is False
    requested_on = clock.local_date(datetime.fromisoformat(meeting["requested_at"]))
    assert meeting["due_on"] == clock.add_working_days(requested_on, 5).isoformat()
    assert clock.working_days_between(requested_on, clock.add_working_days(requested_on, 5)) == 5
    # The event went into the outbox with the row (one transaction); it carries no words of the citizen.
    assert REQUESTED in await outbox_types(plans, citizen_id)

    again = await plans.client.post(base, headers=me, json={"reason": "Og en til"})
    assert again.status_code == 422 and "allerede" in again.json()["detail"]
    assert await count_rows(plans, NetworkMeetingRow, NetworkMeetingRow.citizen_id == citizen_id) == 1

    # The network's staff set the time; the citizen may not, and may not close it either.
    when = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    mid = meeting["meeting_id"]
    refused = await plans.client.post(f"{base}/{mid}/schedule", headers=me, json={"meeting_at": when.isoformat()})
    assert refused.status_code == 403
    set_time = await plans.client.post(f"{base}/{mid}/schedule", headers=staff(plans, "k1"),
                                       json={"meeting_at": when.isoformat(), "place": "Fælleshuset"})
    assert set_time.status_code == 200, set_time.text
    seen = (await plans.client.get(base, headers=me)).json()["meetings"]
    assert [(m["status"], m["place"]) for m in seen] == [("scheduled", "Fælleshuset")]
    assert datetime.fromisoformat(seen[0]["meeting_at"]) == when

    cancel_without_reason = await plans.client.post(f"{base}/{mid}/close", headers=staff(plans, "k1"),
                                                    json={"outcome": "cancelled"})
    assert cancel_without_reason.status_code == 422
    held = await plans.client.post(f"{base}/{mid}/close", headers=staff(plans, "k1"), json={"outcome": "held"})
    assert held.status_code == 200 and held.json()["status"] == "held"
    assert (await plans.client.post(f"{base}/{mid}/close", headers=staff(plans, "k1"),
                                    json={"outcome": "held"})).status_code == 422
    # Closed: the citizen may call the next one.
    assert (await plans.client.post(base, headers=me, json={"reason": "Et nyt møde"})).status_code == 201
    assert [t for t in await outbox_types(plans, citizen_id) if "network-meeting" in t] == [
        REQUESTED, "tovholder.plans.network-meeting-scheduled.v1", "tovholder.plans.network-meeting-closed.v1", REQUESTED]
    actions = [a for _, a in await audit_actions(plans, citizen_id) if a.startswith("network.meeting.")]
    assert actions == ["network.meeting.request", "network.meeting.schedule", "network.meeting.close",
                       "network.meeting.request"]


async def test_only_the_citizen_calls_and_bad_input_is_a_clear_4xx(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/network/meetings"
    by_staff = await plans.client.post(base, headers=staff(plans, "k1"), json={"reason": "På borgerens vegne"})
    assert by_staff.status_code == 403
    other = await plans.client.post(base, headers=plans.auth("citizen", sub=str(uuid.uuid4())),
                                    json={"reason": "Ikke min plan"})
    assert other.status_code == 404
    for body in ({"reason": "   "}, {"reason": "x", "wanted": ["a"] * 13}, {"reason": "a\x00b"}, {}):
        answer = await plans.client.post(base, headers=citizen(plans, citizen_id), json=body)
        assert answer.status_code == 422, (body, answer.text)
    unknown = await plans.client.post(f"{base}/{uuid.uuid4()}/close", headers=staff(plans, "k1"),
                                      json={"outcome": "held"})
    assert unknown.status_code == 404


async def test_the_citizen_shares_and_unshares_a_fit_session(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id, members=(("k1", "coordinator"), ("n1", "nurse-consultant"), ("k2", "makker")))
    fit = f"/api/v1/citizens/{citizen_id}/fit"
    recorded = await plans.client.post(fit, headers=staff(plans, "k1"), json={
        "held_at": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(), "ors": 22, "srs": 37,
        "shared_by_citizen": False})
    assert recorded.status_code == 201, recorded.text
    session_id = recorded.json()["session_id"]

    async def seen_by_makker():
        return (await plans.client.get(fit, headers=staff(plans, "k2"))).json()["sessions"][0]["ors"]

    assert await seen_by_makker() is None
    assert (await plans.client.put(f"{fit}/{session_id}/sharing", headers=staff(plans, "k1"),
                                   json={"shared_by_citizen": True})).status_code == 403
    shared = await plans.client.put(f"{fit}/{session_id}/sharing", headers=citizen(plans, citizen_id),
                                    json={"shared_by_citizen": True})
    assert shared.status_code == 200 and shared.json()["shared_by_citizen"] is True
    assert await seen_by_makker() == 22
    await plans.client.put(f"{fit}/{session_id}/sharing", headers=citizen(plans, citizen_id), json={"shared_by_citizen": False})
    assert await seen_by_makker() is None
    assert ("fit.unshare" in [a for _, a in await audit_actions(plans, citizen_id)])
