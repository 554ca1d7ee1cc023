"""The copy of the citizen's consents that a consuming service keeps from plans' events.

Plans holds the consent registry. Health (partner documents, hospital stays read through FHIR),
referrals (which partner may read the ``Patient``) and notifications (the delivery gate) each keep a
read model of it, so that their decisions never wait on plans. One table shape, one way to keep it
and one way to read it for the kit's one decision (``tovholder.consent.decide``) — here, not three
times:

    class ConsentRecord(ConsentReadModel, Base): ...        # the service's models.py
    events.include(consent_events(ConsentRecord))           # the service's handlers.py
    await consents(uow.session, ConsentRecord, citizen_id)  # its repository

The events may arrive in any order and any number of times (another partition, a replay): a grant
never clears a revocation already kept, and the earliest revocation wins, so a late or replayed event
can never make a consent last longer.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, func, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from contracts.plans import ConsentGivenV1, ConsentRevokedV1
from tovholder.consent import Consent, Recipient
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork


class ConsentReadModel:
    """The columns of a service's consent read model (a declarative mixin: the service's own ``Base``
    makes it a table, ``consent_record``, in the service's own database)."""

    __tablename__ = "consent_record"

    consent_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))  # "organisation" or "group" (plans' RecipientKind)
    recipient_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    given_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


async def keep(session: AsyncSession, table: type[ConsentReadModel], event: ConsentGivenV1 | ConsentRevokedV1) -> None:
    """Plans' ``consent-given`` / ``consent-revoked`` applied to ``table``, in one statement."""
    values = {"citizen_id": event.citizen_id, "recipient_kind": str(event.recipient_kind),
              "recipient_id": event.recipient_id, "category": str(event.category), "given_at": event.given_at}
    revoked_at = getattr(event, "revoked_at", None)
    statement = insert(table).values(consent_id=event.consent_id, revoked_at=revoked_at, **values)
    if revoked_at is None:
        on_conflict = values  # the revocation a row may already hold stays
    else:  # LEAST ignores NULL: the first revocation kept, or this one
        on_conflict = {"revoked_at": func.least(table.revoked_at, statement.excluded.revoked_at)}
    await session.execute(statement.on_conflict_do_update(index_elements=[table.consent_id], set_=on_conflict))


def consent_of(row: ConsentReadModel) -> Consent:
    """A row of the read model as the kit's consent decision reads it."""
    return Consent(str(row.consent_id), Recipient(row.recipient_kind, row.recipient_id), row.category, row.given_at,
                   row.revoked_at)


async def consents(session: AsyncSession, table: type[ConsentReadModel], citizen_id: uuid.UUID) -> list[Consent]:
    """The citizen's consents (never another citizen's), for ``tovholder.consent.decide``."""
    rows = (await session.execute(select(table).where(table.citizen_id == citizen_id))).scalars()
    return [consent_of(row) for row in rows]


def consent_events(table: type[ConsentReadModel]) -> EventRouter:
    """The handlers that keep ``table``: a service includes them in its own router."""
    events = EventRouter()

    @events.handles(ConsentGivenV1, ConsentRevokedV1)
    async def keep_the_citizens_consent(event: ConsentGivenV1 | ConsentRevokedV1, meta: EventMeta,
                                        uow: UnitOfWork) -> None:
        await keep(uow.session, table, event)

    return events
