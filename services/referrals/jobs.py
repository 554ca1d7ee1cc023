"""Referrals' background job: turn due follow-ups into FollowUpDue events (tasks for visitation)."""

from __future__ import annotations

import asyncio
import logging

from services.referrals.services import signal_due_follow_ups, today
from tovholder.service import ServiceContext

log = logging.getLogger(__name__)

SCAN_INTERVAL_S = 3600


async def follow_up_scheduler(ctx: ServiceContext) -> None:
    await ctx.kafka_started.wait()
    while True:
        async with ctx.uow() as uow:
            signalled = await signal_due_follow_ups(uow, today())
        if signalled:
            log.info("signalled %d due follow-ups", signalled)
        await asyncio.sleep(SCAN_INTERVAL_S)
