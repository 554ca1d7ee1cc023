"""Health's background job: look for missed depot-medication visits every few minutes."""

from __future__ import annotations

import asyncio
import logging

from services.health.services import detect_missed_depot_visits
from tovholder.service import BackgroundJob, ServiceContext

log = logging.getLogger(__name__)


def depot_watch(interval_s: float) -> BackgroundJob:
    """The job, scanning every ``interval_s`` seconds (``HealthSettings.depot_scan_interval_s``)."""

    async def depot_watch(ctx: ServiceContext) -> None:
        while True:
            async with ctx.uow() as uow:
                raised = await detect_missed_depot_visits(uow)
            if raised:
                log.info("raised %d missed depot-visit alerts", raised)
            await asyncio.sleep(interval_s)

    return depot_watch
