"""The citizen's pages in-process (issue 13): only a citizen sees them; every form needs its CSRF token;
Min log merges the services' logs newest first and names a service that is down; a refusal from a
service comes back as a Danish sentence on the page, and nothing changed."""

from __future__ import annotations

import re

import pytest

from services.plans import demo as plans_demo
from tests.integration.portal.conftest import portal_settings, run_portal
from tests.support import NoBroker, run_service
from tovholder.demo import demo_data

pytestmark = [pytest.mark.integration]
PAGES = ("/min-plan", "/min-sag", "/mit-netvaerk", "/mine-samtykker", "/min-fit", "/min-log")


async def test_the_citizens_pages_are_the_citizens_own(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        for path in PAGES:
            anonymous = await portal.client.get(path, follow_redirects=False)
            assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/logind?")
        await portal.sign_in("orion-koordinator-1")
        for path in PAGES:
            staff = await portal.client.get(path)
            assert staff.status_code == 403 and "Siden er for borgere" in staff.text, path
        forged = await portal.client.post("/mit-netvaerk/moede", data={"csrf": "x" * 40, "reason": "Møde"},
                                          follow_redirects=False)
        assert forged.status_code == 403


async def test_plan_log_and_refusals_with_plans_up_and_the_rest_down(pg, state_dir):
    citizen = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")
    async with run_service("plans", pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as plans:
        async with plans.ctx.uow() as uow:
            await plans_demo.seed(uow, demo_data())
        async with run_portal(portal_settings(pg, state_dir), apps={"plans": plans.app}) as portal:
            await portal.sign_in(citizen["citizen_id"])
            plan = await portal.client.get("/min-plan")
            assert plan.status_code == 200 and "»" in plan.text and "Det har jeg skrevet" in plan.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', plan.text).group(1)

            stale = await portal.client.post("/min-plan/syn", data={"csrf": "forældet", "text": "Hej"},
                                             follow_redirects=False)
            assert stale.status_code == 303 and "besked=forkert-formular" in stale.headers["location"]
            saved = await portal.client.post("/min-plan/syn", data={"csrf": csrf, "text": "Mit eget syn"},
                                             follow_redirects=False)
            assert saved.status_code == 303 and saved.headers["location"] == "/min-plan?besked=perspektiv-gemt"
            again = await portal.client.get(saved.headers["location"])
            assert "Tak. Dit syn er skrevet i planen." in again.text and "Mit eget syn" in again.text

            # A refusal from plans (an empty goal) is a Danish sentence on the page; nothing changed.
            empty = await portal.client.post("/min-plan/maal", data={"csrf": csrf, "text": "   "})
            assert empty.status_code == 422 and 'class="err"' in empty.text

            log = await portal.client.get("/min-log")
            assert log.status_code == 200
            for service in ("Visitation og sager", "Sundhed", "Opgaver og påmindelser"):
                assert f"{service} kan ikke nås lige nu" in log.text
            moments = re.findall(r"<strong>(\d\d\.\d\d\.\d{4} kl\. \d\d:\d\d)</strong>", log.text)
            assert moments and moments == sorted(moments, key=lambda m: (m[6:10], m[3:5], m[:2], m[-5:]), reverse=True)
            assert "Dig selv" in log.text and "Borgerens plan" in log.text
            only_plans = await portal.client.get("/min-log?tjeneste=plans&periode=7")
            assert "kan ikke nås" not in only_plans.text and "Dig selv" in only_plans.text
            others = await portal.client.get("/min-log?tjeneste=plans&mine=skjul")
            assert others.status_code == 200 and "Dig selv" not in others.text
            # Nonsense in the filters is ignored, not shown.
            odd = await portal.client.get("/min-log?tjeneste=<x>&periode=9999&foer=ikke-en-dato")
            assert odd.status_code == 200 and "&lt;x&gt;" not in odd.text
