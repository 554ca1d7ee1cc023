"""Issue 10, items 8 and 12, on the real staff pages (notifications and referrals): no open redirect,
CSP and the other headers, no inline script, demo login only while developing and only for the
people it shows, CSRF on every state-changing page request including login and logout."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.routing import APIRoute

from services.notifications import repository as notifications_repo
from services.notifications.main import NotificationsConfig
from services.notifications.domain import tasks as d
from tests.support import run_service
from tovholder.auth import is_json_api_path
from tovholder.guards import PAGE_CSP

pytestmark = pytest.mark.integration
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|<style|\sstyle=|javascript:", re.I)
SESSION = "tovholder_session_notifications"


@pytest.fixture(scope="module")
async def notifications(pg, kafka, tmp_path_factory):
    from services.notifications.main import build_spec

    async with run_service(build_spec(NotificationsConfig(sweep_interval_s=60)), pg=pg, kafka=kafka,
                           state_dir=tmp_path_factory.mktemp("notifications")) as svc:
        yield svc


@pytest.fixture(scope="module")
async def developing(pg, kafka, tmp_path_factory):
    """Notifications as `make run` starts it: environment development."""
    from services.notifications.main import build_spec

    async with run_service(build_spec(NotificationsConfig(sweep_interval_s=60)), pg=pg, kafka=kafka, wait=False,
                           state_dir=tmp_path_factory.mktemp("notifications-dev"), environment="development") as svc:
        yield svc


@pytest.fixture(scope="module")
async def referrals(pg, kafka, tmp_path_factory):
    async with run_service("referrals", pg=pg, kafka=kafka, wait=False,
                           state_dir=tmp_path_factory.mktemp("referrals")) as svc:
        yield svc


def csrf_of(page) -> str:
    return CSRF_FIELD.search(page.text).group(1)


async def log_in(svc, sub: str = "koord-side") -> str:
    svc.client.cookies.clear()
    form = await svc.client.get("/login")
    token = svc.token("coordinator", sub, botilbud="orion")
    assert (await svc.client.post("/login", data={"token": token, "csrf": csrf_of(form)})).status_code == 303
    return csrf_of(await svc.client.get("/"))


async def open_task(svc) -> uuid.UUID:
    now = datetime.now(timezone.utc)
    task = d.new_task(
        d.TaskSpec(kind=d.TaskKind.FIRST_NETWORK_MEETING, title="Første netværksmøde", due_at=now + timedelta(days=3),
                   pool=d.Pool(d.Role.COORDINATOR, "orion")),
        task_id=uuid.uuid4(), citizen_id=uuid.uuid4(), botilbud_id="orion", source_event_id=str(uuid.uuid4()),
        source_event_type="test", now=now)
    async with svc.ctx.uow() as uow:
        notifications_repo.save(uow, task, NotificationsConfig().escalation)
        await uow.commit()
    return task.task_id


# ------------------------------------------------------------------ open redirect


@pytest.mark.parametrize("referer", [
    "//evil.example/", "http://notifications//evil.example/", "http://notifications/\\evil.example/",
    "/\\evil.example/", "https:evil.example", "http://evil.example/?kind=x", "javascript:alert(1)",
    "http://notifications/%09/evil.example",
])
async def test_after_a_task_action_the_redirect_stays_on_this_site(notifications, referer):
    csrf = await log_in(notifications)
    task_id = await open_task(notifications)
    response = await notifications.client.post(f"/opgaver/{task_id}/tag", data={"csrf": csrf}, headers={"referer": referer})
    location = response.headers["location"]
    assert response.status_code == 303
    # A path of this site: browsers read "//host" and "/\\host" as another host.
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not urlsplit(location).scheme and not urlsplit(location).netloc and "\\" not in location
    notifications.client.cookies.clear()


async def test_a_same_site_referer_keeps_its_page_and_filters(notifications):
    csrf = await log_in(notifications)
    task_id = await open_task(notifications)
    response = await notifications.client.post(f"/opgaver/{task_id}/tag", data={"csrf": csrf},
                                               headers={"referer": "http://notifications/?kind=first-network-meeting&besked=gammel"})
    assert response.headers["location"].startswith("/?kind=first-network-meeting&besked=Du+har+taget")
    notifications.client.cookies.clear()


# ------------------------------------------------------------------ headers, no inline script


async def test_every_page_has_the_policy_and_no_inline_script(notifications, referrals):
    await log_in(notifications)
    answers = [(path, await notifications.client.get(path)) for path in ("/", "/visitation", f"/borgere/{uuid.uuid4()}")]
    notifications.client.cookies.clear()
    answers.append(("/login", await notifications.client.get("/login")))
    for path, response in answers:
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["content-security-policy"] == PAGE_CSP, path
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        inline = INLINE_SCRIPT.search(response.text)
        assert inline is None, (path, inline and inline.group(0))
    for path, kind in (("/static/pages.css", "text/css"), ("/static/work_queue.js", "text/javascript")):
        asset = await notifications.client.get(path)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind) and asset.content, path
    assert (await notifications.client.get("/static/..%2Fpages.py")).status_code == 404
    assert (await notifications.client.get("/static/pages.py")).status_code == 404
    assert (await referrals.client.get("/static/pages.js")).status_code == 404  # referrals serves no pages now
    notifications.client.cookies.clear()


# ------------------------------------------------------------------ demo login


async def test_demo_login_is_only_for_development(notifications):
    notifications.client.cookies.clear()
    page = await notifications.client.get("/login")
    assert "/login/demo" not in page.text and "Demo" not in page.text
    refused = await notifications.client.post("/login/demo", data={"sub": "orion-koordinator-1", "csrf": csrf_of(page)})
    assert refused.status_code == 403 and SESSION not in notifications.client.cookies
    assert "udvikler" in refused.text


async def test_demo_login_logs_in_only_the_people_it_lists(developing):
    developing.client.cookies.clear()
    page = await developing.client.get("/login")
    listed = re.findall(r'name="sub" value="([^"]+)"', page.text)
    assert listed and "admin-1" not in listed
    csrf = csrf_of(page)
    for hidden in ("admin-1", "ukendt-1"):
        refused = await developing.client.post("/login/demo", data={"sub": hidden, "csrf": csrf})
        assert refused.status_code == 404 and SESSION not in developing.client.cookies, hidden
    forged = await developing.client.post("/login/demo", data={"sub": listed[0]})
    assert forged.status_code == 403 and SESSION not in developing.client.cookies
    chosen = await developing.client.post("/login/demo", data={"sub": listed[0], "csrf": csrf})
    assert chosen.status_code == 303 and SESSION in developing.client.cookies
    developing.client.cookies.clear()


# ------------------------------------------------------------------ CSRF on login, logout and every form


async def test_login_and_logout_need_their_csrf_token(notifications):
    notifications.client.cookies.clear()
    token = notifications.token("coordinator", "koord-login", botilbud="orion")
    forged = await notifications.client.post("/login", data={"token": token})
    assert forged.status_code == 403 and SESSION not in notifications.client.cookies
    # A token from another browser's login form does not fit this browser's nonce.
    other_form = csrf_of(await notifications.client.get("/login"))
    notifications.client.cookies.clear()
    await notifications.client.get("/login")
    assert (await notifications.client.post("/login", data={"token": token, "csrf": other_form})).status_code == 403

    csrf = await log_in(notifications, "koord-logout")
    kept = await notifications.client.post("/logout", data={"csrf": "forkert"})
    assert kept.status_code == 303 and "fejl=" in kept.headers["location"]
    assert (await notifications.client.get("/")).status_code == 200  # still logged in
    out = await notifications.client.post("/logout", data={"csrf": csrf})
    assert out.headers["location"].startswith("/login") and SESSION not in notifications.client.cookies
    assert (await notifications.client.get("/")).headers["location"] == "/login"


async def test_every_state_changing_page_route_refuses_a_request_without_csrf(notifications):
    """Walks the service's routes: a new page form without a CSRF check fails this test."""
    routes = [route for router in notifications.app.state.spec.routers for route in router.routes]
    unsafe = [route for route in routes if isinstance(route, APIRoute)
              and not is_json_api_path(route.path) and route.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert {r.path for r in unsafe} >= {"/login", "/login/demo", "/logout", "/opgaver/{task_id}/{action}"}
    for route in unsafe:
        await log_in(notifications, "koord-csrf")
        task_id = await open_task(notifications)
        path = route.path.replace("{task_id}", str(task_id)).replace("{action}", "tag")
        data = {"token": notifications.token("coordinator", "koord-anden", botilbud="orion"), "sub": "orion-koordinator-1",
                "csrf": "forfalsket"}
        for method in route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            response = await notifications.client.request(method, path, data=data)
            refused = response.status_code == 403 or (response.status_code == 303 and "fejl=" in response.headers["location"])
            assert refused, (method, route.path, response.status_code, response.headers.get("location"))
        page = await notifications.client.get("/")
        assert page.status_code == 200 and "koord-csrf" in page.text, route.path  # still the same person
        assert "Taget" not in (await notifications.client.get("/fragmenter/arbejdsko")).text
    notifications.client.cookies.clear()


async def test_a_page_session_is_honoured_only_by_the_service_that_issued_it(notifications, referrals):
    from tovholder.page_sessions import PageSessions

    token = notifications.token("coordinator", "koord-scope", botilbud="orion")
    # The same kind of cookie, made with referrals' key and name, then offered to notifications.
    from starlette.responses import Response

    made_elsewhere = Response()
    PageSessions(referrals.settings, referrals.ctx.verifier).start(made_elsewhere, token)
    value = made_elsewhere.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    notifications.client.cookies.clear()
    for name in (SESSION, "tovholder_session_referrals"):
        notifications.client.cookies.set(name, value)
        assert (await notifications.client.get("/")).headers.get("location") == "/login", name
        notifications.client.cookies.clear()
    # A raw bearer token in the cookie is no session either.
    notifications.client.cookies.set(SESSION, token)
    assert (await notifications.client.get("/")).headers.get("location") == "/login"
    notifications.client.cookies.clear()
