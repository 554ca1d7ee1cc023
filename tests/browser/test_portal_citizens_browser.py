"""Borgere and Borgeroverblik in real headless Chromium, on notifications and plans over real HTTP
with the demo data loaded (referrals and health are down: their parts say so, in Danish, and the
rest of the page shows). A coordinator searches by name, sees the badges, opens a citizen and sees
the network by name and role, the plan in the citizen's words, the LA2 status and the tasks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tovholder.demo import demo_data, staff_member
from tovholder.infra import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]
COORDINATOR = staff_member("orion-koordinator-1")


@pytest.fixture
def stack(pg, state_dir):
    require_browser()
    from services.notifications.main import build_spec as notifications_spec
    from services.plans.main import spec as plans_spec
    from services.portal.main import PortalConfig, create_portal
    from tests.support import NoBroker, fresh_database, service_settings
    from tovholder.launcher import seed_demo
    from tovholder.settings import Settings

    urls = {name: fresh_database(pg, name) for name in ("notifications", "plans")}
    asyncio.run(seed_demo(urls, Settings(state_dir=state_dir)))
    settings = {name: service_settings(name, database_url=url, kafka=NoBroker(), state_dir=state_dir)
                for name, url in urls.items()}
    portal_settings = Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                               state_dir=state_dir, log_format="text")
    closed = {f"{name}_url": f"http://127.0.0.1:{free_port()}" for name in ("referrals", "health")}
    with live_server(notifications_spec(), settings["notifications"]) as (notifications_url, _), \
            live_server(plans_spec, settings["plans"]) as (plans_url, _):
        config = PortalConfig(notifications_url=notifications_url, plans_url=plans_url, **closed)
        with live_app(lambda: create_portal(config, portal_settings), name="portal") as (portal_url, _):
            yield portal_url, plans_url, settings["plans"]


def test_a_coordinator_finds_a_citizen_by_name_and_opens_the_overview(stack, tmp_path):
    from playwright.sync_api import expect

    import httpx

    from tovholder.auth import issue_dev_token

    portal_url, plans_url, plans_settings = stack
    citizen = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")
    token = issue_dev_token(plans_settings, role="coordinator", sub=COORDINATOR["sub"], botilbud="orion")
    rated = httpx.post(f"{plans_url}/api/v1/citizens/{citizen['citizen_id']}/safety/ratings",
                       headers={"Authorization": f"Bearer {token}"},
                       json={"level": "red", "reason": "Uro om natten", "citizen_told": True,
                             "reassess_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()})
    assert rated.status_code == 201, rated.text
    tovholder = staff_member(citizen["tovholder_sub"])
    with portal_page() as page:
        demo_sign_in(page, portal_url, COORDINATOR, "Koordinator", then="/borgere")
        expect(page.get_by_role("heading", name="Borgere", exact=True)).to_be_visible()
        cards = page.locator("li.citizen")
        expect(cards).to_have_count(38)  # Orion's citizens; no other botilbud's
        # The badges from plans arrive per card as it comes into view.
        expect(cards.filter(has_text=citizen["name"]).get_by_text("LA2: Rød")).to_be_visible()
        check_page(page, "portal-borgere", tmp_path)

        page.get_by_label("Navn").fill(citizen["name"].split()[0])
        page.get_by_role("button", name="Søg").click()
        expect(cards.first).to_be_visible()
        assert all(citizen["name"].split()[0].lower() in t.lower() for t in cards.locator("h2").all_inner_texts())
        page.get_by_role("link", name=citizen["name"]).click()

        expect(page.get_by_role("heading", name=citizen["name"], level=1)).to_be_visible()
        network = page.locator("section", has=page.get_by_role("heading", name="Netværk"))
        expect(network).to_contain_text(f"{tovholder['name']} (Sygeplejekonsulent) · Sygeplejekonsulent")
        assert citizen["tovholder_sub"] not in page.inner_text("body")  # names, not ids
        expect(page.locator("section", has=page.get_by_role("heading", name="Borgerens Plan"))).to_contain_text("»")
        expect(page.locator("section", has=page.get_by_role("heading", name="Tryghed"))).to_contain_text("Rød")
        expect(page.get_by_text("Visitation og sager kan ikke nås lige nu")).to_be_visible()
        expect(page.get_by_text("Sundhed kan ikke nås lige nu").first).to_be_visible()
        check_page(page, "portal-borgeroverblik", tmp_path)
