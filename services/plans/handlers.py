"""Plans' event handlers."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select

from contracts.health import TovholderChosenV1
from contracts.plans import NetworkMemberAddedV1, NetworkMemberRemovedV1, PlanOpenedV1
from contracts.referrals import VisitationDecidedV1
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork
from services.plans.domain import network as network_rules
from services.plans.domain.errors import PlanRuleViolation
from services.plans.models import NetworkMemberRow, Plan
from services.plans.repository import as_network, network_rows, opening_version, version_row

log = logging.getLogger(__name__)
events = EventRouter()


@events.handles(VisitationDecidedV1)
async def open_plan_when_place_granted(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    if event.decision != "granted" or not event.botilbud_id:
        return
    existing = (await uow.session.execute(select(Plan).where(Plan.citizen_id == event.citizen_id))).scalar_one_or_none()
    if existing is not None:
        return
    opened_at = datetime.now(timezone.utc)
    plan = Plan(id=uuid.uuid4(), citizen_id=event.citizen_id, botilbud_id=event.botilbud_id, opened_at=opened_at,
                current_version=1)
    uow.session.add(plan)
    await uow.session.flush()
    uow.session.add(version_row(opening_version(plan)))
    uow.emit(PlanOpenedV1(citizen_id=event.citizen_id, plan_id=plan.id, botilbud_id=event.botilbud_id,
                          opened_at=opened_at))
    uow.audit(None, "plan.open", citizen_id=event.citizen_id, object_type="plan", object_id=plan.id,
              detail={"cause": meta.event_id})


@events.handles(TovholderChosenV1)
async def keep_the_chosen_tovholder_in_the_network(event: TovholderChosenV1, meta: EventMeta,
                                                   uow: UnitOfWork) -> None:
    """The citizen chose (or changed) their nurse consultant as tovholder in health: the network's
    nurse-consultant seat follows that choice. The previous nurse consultant leaves the network (the
    seat was theirs by that role); the chosen one joins it, or takes the seat if already a member."""
    plan = (await uow.session.execute(select(Plan).where(Plan.citizen_id == event.citizen_id))).scalar_one_or_none()
    if plan is None:
        return  # no plan yet: the network starts with the plan
    rows = await network_rows(uow, event.citizen_id, for_update=True)
    network = as_network(event.citizen_id, rows)
    chosen = event.nurse_consultant_sub
    current = network.tovholder
    if current is not None and current.staff_id == chosen:
        return
    leaving = [m.staff_id for m in network.members if m.staff_id == chosen or m is current]
    remaining = replace(network, members=tuple(m for m in network.members if m.staff_id not in leaving))
    at = datetime.now(timezone.utc)
    try:
        network_rules.add_member(remaining, staff_id=chosen, role=network_rules.NetworkRole.NURSE_CONSULTANT, at=at,
                                 basis=network_rules.ChangeBasis.CITIZEN_CHOICE)
    except PlanRuleViolation as exc:
        # A full network cannot take the tovholder; the citizen must choose whom to remove first.
        log.warning("tovholder not added to a citizen's network: %s", exc.message)
        uow.audit(None, "network.tovholder.not-added", citizen_id=event.citizen_id, object_type="network-member",
                  object_id=chosen, detail={"reason": exc.message, "cause": meta.event_id})
        return
    for staff_id in leaving:
        _end(uow, rows, plan, staff_id, at)
    await uow.session.flush()  # end the old memberships before the new one (one current row per staff)
    uow.session.add(NetworkMemberRow(citizen_id=event.citizen_id, staff_id=chosen,
                                     role=network_rules.NetworkRole.NURSE_CONSULTANT.value,
                                     basis=network_rules.ChangeBasis.CITIZEN_CHOICE.value, added_at=at,
                                     added_by="health:tovholder-chosen"))
    uow.emit(NetworkMemberAddedV1(citizen_id=event.citizen_id, staff_id=chosen,
                                  role=network_rules.NetworkRole.NURSE_CONSULTANT.value, added_at=at,
                                  basis=network_rules.ChangeBasis.CITIZEN_CHOICE.value, botilbud_id=plan.botilbud_id))
    uow.audit(None, "network.tovholder.chosen", citizen_id=event.citizen_id, object_type="network-member",
              object_id=chosen, detail={"cause": meta.event_id, "previous": current.staff_id if current else None})


def _end(uow: UnitOfWork, rows: list[NetworkMemberRow], plan: Plan, staff_id: str, at: datetime) -> None:
    row = next(r for r in rows if r.staff_id == staff_id and r.removed_at is None)
    row.removed_at, row.removed_by = at, "health:tovholder-chosen"
    uow.emit(NetworkMemberRemovedV1(citizen_id=plan.citizen_id, staff_id=staff_id, role=row.role, removed_at=at,
                                    botilbud_id=plan.botilbud_id))
