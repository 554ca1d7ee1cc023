"""Referrals' SQL: the statements the use cases in ``services.py`` (and the case lists) need.

``cases_within`` is the case scope as a WHERE clause: the same limits ``domain.access.view_of``
applies to one case, so a list never holds a case its single read would refuse.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, false, or_, select, true

from services.referrals.domain import model as dm
from services.referrals.models import Referral
from tovholder.scopes import Scope
from tovholder.uow import UnitOfWork


def cases_within(scope: Scope) -> ColumnElement[bool]:
    """The cases ``scope`` reaches (mirrors ``view_of``: visitation by municipality, coordinators by
    botilbud, partners by what they sent, citizens their own)."""
    if scope.role == "visitation":
        if scope.only_municipality is None:
            return true()
        own = Referral.municipality == scope.only_municipality
        # A case that names no municipality belongs to the one this installation serves.
        return or_(own, Referral.municipality.is_(None)) if scope.sees_records_without_municipality else own
    if scope.role == "coordinator":
        return Referral.botilbud_id == scope.botilbud if scope.botilbud else false()
    if scope.role == "partner":
        if not scope.org:
            return false()
        return (Referral.channel == dm.Channel.PARTNER.value) & (Referral.referrer_org == scope.org)
    if scope.role == "citizen" and scope.citizen_id:
        try:
            return Referral.citizen_id == uuid.UUID(scope.citizen_id)
        except ValueError:  # a citizen's sub is their citizen id; anything else reaches no case
            return false()
    return false()


async def placements_to_signal(uow: UnitOfWork, horizon: date, *, batch: int) -> list[Referral]:
    """Placements whose follow-up falls on or before ``horizon`` and has not been signalled for that
    date; locked (skipping rows another scan holds) until the transaction ends. Only rows the domain
    reads as a placement (a granted offer and a move-in): others would fill every batch unsignalled."""
    return list((await uow.session.execute(
        select(Referral).where(
            Referral.status == dm.CaseStatus.PLACED.value, Referral.follow_up_date <= horizon,
            Referral.follow_up_signalled_for.is_(None) | (Referral.follow_up_signalled_for != Referral.follow_up_date),
            Referral.decision == "granted", Referral.offer_id.is_not(None), Referral.legal_basis.is_not(None),
            Referral.moved_in_on.is_not(None),
        ).order_by(Referral.follow_up_date).limit(batch).with_for_update(skip_locked=True)
    )).scalars())
