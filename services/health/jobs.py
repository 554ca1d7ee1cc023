"""Health's background jobs: look for missed depot-medication visits every few minutes; forget MedCom
acknowledgements older than the duplicate window."""

from __future__ import annotations

import asyncio
import logging

from services.health.fhir.capability import Messaging
from services.health.services import detect_missed_depot_visits, forget_old_acknowledgements
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


def acknowledgement_pruning(messaging: Messaging, interval_s: float) -> BackgroundJob:
    """Every ``interval_s`` seconds, forget the acknowledgements older than the duplicate window."""

    async def acknowledgement_pruning(ctx: ServiceContext) -> None:
        while True:
            async with ctx.uow() as uow:
                forgotten = await forget_old_acknowledgements(uow, messaging.duplicate_window_s)
            if forgotten:
                log.info("forgot %d MedCom acknowledgements older than the duplicate window", forgotten)
            await asyncio.sleep(interval_s)

    return acknowledgement_pruning
