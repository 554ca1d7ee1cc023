"""The portal in real headless Chromium: sign in (the local demo sign-in page, and OpenID Connect
against a real OpenID provider the test starts), the front page with its parts from the services,
sign out. Every page: axe-core, 390 px, no English, no CSP violation, screenshots.

Needs the Debian packages ``chromium`` and ``nodejs``, the PyPI package ``playwright`` and the npm
packages from package-lock.json (``make node_modules``); skipped with the reason when the first ones
are missing."""

from __future__ import annotations

import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tests.oidc_support import oidc_provider, require_node_packages
from tovholder.demo import staff_member
from tovholder.infra import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]

COORDINATOR = staff_member("orion-koordinator-1")


def _closed() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _portal_settings(pg, state_dir, **overrides):
    from tests.support import fresh_database
    from tovholder.settings import Settings

    return Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                    state_dir=state_dir, log_format="text", **overrides)


def _portal(settings, port: int | None = None, **config):
    from services.portal.main import PortalConfig, create_portal

    urls = {f"{name}_url": _closed() for name in ("referrals", "plans", "health", "notifications")}
    return live_app(lambda: create_portal(PortalConfig(**{**urls, "request_timeout_s": 3.0, **config}), settings),
                    name="portal", port=port)


@pytest.fixture
def notifications(pg, state_dir):
    from services.notifications.main import build_spec
    from tests.support import NoBroker, fresh_database, service_settings

    def serve(**overrides):
        settings = service_settings("notifications", database_url=fresh_database(pg, "notifications"), kafka=NoBroker(),
                                    state_dir=state_dir, **overrides)
        return live_server(build_spec(), settings)

    return serve


def _assert_session_cookie_is_out_of_reach(page) -> None:
    cookie = next(c for c in page.context.cookies() if c["name"] == "tovholder_portal")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax", cookie
    assert "tovholder_portal" not in page.evaluate("document.cookie")  # no script can read it
    assert "eyJ" not in cookie["value"]  # a random id, not a token


def test_a_coordinator_signs_in_on_the_local_page_sees_the_front_page_and_signs_out(pg, state_dir, notifications, tmp_path):
    require_browser()
    require_node_packages("axe-core")
    from playwright.sync_api import expect

    with notifications() as (notifications_url, _), \
            _portal(_portal_settings(pg, state_dir), notifications_url=notifications_url) as (portal_url, _):
        with portal_page() as page:
            page.goto(f"{portal_url}/")
            expect(page.get_by_role("heading", name="Log ind", exact=True)).to_be_visible()
            check_page(page, "portal-log-ind", tmp_path)

            page.get_by_role("button", name=f"Log ind som {COORDINATOR['name']}, Koordinator").click()
            expect(page.get_by_role("heading", name=f"Goddag, {COORDINATOR['name']}")).to_be_visible()
            expect(page.get_by_text("Ingen åbne opgaver")).to_be_visible()
            _assert_session_cookie_is_out_of_reach(page)
            check_page(page, "portal-forside-koordinator", tmp_path)

            page.get_by_role("button", name="Log ud").click()
            expect(page.get_by_text("Du er logget ud.")).to_be_visible()
            page.goto(f"{portal_url}/")
            expect(page.get_by_role("heading", name="Log ind", exact=True)).to_be_visible()


def test_visitation_sees_in_danish_that_a_service_is_down_and_the_rest_of_the_page(pg, state_dir, notifications, tmp_path):
    require_browser()
    from playwright.sync_api import expect

    visitor = staff_member("visitation-1")
    with notifications() as (notifications_url, _), \
            _portal(_portal_settings(pg, state_dir), notifications_url=notifications_url) as (portal_url, _):
        with portal_page() as page:
            demo_sign_in(page, portal_url, visitor, "Visitation")
            expect(page.get_by_text("Visitation og sager kan ikke nås lige nu")).to_be_visible()
            expect(page.get_by_role("heading", name="Mine første opgaver")).to_be_visible()
            check_page(page, "portal-forside-tjeneste-nede", tmp_path)


def test_sign_in_with_openid_connect_against_a_real_provider_and_real_logout(pg, state_dir, notifications, tmp_path):
    """Authorization code flow with PKCE: the portal sends the browser to the provider, the person signs
    in there, the portal exchanges the code, checks the ID token and keeps the tokens on the server; the
    services accept the access token (verified against the provider's JWKS). Signing out ends the
    session in the portal and at the provider."""
    require_browser()
    require_node_packages("oidc-provider")
    from playwright.sync_api import expect

    port = free_port()
    portal_url = f"http://127.0.0.1:{port}"
    accounts = {COORDINATOR["sub"]: {"role": "coordinator", "name": COORDINATOR["name"], "botilbud": "orion"}}
    with oidc_provider(tmp_path, redirect_uris=[f"{portal_url}/logind/svar"],
                       post_logout_redirect_uris=[f"{portal_url}/logind?besked=logget-ud"], accounts=accounts) as idp:
        trust = {"auth_issuer": idp.issuer, "auth_jwks_url": idp.jwks_url, "auth_audience": "tovholder"}
        with notifications(**trust) as (notifications_url, _), \
                _portal(_portal_settings(pg, state_dir, **trust), port=port, notifications_url=notifications_url,
                        oidc_issuer=idp.issuer, oidc_client_id=idp.client_id, oidc_client_secret=idp.client_secret,
                        oidc_resource="urn:tovholder"):
            with portal_page() as page:
                page.goto(f"{portal_url}/")
                # No demo people where a real provider signs people in.
                expect(page.get_by_text("Log ind som en demo-person")).to_have_count(0)
                check_page(page, "portal-log-ind-kommune", tmp_path)
                page.get_by_role("link", name="Log ind med kommunens login").click()

                assert page.url.startswith(idp.issuer)  # at the provider, with PKCE
                page.locator("input[name=login]").fill(COORDINATOR["sub"])
                page.locator("input[name=password]").fill("hvad-som-helst")
                page.locator("button[type=submit]").click()

                expect(page.get_by_role("heading", name=f"Goddag, {COORDINATOR['name']}")).to_be_visible()
                assert page.url == f"{portal_url}/"
                # notifications accepted the provider's access token: the queue part rendered.
                expect(page.get_by_text("Ingen åbne opgaver")).to_be_visible()
                _assert_session_cookie_is_out_of_reach(page)

                page.get_by_role("button", name="Log ud").click()
                assert page.url.startswith(idp.issuer)  # the provider ends its session too
                page.locator("button[autofocus], button[type=submit]").first.click()
                expect(page.get_by_text("Du er logget ud.")).to_be_visible()
                page.goto(f"{portal_url}/")
                expect(page.get_by_role("link", name="Log ind med kommunens login")).to_be_visible()
