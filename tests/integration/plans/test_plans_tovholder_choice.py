"""The citizen's choice of tovholder (published by health) moves the network's nurse-consultant seat,
through real Kafka, idempotently."""

from __future__ import annotations

import pytest

from contracts.health import TovholderChosenV1
from tests.integration.plans.conftest import audit_actions, form_network, open_plan, outbox_types, staff
from tests.support import eventually, publish_event

pytestmark = pytest.mark.integration


async def network(plans, citizen_id):
    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=staff(plans, "k1"))
    return {m["staff_id"]: m["role"] for m in response.json()["members"]}


async def test_the_chosen_tovholder_takes_the_nurse_consultant_seat(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id, members=(("k1", "coordinator"), ("n1", "nurse-consultant"),
                                                   ("m1", "makker")))
    event_id = await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="orion-n2",
                                                            botilbud_id="orion",
                                                            previous_nurse_consultant_sub="orion-n1"))

    async def moved():
        current = await network(plans, citizen_id)
        return current if current.get("orion-n2") == "nurse-consultant" else None

    assert await eventually(moved) == {"orion-k1": "coordinator", "orion-m1": "makker",
                                       "orion-n2": "nurse-consultant"}
    # The same event again (at-least-once delivery) changes nothing.
    await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="orion-n2",
                                                 botilbud_id="orion"), event_id=event_id)
    # A member already in the network moves into the seat.
    await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="orion-m1",
                                                 botilbud_id="orion"))

    async def reseated():
        current = await network(plans, citizen_id)
        return current if current.get("orion-m1") == "nurse-consultant" else None

    assert await eventually(reseated) == {"orion-k1": "coordinator", "orion-m1": "nurse-consultant"}
    types = await outbox_types(plans, citizen_id)
    assert types.count("tovholder.plans.network-member-added.v1") == 3 + 2
    assert types.count("tovholder.plans.network-member-removed.v1") == 1 + 2


async def test_a_full_network_does_not_take_the_tovholder_and_says_why_in_the_audit(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id, members=tuple((f"s{i}", "other") for i in range(1, 15)))
    await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="orion-n9",
                                                 botilbud_id="orion"))
    async def refused():
        return ("system", "network.tovholder.not-added") in await audit_actions(plans, citizen_id)

    await eventually(refused)
    current = await network(plans, citizen_id)
    assert "orion-n9" not in current and len(current) == 14
