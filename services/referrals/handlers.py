"""Referrals' event handlers: typed on the contract, each calls one use case in
``services.referrals.services``. Visitation is where a citizen's pathway starts, so referrals consumes
little: who the citizen's tovholder is (health), for the placement's ``EpisodeOfCare``, and the citizen's
consents (plans), for which partner may read the ``Patient``.

The kit commits each handler's effect together with the inbox entry; handlers do not commit.
"""

from __future__ import annotations

from contracts.health import TovholderChosenV1
from services.referrals import services
from services.referrals.models import ConsentRecord
from tovholder.consent_read_model import consent_events
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork

events = EventRouter()
events.include(consent_events(ConsentRecord))  # the kit's consent read model: which partner may read the Patient


@events.handles(TovholderChosenV1)
async def keep_the_chosen_tovholder(event: TovholderChosenV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """The citizen chose (or changed) their nurse consultant as tovholder in health."""
    await services.follow_the_chosen_tovholder(uow, event, event_id=meta.event_id, at=meta.time)
