"""Min log (issue 13): nobody but the citizen reads it — staff and another citizen are refused through
the portal and through every service's own endpoint, and each refusal is audited (in the citizen's own
log where a citizen was named); and the merged pages give every entry once, also when many share one
moment across a page edge."""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from services.portal.services.citizen import LOG_PAGE
from tests.integration.portal.conftest import portal_settings, run_portal
from tests.support import NoBroker, run_service
from tovholder.db import AuditEntry
from tovholder.demo import demo_data

pytestmark = [pytest.mark.integration]
SERVICES = ("referrals", "plans", "health", "notifications")


def demo_citizen() -> dict:
    return next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")


@contextlib.asynccontextmanager
async def services_up(pg, state_dir, names=SERVICES):
    async with contextlib.AsyncExitStack() as stack:
        yield {name: await stack.enter_async_context(run_service(name, pg=pg, kafka=NoBroker(), state_dir=state_dir,
                                                                 wait=False, municipality="København"))
               for name in names}


async def actions_about(svc, citizen_id) -> list[tuple[str, str]]:
    async with svc.ctx.sessions() as s:
        rows = await s.execute(select(AuditEntry.actor_sub, AuditEntry.action).where(AuditEntry.citizen_id == citizen_id))
        return [tuple(r) for r in rows]


async def test_staff_and_other_citizens_are_refused_the_log_everywhere_and_it_is_on_record(pg, state_dir):
    citizen = demo_citizen()
    citizen_id = uuid.UUID(citizen["citizen_id"])
    intruders = {  # the citizen's own coordinator and tovholder too: the log is the citizen's alone
        "coordinator": {"role": "coordinator", "sub": "orion-koordinator-1", "botilbud": "orion"},
        "nurse-consultant": {"role": "nurse-consultant", "sub": citizen["tovholder_sub"], "botilbud": "orion"},
        "visitation": {"role": "visitation", "sub": "visitation-1", "municipality": "København"},
        "another citizen": {"role": "citizen", "sub": str(uuid.uuid4())},
    }
    async with services_up(pg, state_dir) as running:
        for name, svc in running.items():
            for who, claims in intruders.items():
                claims = dict(claims)
                headers = svc.auth(claims.pop("role"), claims.pop("sub"), **claims)
                refused = await svc.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=headers)
                assert refused.status_code == 403 and refused.json()["code"] == "forbidden", (name, who, refused.text)
                assert "entries" not in refused.json()
            on_record = {sub for sub, action in await actions_about(svc, citizen_id) if action == "access-log.refused"}
            assert on_record == {c["sub"] for c in intruders.values()}, name
            own = await svc.client.get(f"/api/v1/citizens/{citizen_id}/access-log",
                                       headers=svc.auth("citizen", str(citizen_id)))
            refusals = [e for e in own.json()["entries"] if e["action"] == "access-log.refused"]
            assert len(refusals) == len(intruders), name
            assert {e["category"] for e in refusals} == {"Min log"} and {e["purpose"] for e in refusals} == {"Adgang nægtet"}
            assert sorted(e["actor_role"] for e in refusals) == ["en anden borger", "koordinator", "sygeplejekonsulent",
                                                                 "visitationen"] and not any(e["mine"] for e in refusals)

        # Through the portal: Min log is the signed-in citizen's own page; staff get a Danish 403, on record.
        async with run_portal(portal_settings(pg, state_dir), apps={n: s.app for n, s in running.items()}) as portal:
            for sub in ("orion-koordinator-1", citizen["tovholder_sub"], "visitation-1"):
                portal.client.cookies.clear()  # a new person in the same browser
                await portal.sign_in(sub)
                page = await portal.client.get("/min-log")
                assert page.status_code == 403 and "Siden er for borgere" in page.text, sub
                # A citizen named in the address changes nothing: the page never reads anyone's log for staff.
                named = await portal.client.get(f"/min-log?borger={citizen_id}&citizen_id={citizen_id}")
                assert named.status_code == 403
            async with portal.app.state.ctx.sessions() as s:
                portal_refusals = list(await s.execute(select(AuditEntry.actor_sub, AuditEntry.detail["path"].astext)
                                                       .where(AuditEntry.action == "access-log.refused")))
            assert {sub for sub, _ in portal_refusals} == {"orion-koordinator-1", citizen["tovholder_sub"], "visitation-1"}
            assert {path for _, path in portal_refusals} == {"/min-log"}
            # …and no service was asked for the citizen's log on their behalf.
            for name, svc in running.items():
                reads = [a for sub, a in await actions_about(svc, citizen_id) if a == "access-log.read" and sub != str(citizen_id)]
                assert reads == [], name

            # A citizen signed in sees their own log only: the other citizen's refusal is in *this*
            # citizen's log (who was asked about), never a line of the other citizen's own data.
            portal.client.cookies.clear()
            await portal.sign_in(str(citizen_id))
            mine = await portal.client.get(f"/min-log?borger={uuid.uuid4()}")
            assert mine.status_code == 200 and "Min log" in mine.text and "Adgang nægtet" in mine.text


def names_on(page_html: str) -> list[str]:
    return re.findall(r"(Medarbejder [A-Z]\d\d)", html.unescape(page_html))


async def test_many_entries_of_one_moment_across_a_page_edge_are_each_shown_once(pg, state_dir):
    citizen = demo_citizen()
    citizen_id = uuid.UUID(citizen["citizen_id"])
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    per_service = LOG_PAGE + 5  # each service alone crosses a page edge at that one moment
    async with services_up(pg, state_dir, ("plans", "health")) as running:
        expected: set[str] = set()
        for letter, svc in zip("PH", running.values()):
            names = [f"Medarbejder {letter}{i:02d}" for i in range(per_service)]
            expected |= set(names)
            async with svc.ctx.sessions() as s:
                await s.execute(insert(AuditEntry), [
                    {"at": moment, "actor_sub": f"orion-{letter}{i}", "actor_role": "coordinator", "actor_name": name,
                     "action": "plan.read" if letter == "P" else "health_record.read", "citizen_id": citizen_id}
                    for i, name in enumerate(names)])
                await s.commit()
        async with run_portal(portal_settings(pg, state_dir), apps={n: s.app for n, s in running.items()}) as portal:
            await portal.sign_in(str(citizen_id))
            seen: list[str] = []
            path, pages = "/min-log?mine=skjul", 0
            while path and pages < 10:
                page = await portal.client.get(path)
                assert page.status_code == 200, page.text
                seen += names_on(page.text)
                more = re.search(r'<a href="(/min-log\?[^"]+)">Ældre</a>', page.text)
                path = html.unescape(more.group(1)) if more else None
                pages += 1
            assert pages >= 3  # 60 entries of one moment, 25 a page: two page edges inside that moment
            assert len(seen) == len(set(seen)), "an entry was shown twice"
            assert set(seen) == expected, f"skipped: {sorted(expected - set(seen))}"
