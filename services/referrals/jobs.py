"""Referrals' background job: turn due follow-ups into FollowUpDue events (tasks for visitation).

Each tick calls ``services.signal_due_follow_ups``; the interval comes from the service's settings
(``TOVHOLDER_REFERRALS_FOLLOW_UP_SCAN_INTERVAL_S``, see ``main.py``)."""

from __future__ import annotations

import asyncio
import logging

from services.referrals.services import signal_due_follow_ups, today
from tovholder.service import ServiceContext

log = logging.getLogger(__name__)

SCAN_INTERVAL_S = 3600.0


async def follow_up_scheduler(ctx: ServiceContext, *, interval_s: float = SCAN_INTERVAL_S) -> None:
    await ctx.kafka_started.wait()
    while True:
        async with ctx.uow() as uow:
            signalled = await signal_due_follow_ups(uow, today())
        if signalled:
            log.info("signalled %d due follow-ups", signalled)
        await asyncio.sleep(interval_s)
