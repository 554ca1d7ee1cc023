"""Staff pages in real headless Chromium: log in with a development token, see a task appear after a
hospital notice (live, without reloading), claim it and complete it — by keyboard.

Needs the Debian package ``chromium`` (/usr/bin/chromium) and the PyPI package ``playwright``
(driving that system Chromium; ``playwright install`` is never used). Without them the tests are
skipped with a message that says exactly what is missing."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.integration]

@pytest.fixture
def live_notifications(pg, kafka, state_dir):
    """The notifications service as a real HTTP server on loopback (uvicorn in its own thread)."""
    require_browser()
    from services.notifications.main import NotificationsConfig
    from services.notifications.main import build_spec
    from tests.support import fresh_database, service_settings

    url = fresh_database(pg, "notifications")
    settings = service_settings("notifications", database_url=url, kafka=kafka, state_dir=state_dir)
    with live_server(build_spec(NotificationsConfig(page_poll_interval_s=1.0)), settings, wait_for_kafka=True) as (base_url, app):
        _wait_for_consumer(app)
        yield base_url, settings


def _run_async(make_coroutine) -> None:
    """Playwright's sync API owns this thread's event loop: run other async work in a thread of its own."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(make_coroutine())
        except BaseException as error:  # noqa: BLE001 - re-raised below in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]


def _screenshot(page, tmp_path: Path, name: str) -> None:
    """Kept for a person to look at: under $TOVHOLDER_SCREENSHOT_DIR if set, else the test's tmp dir."""
    folder = Path(os.environ.get("TOVHOLDER_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _wait_for_consumer(app, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.state.ctx.consumer is not None and app.state.ctx.consumer.assignment():
            return
        time.sleep(0.1)
    raise AssertionError("notifications' consumer got no partitions")


def test_nurse_sees_admission_task_appear_claims_and_completes_it(live_notifications, kafka, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from contracts.health import HospitalNoticeRegisteredV1
    from tests.support import publish_event
    from tovholder.auth import issue_dev_token

    base_url, settings = live_notifications
    token = issue_dev_token(settings, role="nurse-consultant", sub="nurse-browser", botilbud="orion", name="Sofie Hansen")
    citizen = uuid.uuid4()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="da-DK")
            page.goto(f"{base_url}/")
            expect(page).to_have_url(f"{base_url}/login")
            page.get_by_label("Adgangsnøgle (token)").fill(token)
            page.get_by_role("button", name="Log ind", exact=True).click()
            expect(page.get_by_role("heading", name="Min arbejdskø")).to_be_visible()
            expect(page.locator("#koe-tom")).to_be_visible()

            # Every form control on the page has a label (accessible name).
            unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
            assert unlabelled == []

            # The health service registers an admission; nobody is named tovholder → the nurse pool at Orion.
            _run_async(lambda: publish_event(kafka, HospitalNoticeRegisteredV1(
                citizen_id=citizen, notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="STAA", kind="admission",
                hospital_episode_id="EPJ-778812", department="Afsnit P2", sender_org="SOR:1234567",
                occurred_at=datetime.now(timezone.utc), legal_basis="retssikkerhedsloven § 12 c",
                tovholder_sub=None, botilbud_id="orion")))

            # It appears without reloading the page (short polling).
            row = page.locator("tr", has_text="Indlagt: følg og besøg borgeren (Afsnit P2, SOR:1234567)")
            expect(row).to_be_visible(timeout=20_000)
            expect(page.get_by_role("status").filter(has_text="Arbejdskøen er opdateret")).to_be_visible()
            expect(row).to_contain_text("Haster")
            _screenshot(page, tmp_path, "arbejdsko.png")

            # Claim by keyboard: focus the button and press Enter.
            claim = row.get_by_role("button", name="Tag opgaven: Indlagt: følg og besøg borgeren (Afsnit P2, SOR:1234567)")
            claim.focus()
            page.keyboard.press("Enter")
            expect(page.get_by_text("Du har taget opgaven.")).to_be_visible()
            row = page.locator("tr", has_text="Indlagt: følg og besøg borgeren")
            expect(row).to_contain_text("Taget")

            done = row.get_by_role("button", name="Marker som udført: Indlagt: følg og besøg borgeren (Afsnit P2, SOR:1234567)")
            done.focus()
            page.keyboard.press("Enter")
            expect(page.get_by_text("Opgaven er udført.")).to_be_visible()
            expect(page.locator("tr", has_text="Indlagt: følg og besøg borgeren")).to_have_count(0)

            # The citizen's timeline shows the admission and the finished task.
            page.goto(f"{base_url}/borgere/{citizen}")
            expect(page.get_by_role("heading", name="Tidslinje på tværs af visitation, plan og sundhed")).to_be_visible()
            expect(page.get_by_text("Hospitalsadvis: indlagt (Afsnit P2)")).to_be_visible()
            expect(page.locator("table").get_by_text("Udført")).to_be_visible()
            _screenshot(page, tmp_path, "borger.png")
        finally:
            browser.close()


def test_visitation_board_and_logout(live_notifications):
    from playwright.sync_api import expect, sync_playwright

    from tovholder.auth import issue_dev_token

    base_url, settings = live_notifications
    token = issue_dev_token(settings, role="visitation", sub="visitation-browser", name="Lars Nielsen")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="da-DK")
            page.goto(f"{base_url}/login")
            page.get_by_label("Adgangsnøgle (token)").fill(token)
            page.get_by_role("button", name="Log ind", exact=True).click()
            page.get_by_role("link", name="Visitationstavle").click()
            expect(page.get_by_role("heading", name="Visitationstavle")).to_be_visible()
            for column in ("Modtaget", "Bevilget", "Flyttet ind", "Afslag"):
                expect(page.get_by_role("heading", name=column)).to_be_visible()
            page.get_by_role("button", name="Log ud").click()
            expect(page.get_by_text("Du er logget ud.")).to_be_visible()
            page.goto(f"{base_url}/visitation")
            expect(page).to_have_url(f"{base_url}/login")
        finally:
            browser.close()
