"""The portal's Arbejdskø in real headless Chromium, on notifications over real HTTP: 60 tasks in the
coordinators' pool (two pages), the filters, a new task appearing without a reload (server-sent
events relayed by the portal), and a task claimed, started, given a status, released, claimed again
and completed with a note. Tasks are stored directly in notifications' database (how events become
tasks is tested in tests/integration/notifications)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tovholder.demo import staff_member
from tovholder.infra import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]
COORDINATOR = staff_member("orion-koordinator-1")


def store_tasks(settings, tasks) -> None:
    """Write tasks into notifications' database from a thread of its own (Playwright owns this loop)."""
    from services.notifications import repository as repo
    from services.notifications.main import NotificationsConfig
    from tovholder.db import create_engine, session_factory
    from tovholder.uow import UnitOfWork

    async def write() -> None:
        engine = create_engine(settings, pool_size=1)
        try:
            async with UnitOfWork(session_factory(engine), service="notifications") as uow:
                for task in tasks:
                    repo.save(uow, task, NotificationsConfig().escalation)
                await uow.commit()
        finally:
            await engine.dispose()

    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(errors, lambda: asyncio.run(write())))
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


def _capture(errors, run) -> None:
    try:
        run()
    except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
        errors.append(error)


@pytest.fixture
def stack(pg, state_dir):
    require_browser()
    from services.notifications.main import NotificationsConfig, build_spec
    from services.portal.main import PortalConfig, create_portal
    from tests.support import NoBroker, fresh_database, service_settings
    from tovholder.settings import Settings

    notifications_settings = service_settings("notifications", database_url=fresh_database(pg, "notifications"),
                                              kafka=NoBroker(), state_dir=state_dir)
    portal_settings = Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                               state_dir=state_dir, log_format="text")
    closed = {f"{name}_url": f"http://127.0.0.1:{free_port()}" for name in ("referrals", "plans", "health")}
    fast = NotificationsConfig(queue_stream_interval_s=0.3)
    with live_server(build_spec(fast), notifications_settings) as (notifications_url, _):
        config = PortalConfig(notifications_url=notifications_url, queue_poll_interval_s=600, **closed)
        with live_app(lambda: create_portal(config, portal_settings), name="portal") as (portal_url, _):
            yield portal_url, notifications_settings


def test_a_coordinator_works_the_queue_live_pages_filters_and_every_action(stack, tmp_path):
    from playwright.sync_api import expect

    from services.notifications.domain import tasks as d
    from tests.integration.notifications.test_work_queue_api import make_task

    portal_url, notifications_settings = stack

    def task(title, due_in_h, priority=d.Priority.ROUTINE):
        made = make_task(uuid.uuid4(), due_in_h=due_in_h, pool=d.Pool(d.Role.COORDINATOR, "orion"), botilbud="orion",
                         priority=priority, kind=d.TaskKind.PLAN_FOLLOW_UP)
        return made.__class__(**{**{f: getattr(made, f) for f in made.__dataclass_fields__}, "title": title})

    store_tasks(notifications_settings, [task(f"Opfølgning nr. {n:02d}", 24 + n,
                                              d.Priority.URGENT if n % 20 == 0 else d.Priority.ROUTINE)
                                         for n in range(60)])
    with portal_page() as page:
        demo_sign_in(page, portal_url, COORDINATOR, "Koordinator", then="/arbejdsko")
        expect(page.get_by_role("heading", name="Arbejdskø")).to_be_visible()
        tasks = page.locator("li.task")
        expect(tasks).to_have_count(50)
        check_page(page, "portal-arbejdsko", tmp_path)

        # Paging past 50, and back.
        page.get_by_role("link", name="Næste side").click()
        expect(tasks).to_have_count(10)
        expect(page.get_by_text("Opfølgning nr. 59")).to_be_visible()
        page.get_by_role("link", name="Første side").click()
        expect(tasks).to_have_count(50)

        # Filters: priority.
        page.get_by_label("Prioritet").select_option(label="Haster")
        page.get_by_role("button", name="Vis").click()
        expect(tasks).to_have_count(3)
        page.get_by_role("link", name="Nulstil").click()

        # A new task arrives while the page is open: it appears without a reload.
        page.evaluate("window.__same_page = true")
        store_tasks(notifications_settings, [task("Indlagt i nat: ring til afdelingen", 1, d.Priority.URGENT)])
        new = page.locator("li.task", has_text="Indlagt i nat: ring til afdelingen")
        expect(new).to_be_visible(timeout=15_000)
        assert page.evaluate("window.__same_page") is True

        title = "Indlagt i nat: ring til afdelingen"
        page.get_by_role("button", name=f"Tag opgaven: {title}").click()
        expect(page.get_by_text("Du har taget opgaven.")).to_be_visible()
        expect(new).to_contain_text("Din opgave")
        page.get_by_role("button", name=f"Sæt i gang: {title}").click()
        expect(page.get_by_text("Opgaven er sat i gang.")).to_be_visible()
        expect(new).to_contain_text("I gang")
        new.get_by_label("Din status").fill("Venter på opkald")
        page.get_by_role("button", name=f"Gem status: {title}").click()
        expect(new).to_contain_text("(Venter på opkald)")
        page.get_by_role("button", name=f"Læg tilbage: {title}").click()
        expect(page.get_by_text("Opgaven er lagt tilbage i puljen.")).to_be_visible()
        expect(new).to_contain_text("Ledig hos Koordinatorerne")
        page.get_by_role("button", name=f"Tag opgaven: {title}").click()
        new.get_by_label("Note (valgfri)").fill("Talt med afdelingen; besøg aftalt.")
        page.get_by_role("button", name=f"Marker som udført: {title}").click()
        expect(page.get_by_text("Opgaven er udført.")).to_be_visible()
        expect(new).to_have_count(0)
        check_page(page, "portal-arbejdsko-efter-udfoert", tmp_path)
