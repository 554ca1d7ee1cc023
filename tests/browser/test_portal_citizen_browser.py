"""The citizen's own pages in real headless Chromium (issue 13), on referrals, plans and notifications
over real HTTP and a real broker, with the demo data loaded; health is down, so its parts say so in
Danish and the rest still shows. A demo citizen reads their plan and adds their perspective, gives and
withdraws a consent, shares a FIT session, and calls a network meeting; the coordinator finds the task
in the work queue and opens the citizen's overview (reading the plan); the citizen then finds that read
in Min log. Every citizen page passes axe-core, 390 px and the no-English check."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tovholder import clock
from tovholder.demo import demo_data, staff_member
from tovholder.infra import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def stack(pg, kafka, state_dir):
    import asyncio

    require_browser()
    from services.notifications.main import NotificationsConfig, build_spec as notifications_spec
    from services.plans.main import spec as plans_spec
    from services.portal.main import PortalConfig, create_portal
    from services.referrals.main import spec as referrals_spec
    from tests.support import fresh_database, service_settings
    from tovholder.launcher import seed_demo
    from tovholder.settings import Settings

    urls = {name: fresh_database(pg, name) for name in ("referrals", "notifications", "plans")}
    asyncio.run(seed_demo(urls, Settings(state_dir=state_dir)))
    # The partner's webhook receiver listens on 127.0.0.1, which only this explicit setting allows.
    settings = {name: service_settings(name, database_url=url, kafka=kafka, state_dir=state_dir,
                                       **({"webhook_allow_loopback": True} if name == "notifications" else {}))
                for name, url in urls.items()}
    portal_settings = Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                               state_dir=state_dir, log_format="text")
    prompt = NotificationsConfig(delivery_first_delay_s=0.2, delivery_poll_interval_s=0.2)  # deliveries at once
    with live_server(notifications_spec(prompt), settings["notifications"], wait_for_kafka=True) as (notifications_url, _), \
            live_server(plans_spec, settings["plans"], wait_for_kafka=True) as (plans_url, _), \
            live_server(referrals_spec, settings["referrals"]) as (referrals_url, _):
        config = PortalConfig(notifications_url=notifications_url, plans_url=plans_url, referrals_url=referrals_url,
                              health_url=f"http://127.0.0.1:{free_port()}", queue_poll_interval_s=1)
        with live_app(lambda: create_portal(config, portal_settings), name="portal") as (portal_url, _):
            yield portal_url, plans_url, settings["plans"], notifications_url


def sign_out(page) -> None:
    page.get_by_role("button", name="Log ud").click()


@pytest.fixture
def partner_receiver():
    from tests.integration.notifications.receiver import Receiver

    with Receiver() as receiver:
        yield receiver


def test_a_citizen_steers_their_plan_consents_fit_and_network_and_sees_who_looked(stack, partner_receiver, tmp_path):
    import httpx
    from playwright.sync_api import expect

    from tovholder.auth import issue_dev_token

    portal_url, plans_url, plans_settings, notifications_url = stack
    http = httpx.Client(timeout=30)  # two shared cores: the services may be slow to answer
    person = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")  # the first: on /logind
    citizen_id = person["citizen_id"]
    api = f"{plans_url}/api/v1/citizens/{citizen_id}"
    me = {"Authorization": f"Bearer {issue_dev_token(plans_settings, role='citizen', sub=citizen_id)}"}
    network = http.get(f"{api}/network", headers=me).json()
    coordinator = staff_member(network["coordinator"])
    as_coordinator = {"Authorization": "Bearer " + issue_dev_token(
        plans_settings, role="coordinator", sub=coordinator["sub"], botilbud="orion")}
    fit = http.post(f"{api}/fit", headers=as_coordinator, json={
        "held_at": (datetime.now(timezone.utc) - timedelta(days=14)).isoformat(), "ors": 19, "srs": 34,
        "shared_by_citizen": False})
    assert fit.status_code == 201, fit.text
    assert http.post(f"{api}/fit", headers=as_coordinator, json={
        "held_at": datetime.now(timezone.utc).isoformat(), "ors": 27, "srs": 38,
        "shared_by_citizen": True}).status_code == 201

    # The psychiatric centre the citizen will give a consent to subscribes to plan changes.
    receiver = partner_receiver
    partner = {"Authorization": "Bearer " + issue_dev_token(plans_settings, role="partner", sub="pck-epj", org="SOR:9999991")}
    subscribed = http.post(f"{notifications_url}/integration/v1/subscriptions", headers=partner, json={
        "callback_url": receiver.url, "event_types": ["tovholder.plans.plan-version-created.v1"],
        "secret": "0123456789abcdef0123456789abcdef-pck"})
    assert subscribed.status_code == 202 and subscribed.json()["status"] == "ok", subscribed.text

    def delivered_about_me() -> int:
        # Only this citizen's plan changes while the test runs; a delivery names them by the centre's
        # own citizen reference, not by the id.
        return len(receiver.requests)

    def write_in_my_plan(words: str) -> None:
        page.get_by_role("link", name="Min plan").click()
        page.locator("section.goal").first.get_by_label("Mit syn på målet").fill(words)
        page.locator("section.goal").first.get_by_role("button", name="Gem mit syn").click()
        expect(page.get_by_text("Tak. Dit syn er skrevet i planen.")).to_be_visible()

    with portal_page() as page:
        demo_sign_in(page, portal_url, {"name": person["name"]}, "borger", then="/min-plan")
        # Min plan: my goal in my words; my perspective kept apart from what staff wrote.
        expect(page.get_by_role("heading", name="Min plan", level=1)).to_be_visible()
        goal = page.locator("section.goal").first
        expect(goal.get_by_role("heading", level=2)).to_contain_text("»")
        goal.get_by_label("Mit syn på målet").fill("Jeg vil gerne selv bestemme, hvornår vi øver.")
        goal.get_by_role("button", name="Gem mit syn").click()
        expect(page.get_by_text("Tak. Dit syn er skrevet i planen.")).to_be_visible()
        mine = page.locator("section.goal").first.locator("div", has=page.get_by_role("heading", name="Det har jeg skrevet")).last
        expect(mine).to_contain_text("Jeg vil gerne selv bestemme, hvornår vi øver.")
        expect(page.get_by_text("Der blev skrevet i planen").first).to_be_visible()  # a new version
        check_page(page, "portal-borger-min-plan", tmp_path)

        # Mine samtykker: give one, then withdraw it; what flows without consent, and under which law.
        page.get_by_role("link", name="Mine samtykker").click()
        page.get_by_label("Hvem må få oplysningerne (navn)").fill("Psykiatrisk Center København")
        page.get_by_label("Organisationens nummer (fx SOR-nummer)").fill("SOR:9999991")
        page.get_by_label("Hvilke oplysninger").select_option("plan")
        page.get_by_role("button", name="Giv samtykke").click()
        expect(page.get_by_text("Dit samtykke er gemt.")).to_be_visible()
        given = page.locator("li.consent", has_text="Psykiatrisk Center København")
        expect(given).to_contain_text("din plan")
        expect(page.get_by_text("retssikkerhedsloven § 12 c:")).to_be_visible()
        check_page(page, "portal-borger-samtykker", tmp_path)
        # With the consent, my next change in the plan reaches the psychiatric centre.
        assert delivered_about_me() == 0  # my first perspective came before the consent: withheld
        write_in_my_plan("Jeg vil gerne have, at psykiatrien ved, hvad jeg arbejder med.")
        deadline = time.monotonic() + 60
        while delivered_about_me() < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert delivered_about_me() == 1, "the change under consent was not delivered"
        page.get_by_role("link", name="Mine samtykker").click()
        given = page.locator("li.consent", has_text="Psykiatrisk Center København")
        given.get_by_role("button", name="Træk samtykket tilbage").click()
        expect(page.get_by_text("Du har trukket dit samtykke tilbage.")).to_be_visible()
        expect(page.locator("li.consent")).to_have_count(0)
        # After the withdrawal, my next change is withheld (Min log shows it further down).
        write_in_my_plan("Nu vil jeg selv fortælle psykiatrien det.")
        consents = http.get(f"{api}/consents", headers=me).json()["consents"]
        assert [c["in_force"] for c in consents if c["recipient_id"] == "SOR:9999991"] == [False]

        # Min FIT: the trend as a picture (pygal's SVG), and sharing a session.
        page.get_by_role("link", name="Min FIT").click()
        chart = page.locator("img.chart")
        expect(chart).to_be_visible()
        page.wait_for_function("() => { const i = document.querySelector('img.chart'); return i.complete && i.naturalWidth > 0; }")
        older = (datetime.now(timezone.utc) - timedelta(days=14)).astimezone(clock.COPENHAGEN).strftime("%d.%m.%Y")
        page.get_by_role("button", name=f"Del målingen fra {older}").click()
        expect(page.get_by_text("Målingen er nu delt med dem, der hjælper dig.")).to_be_visible()
        assert all(s["shared_by_citizen"] for s in http.get(f"{api}/fit", headers=me).json()["sessions"])
        check_page(page, "portal-borger-fit", tmp_path)

        # Min sag (moved from referrals): plain Danish.
        page.get_by_role("link", name="Min sag").click()
        expect(page.get_by_role("heading", name="Min sag", level=1)).to_be_visible()
        check_page(page, "portal-borger-min-sag", tmp_path)

        # Mit netværk: names and roles; call a network meeting with a reason and whom I want there.
        page.get_by_role("link", name="Mit netværk").click()
        expect(page.locator("section", has=page.get_by_role("heading", name="Hvem er i mit netværk"))
               ).to_contain_text(coordinator["name"])
        expect(page.get_by_text("Sundhed kan ikke nås lige nu")).to_be_visible()  # the tovholder choice is health's
        page.get_by_label("Hvorfor vil du have et møde?").fill("Jeg vil tale om at flytte i egen lejlighed.")
        page.get_by_label(f"{coordinator['name']} (Netværkskoordinator)").check()
        page.get_by_label("Andre, du vil have med").fill("Min søster")
        page.get_by_role("button", name="Bed om mødet").click()
        expect(page.get_by_text("Du har bedt om et netværksmøde.")).to_be_visible()
        due = clock.add_working_days(clock.today(), 5).strftime("%d.%m.%Y")
        meeting = page.locator("li.meeting").first
        expect(meeting).to_contain_text("Du har bedt om mødet; din koordinator finder en tid")
        expect(meeting).to_contain_text(f"skal holdes senest {due}")
        expect(meeting).to_contain_text(f"{coordinator['name']}, Min søster")
        check_page(page, "portal-borger-netvaerk", tmp_path)
        sign_out(page)

        # The coordinator: the task is in the work queue; opening the citizen reads the plan.
        demo_sign_in(page, portal_url, coordinator, "Koordinator", then="/arbejdsko")
        expect(page.get_by_text(f"Borgeren har bedt om et netværksmøde – holdes senest {due}")).to_be_visible(
            timeout=60_000)
        page.goto(f"{portal_url}/borgere/{citizen_id}")
        expect(page.get_by_role("heading", name=person["name"], level=1)).to_be_visible()
        sign_out(page)

        # Min log: the coordinator's read of my plan, by name and role, and my own reads marked as mine.
        demo_sign_in(page, portal_url, {"name": person["name"]}, "borger", then="/min-log")
        expect(page.get_by_text("Sundhed kan ikke nås lige nu")).to_be_visible()
        page.get_by_label("Hvor", exact=True).select_option("plans")
        page.get_by_role("button", name="Vis").click()
        read = page.locator("li.log-entry", has_text=coordinator["name"]).filter(has_text="Set: Borgerens plan").first
        expect(read).to_contain_text("koordinator")
        expect(read).to_contain_text("Opslag i arbejdet med dit forløb")
        expect(page.locator("li.log-entry.mine").first).to_contain_text("Dig selv")
        check_page(page, "portal-borger-min-log", tmp_path)

        # Deliveries to the psychiatric centre: the one under my consent, and the next one withheld.
        page.get_by_label("Hvor", exact=True).select_option("notifications")
        page.get_by_role("button", name="Vis").click()
        withheld = page.locator("li.log-entry", has_text="Ikke videregivet: der var intet samtykke eller hjemmel")
        expect(withheld.first).to_be_visible(timeout=30_000)
        expect(page.locator("li.log-entry", has_text="Videregivet med dit samtykke").first).to_be_visible()
        assert delivered_about_me() == 1  # nothing reached the centre after the withdrawal
