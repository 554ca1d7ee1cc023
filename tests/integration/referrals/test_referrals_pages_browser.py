"""The referrals pages in real headless Chromium against a live referrals server: visitation registers
a referral, records the assessment, grants a place from the matches and registers the move-in; the
citizen then reads their own case in plain Danish; the flow report shows the move-in.

Needs /usr/bin/chromium and the PyPI package playwright (driving that system Chromium); skipped
with the reason otherwise."""

from __future__ import annotations


import httpx
import pytest

from tests.integration.referrals.conftest import offer_body

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.integration]

@pytest.fixture
def live_referrals(pg, kafka, state_dir):
    """The referrals service as a real HTTP server on loopback (uvicorn in its own thread)."""
    require_browser()
    from services.referrals.main import spec
    from tests.support import fresh_database, service_settings

    settings = service_settings("referrals", database_url=fresh_database(pg, "referrals"), kafka=kafka,
                                state_dir=state_dir)
    with live_server(spec, settings) as (base_url, _app):
        yield base_url, settings


def test_visitation_takes_a_case_from_intake_to_move_in_and_the_citizen_follows_it(live_referrals):
    from playwright.sync_api import expect, sync_playwright

    from tovholder.auth import issue_dev_token

    base_url, settings = live_referrals
    admin = {"Authorization": "Bearer " + issue_dev_token(settings, role="admin", sub="admin-1")}
    r = httpx.put(f"{base_url}/api/v1/offers/lyset", headers=admin, json=offer_body("lyset", name="Lyset", approved_places=3))
    assert r.status_code == 200, r.text
    visitation = issue_dev_token(settings, role="visitation", sub="visitation-browser", name="Lars Nielsen")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="da-DK")
            page.on("dialog", lambda dialog: dialog.accept("Du har brug for støtte døgnet rundt."))
            page.goto(f"{base_url}/visitation")
            page.get_by_label("Adgangsnøgle (token)").fill(visitation)
            page.get_by_role("button", name="Gem").click()

            page.get_by_label("CPR-nummer").fill("1506784321")
            page.get_by_label("Borgerens navn").fill("Ida Madsen")
            page.get_by_label("Årsag til henvisningen").fill("Udskrives fra psykiatrisk afdeling uden bolig.")
            page.get_by_label("Borgerens egne ønsker (med borgerens ord)").fill("Jeg vil have ro og mit eget værelse.")
            page.get_by_label("Ønsket trin (1–7)").fill("7")
            page.get_by_label("Ønsket lovgrundlag").select_option("SEL §108")
            page.get_by_role("button", name="Opret henvisning").click()

            detail = page.locator("#detail")
            expect(detail).to_contain_text("Ida Madsen")
            expect(detail).to_contain_text("150678-xxxx")
            expect(page.locator("#cases")).to_contain_text("received")

            detail.get_by_label("egenomsorg").fill("3")
            detail.get_by_label("Borgerens ønsker (med borgerens ord)").fill("Ro og eget værelse")
            detail.get_by_role("button", name="Gem udredning").click()
            expect(detail).to_contain_text("Tilbud der passer")
            detail.locator("tr", has_text="Lyset").get_by_role("button", name="Bevilg").click()
            expect(detail).to_contain_text("Du har fået bevilget et tilbud")

            detail.get_by_role("button", name="Registrér indflytning i dag").click()
            expect(detail).to_contain_text("Du bor nu i dit tilbud")
            expect(detail).to_contain_text("Flyttet ind")

            # The citizen's own page: plain Danish, no internal notes or staff names.
            cases = httpx.get(f"{base_url}/api/v1/referrals?limit=5",
                              headers={"Authorization": f"Bearer {visitation}"}).json()
            citizen_id = next(c["citizen_id"] for c in cases if c["citizen_name"] == "Ida Madsen")
            citizen = browser.new_page(locale="da-DK")
            citizen.goto(f"{base_url}/min-sag")
            citizen.get_by_label("Adgangsnøgle (token)").fill(
                issue_dev_token(settings, role="citizen", sub=citizen_id))
            citizen.get_by_role("button", name="Gem").click()
            expect(citizen.locator("#mine")).to_contain_text("Du bor nu i dit tilbud")
            expect(citizen.locator("#mine")).to_contain_text("Tilbud bevilget")
            expect(citizen.locator("#mine")).not_to_contain_text("visitation-browser")

            # The flow report counts the move-in.
            page.goto(f"{base_url}/visitation/report")
            page.get_by_role("button", name="Vis").click()
            expect(page.locator("#report")).to_contain_text("Indflytninger")
            row = page.locator("#report tr", has_text="Indflytninger")
            expect(row).to_contain_text("1")
        finally:
            browser.close()
