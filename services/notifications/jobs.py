"""Background jobs: the scheduler (reminders, escalation, overdue flags) and the partner delivery
worker (consent gate, signed CloudEvents, exponential backoff, dead letter, delivery log). Each tick
calls the use cases in ``services.py``; the intervals and batch sizes are the service's settings
(``main.NotificationsConfig``).

Both are safe to run in several replicas: rows are taken with ``FOR UPDATE SKIP LOCKED``, and the
delivery worker leases due deliveries so that the HTTP call happens outside any transaction."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications import services as sl
from services.notifications import webhooks
from services.notifications.main import NotificationsConfig
from services.notifications.webhooks import Outbound, http_outbound
from tovholder.cpr import CprVault
from tovholder.secretbox import SecretBox
from tovholder.service import ServiceContext
from tovholder.uow import UnitOfWork

__all__ = ["DeliveryCounts", "Outbound", "deliver_due", "delivery_job", "http_outbound", "scheduler_job", "sweep_once"]

log = logging.getLogger(__name__)
SERVICE = "notifications"


# ---------------------------------------------------------------- scheduler


async def sweep_once(sessions: async_sessionmaker[AsyncSession], config: NotificationsConfig,
                     now: datetime | None = None) -> sl.SweepCounts:
    """One pass over the tasks whose ``next_check_at`` has come."""
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        return await sl.sweep_due_tasks(uow, config, now)


async def scheduler_job(ctx: ServiceContext, config: NotificationsConfig) -> None:
    while True:
        counts = await sweep_once(ctx.sessions, config)
        if counts.looked_at:
            log.info("scheduler: %s", counts)
        if counts.looked_at < config.sweep_batch_size:
            await asyncio.sleep(config.sweep_interval_s)


# ---------------------------------------------------------------- delivery


@dataclass
class DeliveryCounts:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    withheld: int = 0
    outcomes: list[str] = field(default_factory=list)


async def _attempt(sessions: async_sessionmaker[AsyncSession], outbound: Outbound, config: NotificationsConfig,
                   box: SecretBox, leased: sl.Leased, vault: CprVault | None = None) -> str:
    # 1. The consent gate, right before sending.
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        ready = await sl.gate_delivery(uow, leased, box, vault)
    if isinstance(ready, str):
        return ready
    # 2. The HTTP call, outside any transaction (the lease keeps other workers away).
    sent = await sl.send_delivery(outbound, ready)
    # 3. Record the attempt and what comes next (delivered, retry at, or dead letter).
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        return await sl.record_attempt(uow, config, ready, sent)


async def deliver_due(sessions: async_sessionmaker[AsyncSession], outbound: Outbound, config: NotificationsConfig,
                      box: SecretBox, now: datetime | None = None, vault: CprVault | None = None) -> DeliveryCounts:
    counts = DeliveryCounts()
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        leased = await sl.lease_deliveries(uow, config, now or sl.now_utc())
    if not leased:
        return counts
    results = await asyncio.gather(*(_attempt(sessions, outbound, config, box, item, vault) for item in leased), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            log.error("delivery attempt failed unexpectedly: %r", result)
            continue
        counts.outcomes.append(result)
        if result in ("delivered", "failed", "dead", "withheld"):
            setattr(counts, result, getattr(counts, result) + 1)
    return counts


async def delivery_job(ctx: ServiceContext, config: NotificationsConfig) -> None:
    async with webhooks.delivery_client(timeout_s=config.delivery_timeout_s) as client:
        outbound = http_outbound(client, allow_loopback=ctx.settings.webhook_allow_loopback)
        while True:
            counts = await deliver_due(ctx.sessions, outbound, config, ctx.secret_box(), vault=ctx.cpr_vault())
            if not counts.outcomes:
                await asyncio.sleep(config.delivery_poll_interval_s)
