"""How many round trips to PostgreSQL a partner's subscription costs, counted on a connection of its
own: from the receipt flow to the commit. Each statement is a round trip, plus BEGIN and COMMIT."""

from __future__ import annotations

import json
import uuid

import pytest
from services.notifications import models as m
from services.notifications import services as sl
from tests.support import with_statements_counted
from tovholder.auth import Principal

pytestmark = pytest.mark.integration

ORG = "SOR:5566778"
PARTNER = Principal(sub="partner-system", role="partner", org=ORG)
# The bound: a partner message in at most 5 round trips (BEGIN and COMMIT are two).
STATEMENTS = 5 - 2


async def test_a_subscription_in_few_round_trips(notifications):
    body = {"message_id": str(uuid.uuid4()), "callback_url": "http://127.0.0.1:9/hook",
            "event_types": ["tovholder.plans.follow-up-due.v1"], "secret": "s" * 32}
    response, statements = await with_statements_counted(
        notifications.ctx.settings.database_url, "notifications",
        lambda uow: sl.subscribe(uow, PARTNER, json.dumps(body).encode(), allow_loopback=True,
                                 box=notifications.ctx.secret_box()))
    assert response.status_code == 202, response.body
    assert len(statements) <= STATEMENTS, f"{len(statements)} statements:\n\n" + "\n\n".join(statements)
    subscription_id = uuid.UUID(json.loads(response.body)["subscription_id"])
    async with notifications.ctx.sessions() as s:
        stored = await s.get(m.Subscription, subscription_id)
    assert stored is not None and stored.partner_org == ORG and stored.active and stored.event_types == body["event_types"]
    assert stored.secret != body["secret"]  # encrypted at rest
