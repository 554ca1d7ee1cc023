"""The due-follow-up scheduler: announces each plan and goal follow-up once, on the day it is due.

Runs as a background job in every plans replica; ``FOR UPDATE SKIP LOCKED`` lets replicas share the
work without announcing twice, and ``announced_for`` makes a rerun after a crash harmless.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import date

from sqlalchemy import select

from tovholder.uow import UnitOfWork
from services.plans.domain.followup import to_announce
from services.plans.models import FollowUpScheduleRow, Plan
from services.plans.store import announce, as_schedule, local_today, network_of

log = logging.getLogger(__name__)

INTERVAL_S = float(os.environ.get("TOVHOLDER_PLANS_FOLLOW_UP_INTERVAL_S", "30"))
BATCH = 200


async def announce_due_follow_ups(uow: UnitOfWork, *, today: date, limit: int = BATCH) -> int:
    """Emit FollowUpDueV1 for every due, not yet announced follow-up (up to ``limit``). Commits."""
    rows = list((await uow.session.execute(
        select(FollowUpScheduleRow)
        .where(FollowUpScheduleRow.active, FollowUpScheduleRow.due_on <= today)
        .where((FollowUpScheduleRow.announced_for.is_(None)) | (FollowUpScheduleRow.announced_for != FollowUpScheduleRow.due_on))
        .order_by(FollowUpScheduleRow.due_on)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )).scalars())
    by_subject = {r.subject_id: r for r in rows}
    due = to_announce([as_schedule(r) for r in rows], today)
    botilbud: dict = {}
    owners: dict = {}  # one network lookup per citizen per round
    for item in due:
        row = by_subject[item.subject_id]
        if row.plan_id not in botilbud:
            plan = await uow.session.get(Plan, row.plan_id)
            botilbud[row.plan_id] = plan.botilbud_id if plan else None
        if row.assignee is None and row.citizen_id not in owners:
            owners[row.citizen_id] = (await network_of(uow, row.citizen_id)).follow_up_owner()
        announce(uow, row, assignee=row.assignee or owners.get(row.citizen_id), botilbud_id=botilbud[row.plan_id])
    await uow.commit()
    return len(due)


async def follow_up_scheduler(ctx) -> None:
    """Background job (ServiceSpec.background): check every INTERVAL_S seconds."""
    while True:
        try:
            while True:
                async with ctx.uow() as uow:
                    count = await announce_due_follow_ups(uow, today=local_today())
                if count:
                    log.info("announced %d due follow-up(s)", count)
                if count < BATCH:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database may be down; try again next round rather than stop scheduling.
            log.warning("follow-up scheduler round failed", exc_info=True)
        await asyncio.sleep(INTERVAL_S)
