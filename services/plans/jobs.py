"""Plans' background job: announce each plan and goal follow-up once, on the day it is due.

Runs in every plans replica; each round calls ``services.announce_due_follow_ups`` until less than a
batch is left, then sleeps for the interval from the service's settings.
"""

from __future__ import annotations

import asyncio
import logging

from tovholder.service import ServiceContext
from services.plans import services

log = logging.getLogger(__name__)


async def follow_up_scheduler(ctx: ServiceContext, *, interval_s: float) -> None:
    """Background job (ServiceSpec.background): check every ``interval_s`` seconds."""
    while True:
        try:
            while True:
                async with ctx.uow() as uow:
                    count = await services.announce_due_follow_ups(uow, today=services.local_today())
                if count:
                    log.info("announced %d due follow-up(s)", count)
                if count < services.ANNOUNCE_BATCH:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database may be down; try again next round rather than stop scheduling.
            log.warning("follow-up scheduler round failed", exc_info=True)
        await asyncio.sleep(interval_s)
