"""How many round trips to PostgreSQL a hospital notice costs health's intake, counted on a connection
of its own: the partner's request from the receipt flow to the commit, for a known citizen with a
record and for a CPR not known here. Each statement is a round trip, plus BEGIN and COMMIT."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from services.health.models import HospitalNotice, TimelineEntry, UnmatchedHospitalNotice
from services.health.services.hospital_notices import receive_hospital_notification
from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr
from tests.integration.health.test_health_hospital_notifications import notice
from tests.support import with_statements_counted
from tovholder.auth import Principal
from tovholder.db import AuditEntry, InboundMessage, OutboxMessage

pytestmark = pytest.mark.integration

PARTNER = Principal(sub="partner-pck", role="partner", org=PARTNER_ORG)
# The bound: a partner message in at most 5 round trips. BEGIN and COMMIT are two of them; the
# statements are the locks (message + person), one lookup (the earlier receipt, the person with their
# record and notices, or the sender's parked notices for an unknown CPR), then every row — the notice
# or its parked copy, outbox, audit, timeline, receipt — with the relay's wake-up in one.
ROUND_TRIPS = 5
STATEMENTS = ROUND_TRIPS - 2


async def intake(health, vault, body: dict) -> tuple[int, list[str]]:
    response, statements = await with_statements_counted(
        health.ctx.settings.database_url, "health",
        lambda uow: receive_hospital_notification(uow, PARTNER, json.dumps(body).encode(), vault=vault))
    return response.status_code, statements


async def test_a_notice_for_a_known_citizen_in_few_round_trips(health, kafka, vault):
    citizen_id, cpr = await known_citizen(health, kafka, vault)
    body = notice(cpr)
    status, statements = await intake(health, vault, body)
    assert status == 202
    assert len(statements) <= STATEMENTS, "\n".join(statements)
    async with health.ctx.sessions() as s:
        (row,) = (await s.execute(select(HospitalNotice).where(HospitalNotice.citizen_id == citizen_id))).scalars()
        assert str(row.message_id) == body["message_id"]
        assert (await s.execute(select(TimelineEntry).where(TimelineEntry.object_id == str(row.id)))).scalar_one()
        assert (await s.execute(select(AuditEntry).where(AuditEntry.object_id == str(row.id)))).scalar_one()
        assert (await s.execute(select(OutboxMessage).where(OutboxMessage.subject == str(citizen_id),
                                                            OutboxMessage.event_type.like("%hospital-notice-registered%")))
                ).scalar_one()
        receipt = await s.get(InboundMessage, (PARTNER_ORG, uuid.UUID(body["message_id"])))
        assert receipt is not None and receipt.status_code == 202

    # The same message again: the receipt it got, from the earlier row, nothing written.
    status, statements = await intake(health, vault, body)
    assert status == 202 and not any(s.lstrip().upper().startswith(("INSERT", "WITH")) for s in statements)


async def test_a_notice_about_an_unknown_cpr_in_as_few(health, vault):
    body = notice(new_cpr())
    status, statements = await intake(health, vault, body)
    assert status == 202
    assert len(statements) <= STATEMENTS, "\n".join(statements)
    async with health.ctx.sessions() as s:
        parked = (await s.execute(select(UnmatchedHospitalNotice).where(
            UnmatchedHospitalNotice.message_id == uuid.UUID(body["message_id"])))).scalar_one()
        assert parked.status == "open"
