"""The pages' Content-Security-Policy in real headless Chromium: notifications' pages raise no policy
violation (their script and styles are files), and the policy is really enforced (an injected inline script does not run; the page cannot be framed).

Needs the Debian package ``chromium`` and the PyPI package ``playwright``; skipped otherwise."""

from __future__ import annotations

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WATCH_VIOLATIONS = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""
TRY_INLINE_SCRIPT = """() => { const s = document.createElement('script'); s.textContent = 'window.__inline_ran = true';
  document.body.appendChild(s); return window.__inline_ran === true; }"""


@pytest.fixture
def live_services(pg, kafka, state_dir):
    require_browser()
    from services.notifications.main import build_spec
    from tests.support import fresh_database, service_settings

    def settings(name):
        return service_settings(name, database_url=fresh_database(pg, name), kafka=kafka, state_dir=state_dir)

    notifications_settings = settings("notifications")
    with live_server(build_spec(), notifications_settings) as (notifications_url, _):
        yield notifications_url, notifications_settings


def test_pages_run_under_the_policy_without_violations(live_services):
    from playwright.sync_api import expect, sync_playwright

    from tovholder.auth import issue_dev_token

    notifications_url, settings = live_services
    token = issue_dev_token(settings, role="coordinator", sub="koord-csp", botilbud="orion", name="Pia Holm")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="da-DK")
            page.add_init_script(f"({WATCH_VIOLATIONS})()")
            page.goto(f"{notifications_url}/login")
            page.get_by_label("Adgangsnøgle (token)").fill(token)
            page.get_by_role("button", name="Log ind", exact=True).click()
            expect(page.get_by_role("heading", name="Min arbejdskø")).to_be_visible()
            # The stylesheet applied (a file, not inline): the header is dark.
            assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(27, 31, 36)"
            page.wait_for_timeout(300)
            assert page.evaluate("window.__violations") == []
            assert page.evaluate(TRY_INLINE_SCRIPT) is False  # the policy is enforced
            page.get_by_role("button", name="Log ud").click()
            expect(page.get_by_text("Du er logget ud.")).to_be_visible()

            # Framing is refused (X-Frame-Options: DENY, frame-ancestors 'none').
            framer = browser.new_page()
            framer.set_content(f'<iframe id="f" src="{notifications_url}/login"></iframe>')
            framer.wait_for_timeout(1000)
            frame = framer.frame_locator("#f")
            expect(frame.get_by_role("heading", name="Log ind")).to_have_count(0)
        finally:
            browser.close()
