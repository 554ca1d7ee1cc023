"""The demo citizens have the case that placed them (services/referrals/demo.py): Min sag shows a real
placement — the botilbud, the legal basis, the decision with its reason, the move-in and the next
follow-up — not "ingen sager"; the seed stays idempotent."""

from __future__ import annotations

import html
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from services.portal import services as portal_services
from services.referrals import demo as referrals_demo
from services.referrals.models import Referral
from tests.integration.portal.conftest import portal_settings, run_portal
from tests.support import NoBroker, run_service
from tovholder import clock
from tovholder.demo import demo_data
from tovholder.uow import UnitOfWork

pytestmark = [pytest.mark.integration]


async def test_every_demo_citizen_has_the_case_that_placed_them_and_min_sag_shows_it(pg, state_dir):
    data = demo_data()
    async with run_service("referrals", pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as referrals:
        for _ in range(2):  # idempotent
            async with UnitOfWork(referrals.ctx.sessions, service="referrals") as uow:
                await referrals_demo.seed(uow, data, referrals.ctx.cpr_vault())
        async with referrals.ctx.sessions() as s:
            rows = {r.citizen_id: r for r in await s.scalars(select(Referral))}
            count = await s.scalar(select(func.count()).select_from(Referral))
        assert count == len(data["citizens"]) == len(rows)
        today = clock.local_date(clock.now())
        for c in data["citizens"]:
            row = rows[uuid.UUID(c["citizen_id"])]
            assert (row.status, row.decision, row.botilbud_id) == ("placed", "granted", c["botilbud"]), c["name"]
            assert row.legal_basis == c["legal_basis"] and row.moved_in_on == date.fromisoformat(c["moved_in_on"])
            assert row.follow_up_date > today and row.received_at.date() < row.moved_in_on

        citizen = next(c for c in data["citizens"] if c["botilbud"] == "orion")
        portal_services._BOTILBUD_NAMES.clear()  # the portal keeps offer names a few minutes; an earlier test's are not these
        async with run_portal(portal_settings(pg, state_dir), apps={"referrals": referrals.app}) as portal:
            await portal.sign_in(citizen["citizen_id"])
            page = await portal.client.get("/min-sag")
            text = html.unescape(page.text)
            assert page.status_code == 200 and "ingen sager" not in text, text
            moved = date.fromisoformat(citizen["moved_in_on"]).strftime("%d.%m.%Y")
            main = text[text.index("<main"):]
            assert "Du bor nu i dit tilbud" in main and "<dt>Tilbud</dt><dd>Orion</dd>" in main, main
            assert "SEL §108 (serviceloven)" in text and "Bevilget den" in text and "Orions døgnstøtte" in text
            assert f"<dt>Flyttet ind</dt><dd>{moved}</dd>" in text and "Næste opfølgning" in text
            assert "Henvisning modtaget" in text and "Sådan klager du" in text
