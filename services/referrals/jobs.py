"""Referrals' background job: turn due follow-ups into FollowUpDue events and drifting temporary stays
into TemporaryStayDrifting events (both become tasks for visitation).

Each tick calls ``services.signal_due_follow_ups`` and ``services.signal_drifting_stays``; the interval
and the drift rules come from the service's settings (``TOVHOLDER_REFERRALS_*``, see ``main.py``)."""

from __future__ import annotations

import asyncio
import logging

from services.referrals.domain.clocks import VisitationRules
from services.referrals.services import signal_drifting_stays, signal_due_follow_ups, today
from tovholder.service import ServiceContext

log = logging.getLogger(__name__)

SCAN_INTERVAL_S = 3600.0


async def follow_up_scheduler(ctx: ServiceContext, *, interval_s: float = SCAN_INTERVAL_S,
                              rules: VisitationRules | None = None) -> None:
    await ctx.kafka_started.wait()
    rules = rules or VisitationRules()
    while True:
        async with ctx.uow() as uow:
            signalled = await signal_due_follow_ups(uow, today())
        if signalled:
            log.info("signalled %d due follow-ups", signalled)
        async with ctx.uow() as uow:
            drifting = await signal_drifting_stays(uow, today(), rules)
        if drifting:
            log.info("signalled %d drifting temporary stays", drifting)
        await asyncio.sleep(interval_s)
