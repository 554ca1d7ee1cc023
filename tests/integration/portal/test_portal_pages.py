"""The portal as a backend-for-frontend on real parts: demo sign-in, a session that lives on the server
(sign-out and the idle timeout end it), CSRF on every form, no open redirects, the security headers,
and a front page that still renders, in Danish, when a service it calls is down."""

from __future__ import annotations

import pytest

from tests.integration.portal.conftest import portal_settings, run_portal
from tests.support import run_service

pytestmark = [pytest.mark.integration]

COORDINATOR = "orion-koordinator-1"
VISITATION = "visitation-1"


async def test_demo_sign_in_sets_a_server_side_session_cookie_and_sign_out_ends_it(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        first = await portal.client.get("/", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/logind")

        signed_in = await portal.sign_in(COORDINATOR)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        cookie = signed_in.headers["set-cookie"]
        assert "tovholder_portal=" in cookie
        for flag in ("HttpOnly", "Secure", "SameSite=lax"):
            assert flag.lower() in cookie.lower(), cookie
        value = portal.session_cookie()
        assert value and "eyJ" not in value  # a random id, not the token

        front = await portal.client.get("/")
        assert front.status_code == 200
        assert "Koordinator" in front.text and 'lang="da"' in front.text

        csrf = await portal.csrf()
        out = await portal.client.post("/logud", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/logind?besked=logget-ud"
        # The old cookie, replayed, no longer signs anyone in: the session is gone on the server.
        portal.client.cookies.set("tovholder_portal", value, domain="portal.test")
        again = await portal.client.get("/", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/logind")


async def test_every_form_needs_its_csrf_token(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.client.get("/logind")
        forged = await portal.client.post("/logind/demo", data={"sub": COORDINATOR, "csrf": "x" * 64})
        assert forged.status_code == 403 and "Formularen var forældet" in forged.text
        assert portal.session_cookie() is None

        await portal.sign_in(COORDINATOR)
        kept = await portal.client.post("/logud", data={"csrf": "forged"})
        assert kept.status_code == 303 and "forkert-formular" in kept.headers["location"]
        assert (await portal.client.get("/", follow_redirects=False)).status_code == 200  # still signed in


async def test_an_idle_session_is_signed_out(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir), session_idle_minutes=0) as portal:
        await portal.sign_in(COORDINATOR)
        page = await portal.client.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/logind")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                    "/ //evil.example", "\t//evil.example"])
async def test_no_open_redirect_after_sign_in(pg, state_dir, target):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        csrf = await portal.login_csrf()
        answer = await portal.client.post("/logind/demo", data={"sub": COORDINATOR, "csrf": csrf, "naeste": target})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"


async def test_pages_carry_the_security_headers(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        page = await portal.client.get("/logind")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        missing = await portal.client.get("/findes-ikke")
        assert missing.status_code == 404 and "Siden findes ikke" in missing.text
        assert missing.headers["x-frame-options"] == "DENY"
        htmx = await portal.client.get("/static/vendor/htmx.min.js")
        assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
        assert (await portal.client.get("/static/../main.py")).status_code == 404


async def test_the_front_page_says_in_danish_which_service_is_down_and_shows_the_rest(pg, state_dir):
    from tests.support import NoBroker

    async with run_service("notifications", pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as notifications:
        # notifications answers; referrals is down (a closed port): its part says so, the rest renders.
        async with run_portal(portal_settings(pg, state_dir), apps={"notifications": notifications.app}) as portal:
            await portal.sign_in(VISITATION)
            page = await portal.client.get("/")
            assert page.status_code == 200
            assert "Visitation og sager kan ikke nås lige nu" in page.text
            assert "Mine første opgaver" in page.text and "Ingen åbne opgaver" in page.text
            assert "Påmindelser" in page.text


async def test_readiness_and_health(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        assert (await portal.client.get("/healthz")).json()["service"] == "portal"
        ready = await portal.client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


async def test_a_refused_task_action_is_shown_in_danish_on_the_queue_and_nothing_changes(pg, state_dir):
    import uuid

    from tests.integration.notifications.test_work_queue_api import make_task, store
    from tests.support import NoBroker

    async with run_service("notifications", pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as notifications:
        taken = make_task(uuid.uuid4(), due_in_h=2, owner="orion-koordinator-2", botilbud="orion")
        await store(notifications, [taken])
        async with run_portal(portal_settings(pg, state_dir), apps={"notifications": notifications.app}) as portal:
            await portal.sign_in(COORDINATOR)
            csrf = await portal.csrf("/arbejdsko")
            # Someone else's task: notifications refuses; the portal shows why, in Danish, on the queue page.
            refused = await portal.client.post(f"/opgaver/{taken.task_id}/udfoer",
                                               data={"csrf": csrf, "note": "x", "tilbage": "/arbejdsko?prioritet=haster"})
            assert refused.status_code in (403, 404, 409, 422), refused.status_code
            assert 'role="alert"' in refused.text and "Arbejdskø" in refused.text
            alert = refused.text.split('role="alert">')[1].split("<")[0]
            assert "task" not in alert.lower()
            forged = await portal.client.post(f"/opgaver/{taken.task_id}/tag", data={"csrf": "nope"})
            assert forged.status_code == 303 and "forkert-formular" in forged.headers["location"]
            unknown = await portal.client.post(f"/opgaver/{taken.task_id}/slet", data={"csrf": csrf})
            assert unknown.status_code == 404
            # The live stream is only for a signed-in member of staff.
            portal.client.cookies.clear()
            assert (await portal.client.get("/arbejdsko/live")).status_code == 401


async def test_a_citizen_signs_in_too_and_sees_the_citizens_side_only(pg, state_dir):
    from tovholder.demo import demo_data

    citizen = demo_data()["citizens"][0]
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        answer = await portal.sign_in(citizen["citizen_id"])
        assert answer.status_code == 303
        front = await portal.client.get("/")
        assert front.status_code == 200 and f"Goddag, {citizen['name']}" in front.text
        assert "Min sag" in front.text and 'href="/arbejdsko"' not in front.text
        assert "Visitation og sager kan ikke nås lige nu" in front.text  # referrals is down here
        staff_only = await portal.client.get("/arbejdsko")
        assert staff_only.status_code == 403 and "for medarbejdere" in staff_only.text
        assert (await portal.client.get("/borgere")).status_code == 403
