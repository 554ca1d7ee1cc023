"""The citizen's network through the API: members are staff of the citizen's botilbud that plans
knows, or named external partners; the last coordinator cannot be removed (issue 15's reproductions)."""

from __future__ import annotations

import pytest

from services.plans.models import NetworkMemberRow
from tests.integration.plans.conftest import (
    citizen, count_rows, form_network, known_staff, open_plan, outbox_types, staff,
)

pytestmark = pytest.mark.integration


def members_url(citizen_id) -> str:
    return f"/api/v1/citizens/{citizen_id}/network/members"


async def test_any_string_or_staff_of_another_botilbud_is_refused_as_a_member(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    await known_staff(plans, citizen_id, "k1", botilbud="tangkaer")  # tangkaer-k1 signs in at Tangkær
    before = await count_rows(plans, NetworkMemberRow, NetworkMemberRow.citizen_id == citizen_id)
    for staff_id, reason in (("whoever-typed-this", "ikke en medarbejder, systemet kender"),
                             ("tangkaer-k1", "andet botilbud (tangkaer)")):
        response = await plans.client.post(members_url(citizen_id), headers=citizen(plans, citizen_id),
                                           json={"staff_id": staff_id, "role": "makker"})
        assert response.status_code == 422 and reason in response.json()["detail"], response.text
    assert await count_rows(plans, NetworkMemberRow, NetworkMemberRow.citizen_id == citizen_id) == before
    # The citizen chooses among the botilbud's staff plans knows, outside the network.
    await known_staff(plans, citizen_id, "m2")
    candidates = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network/candidates",
                                         headers=citizen(plans, citizen_id))).json()
    ids = {s["staff_id"] for s in candidates["staff"]}
    assert candidates["botilbud_id"] == "orion" and "orion-m2" in ids
    assert not ids & {"orion-k1", "orion-n1", "tangkaer-k1"}
    added = await plans.client.post(members_url(citizen_id), headers=citizen(plans, citizen_id),
                                    json={"staff_id": "orion-m2", "role": "makker"})
    assert added.status_code == 201, added.text


async def test_a_coordinator_removing_themselves_is_refused_and_keeps_coordinating(plans, kafka):
    """Regression (issue 15): the coordinator removed themselves and lost access to the plan."""
    citizen_id = await open_plan(kafka, plans)
    coordinator = await form_network(plans, citizen_id, members=(("k1", "coordinator"), ("n1", "nurse-consultant"),
                                                                 ("m1", "makker")))
    assert coordinator == "orion-k1"
    themselves = await plans.client.delete(f"{members_url(citizen_id)}/orion-k1", headers=staff(plans, "k1"))
    assert themselves.status_code == 422 and "koordinator kan ikke fjernes" in themselves.json()["detail"]
    still = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=staff(plans, "k1"))
    assert still.status_code == 200
    blind = await plans.client.put(f"{members_url(citizen_id)}/orion-m1/role", headers=staff(plans, "k1"),
                                   json={"role": "coordinator"})
    assert blind.status_code == 422 and "previous_holder_role" in blind.json()["detail"]
    # Handing over first: both seats change in one transaction, then the former coordinator may leave.
    handed = await plans.client.put(f"{members_url(citizen_id)}/orion-m1/role", headers=staff(plans, "k1"),
                                    json={"role": "coordinator", "previous_holder_role": "makker"})
    assert handed.status_code == 200, handed.text
    roles = {m["staff_id"]: m["role"] for m in handed.json()["members"]}
    assert roles == {"orion-k1": "makker", "orion-n1": "nurse-consultant", "orion-m1": "coordinator"}
    assert handed.json()["coordinator"] == "orion-m1"
    left = await plans.client.delete(f"{members_url(citizen_id)}/orion-k1", headers=staff(plans, "k1"))
    assert left.status_code == 200 and left.json()["coordinator"] == "orion-m1"
    types = await outbox_types(plans, citizen_id)
    assert types.count("tovholder.plans.network-member-removed.v1") == 2 + 1
    assert types.count("tovholder.plans.network-member-added.v1") == 3 + 2


async def test_a_named_external_partner_with_an_organisation_joins_and_leaves(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    nameless = await plans.client.post(members_url(citizen_id), headers=citizen(plans, citizen_id),
                                       json={"external": {"name": "Lise Holm", "organisation": " "}, "role": "other"})
    assert nameless.status_code == 422 and "organisation" in nameless.json()["detail"]
    both = await plans.client.post(members_url(citizen_id), headers=citizen(plans, citizen_id),
                                   json={"staff_id": "orion-k1", "external": {"name": "L", "organisation": "O"},
                                         "role": "other"})
    assert both.status_code == 422
    added = await plans.client.post(members_url(citizen_id), headers=citizen(plans, citizen_id), json={
        "external": {"name": "Lise Holm", "organisation": "Lægehuset Nørrebro"}, "role": "other"})
    assert added.status_code == 201, added.text
    external = next(m for m in added.json()["members"] if m["kind"] == "external")
    assert (external["name"], external["organisation"]) == ("Lise Holm", "Lægehuset Nørrebro")
    assert external["staff_id"].startswith("ekstern:") and added.json()["size"] == 2  # staff only
    read = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=staff(plans, "k1"))).json()
    assert [m["kind"] for m in read["members"]] == ["staff", "staff", "external"]
    removed = await plans.client.delete(f"{members_url(citizen_id)}/{external['staff_id']}",
                                        headers=citizen(plans, citizen_id))
    assert removed.status_code == 200 and [m["kind"] for m in removed.json()["members"]] == ["staff", "staff"]
