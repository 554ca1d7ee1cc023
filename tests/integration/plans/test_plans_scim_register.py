"""The municipality's staff register feeds plans' staff directory over SCIM 2.0 (``/scim/v2``): the
identity provider provisions, searches, patches (Entra's ``"False"`` strings), deactivates and deletes
users; a deactivated member cannot join a network, and a later sign-in does not re-activate them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from services.plans.models import StaffMemberRow
from tests.integration.plans.conftest import citizen, form_network, known_staff, open_plan, staff
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
EXT = "urn:dk:tovholder:params:scim:schemas:extension:tovholder:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def idp(svc) -> dict[str, str]:
    """The municipality's provisioning client: a system token with the scope scim:users."""
    return svc.auth("partner", sub="entra-provisioning", org="kommune:101", scope="scim:users")


def new_user(user_name: str, *, role: str = "coordinator", botilbud: str = "orion", **extra) -> dict:
    return {"schemas": [CORE, EXT], "userName": user_name, "externalId": f"oid-{user_name}", "active": True,
            "name": {"givenName": "Anna", "familyName": "Holm"}, "displayName": "Anna Holm",
            EXT: {"role": role, "botilbudId": botilbud}, **extra}


async def provision(svc, user_name: str, **kw) -> dict:
    response = await svc.client.post("/scim/v2/Users", headers=idp(svc), json=new_user(user_name, **kw))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    return response.json()


def scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status), body
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


async def test_a_provisioned_colleague_joins_a_network_before_ever_signing_in(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    name = f"orion-new-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name)
    assert user["userName"] == name and user["active"] is True and user[EXT] == {"role": "coordinator", "botilbudId": "orion"}
    assert user["meta"]["location"].endswith(f"/scim/v2/Users/{user['id']}")
    read = await plans.client.get(f"/scim/v2/Users/{user['id']}", headers=idp(plans))
    assert read.status_code == 200 and read.json()["displayName"] == "Anna Holm"
    added = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=citizen(plans, citizen_id),
                                    json={"staff_id": name, "role": "makker"})
    assert added.status_code == 201, added.text
    network = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=citizen(plans, citizen_id))).json()
    member = next(m for m in network["members"] if m["staff_id"] == name)
    assert member["name"] == "Anna Holm" and member["active"] is True
    async with plans.ctx.sessions() as s:
        actions = set((await s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == name))).all())
    assert "staff.register.create" in actions


async def test_entra_style_patch_deactivates_and_the_member_cannot_join_nor_be_reactivated_by_a_token(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    name = f"orion-left-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name, role="nurse-consultant")
    # Entra ID: PATCH with capitalised op and the boolean as a string; then the name and the botilbud.
    patched = await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json={
        "schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Anna Holm-Berg"},
            {"op": "Replace", "path": "name.familyName", "value": "Holm-Berg"},
            {"op": "Replace", "path": f"{EXT}:role", "value": "coordinator"},
        ]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["displayName"] == "Anna Holm-Berg" and patched.json()[EXT]["role"] == "coordinator"
    off = await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json={
        "schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    assert off.status_code == 200 and off.json()["active"] is False, off.text
    refused = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members",
                                      headers=citizen(plans, citizen_id), json={"staff_id": name, "role": "makker"})
    assert refused.status_code == 422 and "fratrådt" in refused.json()["detail"], refused.text
    candidates = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network/candidates",
                                         headers=citizen(plans, citizen_id))).json()
    assert name not in {s["staff_id"] for s in candidates["staff"]}
    # The member signs in with a token that names another botilbud and role: the register keeps its word.
    await plans.client.get(f"/api/v1/citizens/{citizen_id}/network",
                           headers=plans.auth("nurse-consultant", sub=name, botilbud="hygge"))
    async with plans.ctx.sessions() as s:
        row = await s.get(StaffMemberRow, name)
    assert (row.active, row.source, row.role, row.botilbud_id, row.name) == (False, "register", "coordinator", "orion",
                                                                             "Anna Holm-Berg")


async def test_a_deactivated_member_already_in_a_network_is_shown_as_having_left(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    name = f"orion-m-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name)
    added = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=citizen(plans, citizen_id),
                                    json={"staff_id": name, "role": "makker"})
    assert added.status_code == 201, added.text
    gone = await plans.client.delete(f"/scim/v2/Users/{user['id']}", headers=idp(plans))
    assert gone.status_code == 204, gone.text
    scim_error(await plans.client.get(f"/scim/v2/Users/{user['id']}", headers=idp(plans)), 404)
    network = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/network", headers=staff(plans, "k1"))).json()
    assert next(m for m in network["members"] if m["staff_id"] == name)["active"] is False
    async with plans.ctx.sessions() as s:
        row = await s.get(StaffMemberRow, name)  # the row stays: history names them
    assert row is not None and row.active is False and row.deleted_at is not None


async def test_a_full_networks_refusal_names_who_has_left(plans, kafka):
    """A member the register deactivated still holds a place in the network until removed: when the
    citizen's network is full, the refusal says who has left, so the citizen knows whom to remove."""
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id, members=tuple((f"f{i}", "other") for i in range(1, 14)))
    name = f"orion-full-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name)
    added = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=citizen(plans, citizen_id),
                                    json={"staff_id": name, "role": "makker"})
    assert added.status_code == 201, added.text
    patch = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": False}]}
    assert (await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json=patch)).status_code == 200
    await known_staff(plans, citizen_id, "f14")
    refused = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members",
                                      headers=citizen(plans, citizen_id), json={"staff_id": "orion-f14", "role": "makker"})
    assert refused.status_code == 422, refused.text
    assert "højst 14" in refused.json()["detail"] and "Anna Holm er fratrådt og kan fjernes" in refused.json()["detail"]


async def test_a_token_of_someone_the_register_deactivated_opens_nothing_any_more(plans, kafka):
    """Their token is still valid for its lifetime, and they are still in the citizen's network: plans
    refuses them anyway, in Danish, and the refusal is audited on the citizen."""
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    name = f"orion-left-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name)
    added = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=citizen(plans, citizen_id),
                                    json={"staff_id": name, "role": "makker"})
    assert added.status_code == 201, added.text
    token = plans.auth("coordinator", sub=name, botilbud="orion")
    assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=token)).status_code == 200
    patch = {"schemas": [PATCH], "Operations": [{"op": "Replace", "value": {"active": "False"}}]}
    assert (await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json=patch)).status_code == 200

    refused = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=token)
    assert refused.status_code == 403, refused.text
    assert "fratrådt" in refused.json()["detail"]
    async with plans.ctx.sessions() as s:
        audited = (await s.scalars(select(AuditEntry.action).where(AuditEntry.actor_sub == name,
                                                                    AuditEntry.citizen_id == citizen_id))).all()
    assert "read-plan.denied" in audited, audited
    # The others in the network are not affected.
    assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=staff(plans, "k1"))).status_code == 200


async def test_filter_and_paging(plans):
    tag = uuid.uuid4().hex[:6]
    names = [f"orion-page-{tag}-{i}" for i in range(3)]
    for n in names:
        await provision(plans, n)
    found = await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"filter": f'userName eq "{names[1].upper()}"'})
    assert found.status_code == 200, found.text
    assert found.json()["totalResults"] == 1 and found.json()["Resources"][0]["userName"] == names[1]
    by_external = await plans.client.get("/scim/v2/Users", headers=idp(plans),
                                         params={"filter": f'externalId eq "oid-{names[2]}"'})
    assert [u["userName"] for u in by_external.json()["Resources"]] == [names[2]]
    none = await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"filter": 'userName eq "nobody-here"'})
    assert none.json()["totalResults"] == 0 and "Resources" not in none.json()
    everyone = (await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"count": 1000})).json()
    ours = [u["userName"] for u in everyone["Resources"] if u["userName"] in names]
    assert ours == names  # oldest first
    index = [u["userName"] for u in everyone["Resources"]].index(names[0]) + 1
    page = (await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"startIndex": index + 1, "count": 1})).json()
    assert page["startIndex"] == index + 1 and page["itemsPerPage"] == 1 and page["Resources"][0]["userName"] == names[1]
    assert page["totalResults"] == everyone["totalResults"]
    scim_error(await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"filter": 'displayName co "A"'}),
               400, "invalidFilter")
    scim_error(await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"filter": 'userName eq'}),
               400, "invalidFilter")


async def test_bad_requests_are_scim_errors(plans):
    name = f"orion-dup-{uuid.uuid4().hex[:6]}"
    user = await provision(plans, name)
    scim_error(await plans.client.post("/scim/v2/Users", headers=idp(plans), json=new_user(name.upper())), 409, "uniqueness")
    scim_error(await plans.client.get(f"/scim/v2/Users/{uuid.uuid4()}", headers=idp(plans)), 404)
    scim_error(await plans.client.get("/scim/v2/Users/not-a-uuid", headers=idp(plans)), 404)
    scim_error(await plans.client.post("/scim/v2/Users", headers={**idp(plans), "content-type": "application/scim+json"},
                                       content=b'{"userName": '), 400)
    scim_error(await plans.client.post("/scim/v2/Users", headers=idp(plans), json=new_user(f"x-{name}", role="visitation")),
               400, "invalidValue")
    scim_error(await plans.client.post("/scim/v2/Users", headers=idp(plans), json=new_user(f"nul\u0000-{name}")),
               400, "invalidValue")
    scim_error(await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json={
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "userName", "value": "someone-else"}]}),
        400, "mutability")
    scim_error(await plans.client.patch(f"/scim/v2/Users/{user['id']}", headers=idp(plans), json={
        "schemas": [PATCH], "Operations": [{"op": "frobnicate", "path": "active", "value": False}]}), 400)
    replaced = await plans.client.put(f"/scim/v2/Users/{user['id']}", headers=idp(plans),
                                      json=new_user(name, botilbud="hygge", active=False))
    assert replaced.status_code == 200 and replaced.json()[EXT]["botilbudId"] == "hygge", replaced.text
    assert replaced.json()["active"] is False
    scim_error(await plans.client.get("/scim/v2/Users", params={"filter": "x"}), 401)


async def test_the_same_user_name_created_twice_at_once_is_one_user_and_one_409(plans):
    """The identity provider retries a slow POST while the first is still running (or two provisioning
    jobs overlap): the second must get a SCIM 409, never a 500 from the key."""
    name = f"samtidig-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(*(plans.client.post("/scim/v2/Users", headers=idp(plans), json=new_user(name))
                                     for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            scim_error(answer, 409, "uniqueness")
    listed = await plans.client.get("/scim/v2/Users", headers=idp(plans), params={"filter": f'userName eq "{name}"'})
    assert listed.json()["totalResults"] == 1


async def test_discovery(plans):
    config = (await plans.client.get("/scim/v2/ServiceProviderConfig", headers=idp(plans))).json()
    assert config["patch"]["supported"] is True and config["filter"]["supported"] is True
    types = (await plans.client.get("/scim/v2/ResourceTypes", headers=idp(plans))).json()
    assert types["Resources"][0]["schemaExtensions"][0]["schema"] == EXT
    schemas = (await plans.client.get("/scim/v2/Schemas", headers=idp(plans))).json()
    assert {s["id"] for s in schemas["Resources"]} == {CORE, EXT}


@pytest.mark.parametrize("who", ["coordinator", "partner-without-scope", "admin-with-scope"])
async def test_only_the_provisioning_client_may_call_and_refusals_are_audited(plans, who):
    headers, sub = {
        "coordinator": (staff(plans, "k1"), "orion-k1"),
        "partner-without-scope": (plans.auth("partner", sub="partner-pck", org="SOR:1234567", scope="system/*.read"),
                                  "partner-pck"),
        "admin-with-scope": (plans.auth("admin", sub="admin-1", scope="scim:users"), "admin-1"),
    }[who]
    name = f"orion-sneak-{uuid.uuid4().hex[:6]}"
    refused = await plans.client.post("/scim/v2/Users", headers=headers, json=new_user(name))
    scim_error(refused, 403)
    scim_error(await plans.client.get("/scim/v2/Users", headers=headers), 403)
    async with plans.ctx.sessions() as s:
        assert await s.get(StaffMemberRow, name) is None
        audited = (await s.scalars(select(AuditEntry.action).where(AuditEntry.actor_sub == sub,
                                                                   AuditEntry.detail["path"].astext == "/scim/v2/Users"))).all()
    assert "scim.refused" in audited
