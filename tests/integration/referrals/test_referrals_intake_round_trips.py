"""How many round trips to PostgreSQL a partner's referral costs referrals' intake, counted on a
connection of its own: from the receipt flow to the commit, for a person not known here (a new citizen
and a new case) and for one known with an open case (the referral joins it). Each statement is a round
trip, plus BEGIN and COMMIT."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from services.referrals import services
from services.referrals.models import Citizen, Referral, ReferralAddition
from tests.integration.referrals.conftest import partner_message
from tests.support import with_statements_counted
from tovholder.auth import Principal
from tovholder.db import AuditEntry, InboundMessage, OutboxMessage

pytestmark = pytest.mark.integration

ORG = "SOR:1234567"
PARTNER = Principal(sub="pck-system", role="partner", org=ORG)
# The bound: a partner message in at most 5 round trips (BEGIN and COMMIT are two).
ROUND_TRIPS = 5
STATEMENTS = ROUND_TRIPS - 2


async def intake(referrals, body: dict) -> tuple[int, dict, list[str]]:
    response, statements = await with_statements_counted(
        referrals.ctx.settings.database_url, "referrals",
        lambda uow: services.receive_partner_referral(uow, PARTNER, json.dumps(body).encode(), ctx=referrals.ctx))
    return response.status_code, json.loads(response.body), statements


async def test_a_referral_for_a_new_person_in_few_round_trips(referrals):
    body = partner_message(cpr="2403854321")
    status, receipt, statements = await intake(referrals, body)
    assert status == 202, receipt
    assert len(statements) <= STATEMENTS, "\n\n".join(statements)
    referral_id = uuid.UUID(receipt["referral_id"])
    async with referrals.ctx.sessions() as s:
        row = await s.get(Referral, referral_id)
        assert row is not None and row.status == "received"
        assert await s.get(Citizen, row.citizen_id) is not None
        assert (await s.execute(select(AuditEntry).where(AuditEntry.object_id == str(referral_id)))).scalar_one()
        types = set((await s.execute(select(OutboxMessage.event_type).where(
            OutboxMessage.subject == str(row.citizen_id)))).scalars())
        assert {"tovholder.referrals.citizen-registered.v1", "tovholder.referrals.referral-received.v1"} <= types
        assert (await s.get(InboundMessage, (ORG, uuid.UUID(body["message_id"])))).status_code == 202

    # The same message again: its receipt from the earlier row, nothing written.
    status, again, statements = await intake(referrals, body)
    assert status == 202 and again == receipt
    assert not any(s.lstrip().upper().startswith(("INSERT", "WITH", "UPDATE")) for s in statements)


async def test_a_referral_joining_an_open_case_in_as_few(referrals):
    first = partner_message(cpr="2503854321")
    status, receipt, _ = await intake(referrals, first)
    assert status == 202
    status, joined, statements = await intake(referrals, partner_message(cpr="2503854321", reason="Ny henvisning"))
    assert status == 202 and joined["referral_id"] == receipt["referral_id"]
    assert len(statements) <= STATEMENTS, "\n\n".join(statements)
    async with referrals.ctx.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ReferralAddition).where(
            ReferralAddition.referral_id == uuid.UUID(receipt["referral_id"]))) >= 1
