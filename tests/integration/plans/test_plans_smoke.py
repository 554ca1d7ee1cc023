import pytest

from tests.integration.plans.conftest import citizen, form_network, open_plan, staff

pytestmark = pytest.mark.integration


async def test_smoke(plans, kafka):
    cid = await open_plan(kafka, plans)
    r = await plans.client.get(f"/api/v1/citizens/{cid}/plan", headers=staff(plans, "k9"))
    assert r.status_code == 200, r.text
    await form_network(plans, cid)
    r = await plans.client.post(f"/api/v1/citizens/{cid}/plan/goals", headers=staff(plans, "k1"),
                                json={"text": "Lave mad", "written_with_citizen": True, "cadence": {"preset": "14-days"}})
    assert r.status_code == 201, r.text
    r = await plans.client.get(f"/api/v1/citizens/{cid}/plan", headers=citizen(plans, cid))
    assert r.status_code == 200, r.text
    print(r.json())
