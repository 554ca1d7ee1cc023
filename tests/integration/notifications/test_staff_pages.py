"""Staff pages without a browser: login into a page session, CSRF on forms, access, Danish text."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.notifications import repository as repo
from services.notifications.domain import tasks as d
from .conftest import FAST

pytestmark = pytest.mark.integration


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page) -> str:
    """The CSRF token the page's forms carry."""
    return CSRF_FIELD.search(page.text).group(1)


async def login(svc, role="coordinator", sub="koord-p", botilbud="orion"):
    token = svc.token(role, sub, botilbud=botilbud)
    form = await svc.client.get("/login")
    response = await svc.client.post("/login", data={"token": token, "csrf": csrf_of(form)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    return token


async def test_pages_need_login_and_refuse_non_staff(notifications):
    notifications.client.cookies.clear()
    assert (await notifications.client.get("/")).headers["location"] == "/login"
    assert (await notifications.client.get("/fragmenter/arbejdsko")).status_code == 401
    page = await notifications.client.get("/login")
    assert page.status_code == 200 and 'lang="da"' in page.text and 'for="token"' in page.text
    bad = await notifications.client.post("/login", data={"token": "not-a-token", "csrf": csrf_of(page)})
    assert bad.status_code == 401 and "Log ind mislykkedes" in bad.text
    partner = await notifications.client.post("/login", data={"token": notifications.token("partner", "p", org="SOR:1"),
                                                              "csrf": csrf_of(page)})
    assert partner.status_code == 403


async def test_claim_from_the_page_needs_the_csrf_token(notifications):
    notifications.client.cookies.clear()
    await login(notifications)
    task = d.new_task(
        d.TaskSpec(kind=d.TaskKind.FIRST_NETWORK_MEETING, title="Første netværksmøde",
                   due_at=datetime.now(timezone.utc) + timedelta(days=3), pool=d.Pool(d.Role.COORDINATOR, "orion")),
        task_id=uuid.uuid4(), citizen_id=uuid.uuid4(), botilbud_id="orion", source_event_id="e", source_event_type="t",
        now=datetime.now(timezone.utc),
    )
    async with notifications.ctx.uow() as uow:
        repo.save(uow, task, FAST.escalation)
        await uow.commit()

    page = await notifications.client.get("/")
    assert "Min arbejdskø" in page.text and "Første netværksmøde" in page.text
    assert re.search(r'aria-label="Tag opgaven: Første netværksmøde"', page.text)
    csrf = csrf_of(page)

    forged = await notifications.client.post(f"/opgaver/{task.task_id}/tag", data={"csrf": "forkert"})
    assert forged.status_code == 303 and "fejl=" in forged.headers["location"]
    claimed = await notifications.client.post(f"/opgaver/{task.task_id}/tag", data={"csrf": csrf},
                                              headers={"referer": "http://notifications/?kind=first-network-meeting"})
    assert claimed.status_code == 303
    assert claimed.headers["location"].startswith("/?kind=first-network-meeting&besked=")
    fragment = await notifications.client.get("/fragmenter/arbejdsko")
    assert "Taget" in fragment.text and fragment.headers["X-Queue-Fingerprint"]
    done = await notifications.client.post(f"/opgaver/{task.task_id}/udfoer", data={"csrf": csrf})
    assert done.status_code == 303 and "besked=" in done.headers["location"]
    notifications.client.cookies.clear()


async def test_board_page_is_for_visitation_and_coordinators(notifications):
    notifications.client.cookies.clear()
    await login(notifications, role="nurse-consultant", sub="nurse-p")
    denied = await notifications.client.get("/visitation")
    assert denied.status_code == 403 and "Visitationstavlen" in denied.text
    notifications.client.cookies.clear()
    await login(notifications, role="visitation", sub="visit-p", botilbud=None)
    board = await notifications.client.get("/visitation")
    assert board.status_code == 200 and "Venteliste" in board.text
    notifications.client.cookies.clear()
