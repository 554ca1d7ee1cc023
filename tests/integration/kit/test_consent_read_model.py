"""The kit's consent read model on real PostgreSQL, in the tables of the three services that keep one:
plans' consent events applied in every order and more than once come to the same consent, the earliest
revocation wins, a grant never clears a revocation, and a citizen's read never returns another's."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from contracts.plans import ConsentGivenV1, ConsentRevokedV1
from services.health.models import ConsentRecord as HealthConsent
from services.notifications.models import ConsentRecord as NotificationsConsent
from services.referrals.models import ConsentRecord as ReferralsConsent
from tests.support import fresh_database
from tovholder.consent import Recipient
from tovholder.consent_read_model import consents, keep

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
ORG = "SOR:1234567"
TABLES = {"health": HealthConsent, "referrals": ReferralsConsent, "notifications": NotificationsConsent}


def events(citizen_id: uuid.UUID, consent_id: uuid.UUID):
    common = dict(citizen_id=citizen_id, consent_id=consent_id, recipient_kind="organisation", recipient_id=ORG,
                  category="health", given_at=AT, recorded_by="visitation-1")
    return [ConsentGivenV1(**common),
            ConsentRevokedV1(**common, revoked_at=AT + timedelta(days=2)),
            ConsentRevokedV1(**common, revoked_at=AT + timedelta(days=5))]  # a later, second revocation


@pytest.mark.parametrize("service", sorted(TABLES))
async def test_every_order_and_every_replay_keeps_the_same_consent(pg, service):
    table = TABLES[service]
    engine = create_async_engine(fresh_database(pg, service))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    citizen, neighbour = uuid.uuid4(), uuid.uuid4()
    try:
        for order in itertools.permutations(range(3)):
            consent_id = uuid.uuid4()
            stream = events(citizen, consent_id)
            async with sessions() as session, session.begin():
                for index in order + order:  # each event twice: a redelivery has no second effect
                    await keep(session, table, stream[index])
            async with sessions() as session:
                kept = [c for c in await consents(session, table, citizen) if c.consent_id == str(consent_id)]
            assert len(kept) == 1, order
            (consent,) = kept
            assert consent.recipient == Recipient.organisation(ORG) and consent.category == "health", order
            assert consent.given_at == AT, order
            # The first revocation, whatever arrived last; a grant arriving after it did not clear it.
            assert consent.revoked_at == AT + timedelta(days=2), order
            assert consent.in_force(AT + timedelta(days=1)) and not consent.in_force(AT + timedelta(days=2)), order

        async with sessions() as session, session.begin():
            await keep(session, table, events(neighbour, uuid.uuid4())[0])
        async with sessions() as session:
            assert len(await consents(session, table, citizen)) == 6
            (only,) = await consents(session, table, neighbour)
            assert only.revoked_at is None
    finally:
        await engine.dispose()
