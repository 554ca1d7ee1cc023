"""Visitation's Sager in real headless Chromium, on referrals (and notifications) over real HTTP with
the demo data: the cases by name and Danish status, a status filter, and on to the citizen's overview
with the case part from referrals."""

from __future__ import annotations

import asyncio

import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tovholder.demo import staff_member
from tovholder.infra import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]
VISITOR = staff_member("visitation-1")


@pytest.fixture
def stack(pg, state_dir):
    require_browser()
    from services.notifications.main import build_spec as notifications_spec
    from services.portal.main import PortalConfig, create_portal
    from services.referrals.main import spec as referrals_spec
    from tests.support import CPR_ENCRYPTION_KEY, CPR_HASH_KEY, NoBroker, fresh_database, service_settings
    from tovholder.launcher import seed_demo
    from tovholder.settings import Settings

    urls = {name: fresh_database(pg, name) for name in ("referrals", "notifications")}
    asyncio.run(seed_demo(urls, Settings(state_dir=state_dir, cpr_hash_key=CPR_HASH_KEY,
                                         cpr_encryption_key=CPR_ENCRYPTION_KEY)))
    settings = {name: service_settings(name, database_url=url, kafka=NoBroker(), state_dir=state_dir)
                for name, url in urls.items()}
    portal_settings = Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                               state_dir=state_dir, log_format="text")
    closed = {f"{name}_url": f"http://127.0.0.1:{free_port()}" for name in ("plans", "health")}
    with live_server(referrals_spec, settings["referrals"]) as (referrals_url, _), \
            live_server(notifications_spec(), settings["notifications"]) as (notifications_url, _):
        config = PortalConfig(referrals_url=referrals_url, notifications_url=notifications_url, **closed)
        with live_app(lambda: create_portal(config, portal_settings), name="portal") as (portal_url, _):
            yield portal_url, referrals_url, settings["referrals"]


def test_visitation_sees_the_cases_by_name_filters_by_status_and_opens_a_citizen(stack, tmp_path):
    import httpx
    from playwright.sync_api import expect

    from tovholder.auth import issue_dev_token
    from tovholder.demo import demo_data

    portal_url, referrals_url, referrals_settings = stack
    token = issue_dev_token(referrals_settings, role="visitation", sub=VISITOR["sub"], municipality="København")
    auth = {"Authorization": f"Bearer {token}"}
    people = [c for c in demo_data()["citizens"] if c["botilbud"] == "cirklen"][:3]
    created = []
    for person in people:
        answer = httpx.post(f"{referrals_url}/api/v1/referrals", headers=auth, json={
            "cpr": person["cpr"], "citizen_name": person["name"], "reason": "Ønsker et midlertidigt botilbud",
            "requested_step": 6, "municipality": "København"})
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["referral_id"])
    assert httpx.post(f"{referrals_url}/api/v1/referrals/{created[0]}/screening", headers=auth).status_code == 200

    with portal_page() as page:
        demo_sign_in(page, portal_url, VISITOR, "Visitation", then="/visitation")
        expect(page.get_by_role("heading", name="Sager", exact=True)).to_be_visible()
        cases = page.locator("li.case")
        expect(cases).to_have_count(3)
        expect(cases.filter(has_text=people[0]["name"])).to_contain_text("Under udredning")
        expect(cases.filter(has_text=people[1]["name"])).to_contain_text("Modtaget · modtaget")
        check_page(page, "portal-sager", tmp_path)

        page.get_by_label("Status").select_option(label="Under udredning")
        page.get_by_role("button", name="Vis").click()
        expect(cases).to_have_count(1)
        page.get_by_role("link", name=people[0]["name"]).click()
        expect(page.get_by_role("heading", name=people[0]["name"], level=1)).to_be_visible()
        expect(page.locator("section", has=page.get_by_role("heading", name="Sag", exact=True))).to_contain_text(
            "Under udredning")
        check_page(page, "portal-borgeroverblik-visitation", tmp_path)
