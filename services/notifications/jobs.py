"""Background jobs: the scheduler (reminders, escalation, overdue flags) and the partner delivery
worker (consent gate, signed CloudEvents, exponential backoff, dead letter, delivery log).

Both are safe to run in several replicas: rows are taken with ``FOR UPDATE SKIP LOCKED``, and the
delivery worker leases due deliveries so that the HTTP call happens outside any transaction."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications import webhooks
from services.notifications.main import NotificationsConfig
from services.notifications.domain import consent as consent_rules
from services.notifications.domain import delivery as dlv
from services.notifications.domain import tasks as d
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.scheduling import sweep
from services.notifications.handlers import emit_task_events
from tovholder.consent import refused
from tovholder.secretbox import SecretBox
from tovholder.service import ServiceContext
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)
SERVICE = "notifications"


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- scheduler


@dataclass
class SweepCounts:
    looked_at: int = 0
    escalated: int = 0
    overdue: int = 0
    reminders: int = 0


def _notice_for(task: d.Task, kind: str, text: str) -> m.StaffNotice:
    if task.owner_sub:
        return m.StaffNotice(task_id=task.task_id, citizen_id=task.citizen_id, recipient=task.owner_sub, kind=kind, text=text)
    pool = task.pool
    return m.StaffNotice(task_id=task.task_id, citizen_id=task.citizen_id, kind=kind, text=text,
                         pool_role=pool.role.value if pool else None, pool_botilbud=pool.botilbud_id if pool else None)


async def sweep_once(sessions: async_sessionmaker[AsyncSession], config: NotificationsConfig,
                     now: datetime | None = None) -> SweepCounts:
    """One pass over the tasks whose ``next_check_at`` has come."""
    now = now or _now()
    policy = config.escalation
    counts = SweepCounts()
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        rows = (await uow.session.execute(
            select(m.Task).where(m.Task.next_check_at <= now).order_by(m.Task.next_check_at)
            .limit(config.sweep_batch_size).with_for_update(skip_locked=True)
        )).scalars().all()
        if not rows:
            return counts
        by_id = {row.id: row for row in rows}
        before = {row.id: repo.to_domain(row) for row in rows}
        result = sweep(before.values(), now, policy)
        for task in result.changed:
            repo.save(uow.session, task, policy, row=by_id[task.task_id])
            emit_task_events(uow, before[task.task_id], task)
            if task.task_id in result.escalated:
                uow.session.add(_notice_for(task, "escalation", f"Eskaleret (ikke taget i tide): {task.title}"[:300]))
            if task.task_id in result.flagged_overdue:
                uow.session.add(_notice_for(task, "overdue", f"Overskredet: {task.title}"[:300]))
        for task, reminder in result.reminders:
            uow.session.add(_notice_for(task, "reminder", f"{reminder.label}: {task.title}"[:300]))
        changed_ids = {task.task_id for task in result.changed}
        for row in rows:
            if row.id not in changed_ids:
                # Nothing fired (e.g. the escalation delay was configured longer): move the check on.
                repo.write_row(row, before[row.id], policy)
            if row.next_check_at is not None and row.next_check_at <= now:
                row.next_check_at = None  # never spin on a moment that cannot fire
        await uow.commit()
        counts.looked_at = len(rows)
        counts.escalated = len(result.escalated)
        counts.overdue = len(result.flagged_overdue)
        counts.reminders = len(result.reminders)
    return counts


async def scheduler_job(ctx: ServiceContext, config: NotificationsConfig) -> None:
    while True:
        counts = await sweep_once(ctx.sessions, config)
        if counts.looked_at:
            log.info("scheduler: %s", counts)
        if counts.looked_at < config.sweep_batch_size:
            await asyncio.sleep(config.sweep_interval_s)


# ---------------------------------------------------------------- delivery


@dataclass
class Leased:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID


@dataclass
class DeliveryCounts:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    withheld: int = 0
    outcomes: list[str] = field(default_factory=list)


Sender = Callable[[webhooks.CallbackTarget, bytes, dict[str, str]], Awaitable[int]]


@dataclass(frozen=True)
class Outbound:
    """How deliveries leave: the callback host is resolved and checked before every attempt, and
    ``send`` POSTs to the checked address (``webhooks.post_pinned``)."""

    send: Sender
    allow_loopback: bool = False
    resolve: webhooks.Resolver = webhooks.system_resolver


def http_outbound(client: httpx.AsyncClient, *, allow_loopback: bool,
                  resolve: webhooks.Resolver = webhooks.system_resolver) -> Outbound:
    async def send(target: webhooks.CallbackTarget, body: bytes, headers: dict[str, str]) -> int:
        return await webhooks.post_pinned(client, target, body, headers)

    return Outbound(send, allow_loopback, resolve)


async def _lease(sessions: async_sessionmaker[AsyncSession], config: NotificationsConfig, now: datetime) -> list[Leased]:
    async with sessions() as session:
        rows = (await session.execute(
            select(m.Delivery).where(m.Delivery.status.in_(("pending", "retrying")), m.Delivery.next_attempt_at <= now)
            .order_by(m.Delivery.next_attempt_at).limit(config.delivery_batch_size).with_for_update(skip_locked=True)
        )).scalars().all()
        leased = []
        for row in rows:
            row.next_attempt_at = now + timedelta(seconds=config.delivery_lease_s)
            leased.append(Leased(row.id, row.subscription_id))
        await session.commit()
        return leased


async def _attempt(sessions: async_sessionmaker[AsyncSession], outbound: Outbound, config: NotificationsConfig,
                   box: SecretBox, leased: Leased) -> str:
    policy = config.backoff
    now = _now()
    # 1. The consent gate, right before sending; a refusal is recorded with its reason.
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        row = await uow.session.get(m.Delivery, leased.delivery_id, with_for_update=True)
        sub = await uow.session.get(m.Subscription, leased.subscription_id)
        if row is None or sub is None or row.status not in ("pending", "retrying"):
            return "skipped"
        envelope = json.loads(row.body)
        if not sub.active:
            decision = refused("the subscription was stopped")
        else:
            consents = [
                consent_rules.ConsentRecord(c.id, c.citizen_id, c.recipient_kind, c.recipient_id, c.category, c.given_at,
                                            c.revoked_at)
                for c in await repo.consents_for(uow.session, row.citizen_id)
            ]
            decision = consent_rules.decide(event_type=row.event_type, event_data=envelope.get("data") or {},
                                            citizen_id=row.citizen_id, partner_org=sub.partner_org,
                                            consents=consents, at=now)
        if not decision.allowed:
            repo.write_delivery(row, dlv.withhold(repo.delivery_to_domain(row), decision.reason, now))
            uow.session.add(m.DeliveryAttempt(delivery_id=row.id, at=now, outcome="withheld", error=decision.reason))
            uow.audit(None, "delivery.withheld", citizen_id=row.citizen_id, object_type="delivery", object_id=row.id,
                      detail={"org": sub.partner_org, "event_type": row.event_type, "reason": decision.reason})
            await uow.commit()
            return "withheld"
        body = row.body.encode()
        url, secret, org = sub.callback_url, box.decrypt(sub.secret), sub.partner_org
        event_id, event_type = row.event_id, row.event_type
    # 2. The HTTP call, outside any transaction (the lease keeps other workers away). The host is
    #    resolved and checked again now: what it resolved to at registration proves nothing today.
    attempted_at = _now()
    headers = {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        dlv.SIGNATURE_HEADER: dlv.sign(secret, body),
        # The delivery id is the webhook-id: the same on every retry and resend of this delivery.
        **dlv.standard_webhook_headers(secret, webhook_id=str(leased.delivery_id), body=body, at=attempted_at),
        "User-Agent": "Tovholder-Notifications/1",
        "X-Tovholder-Delivery": str(leased.delivery_id),
        "X-Tovholder-Event-Id": event_id,
    }
    started = time.perf_counter()
    try:
        target = await webhooks.resolve_callback(url, allow_loopback=outbound.allow_loopback, resolve=outbound.resolve)
        status_code = await outbound.send(target, body, headers)
        outcome = dlv.AttemptOutcome(at=_now(), status_code=status_code)
    except (webhooks.CallbackRefused, httpx.HTTPError) as error:
        outcome = dlv.AttemptOutcome(at=_now(), error=webhooks.failure_class(error))
    except InvalidInput:
        # Registered under older rules that no longer allow this URL.
        outcome = dlv.AttemptOutcome(at=_now(), error=webhooks.ADDRESS_NOT_ALLOWED)
    duration_ms = int((time.perf_counter() - started) * 1000)
    # 3. Record the attempt and what comes next (delivered, retry at, or dead letter).
    async with UnitOfWork(sessions, service=SERVICE) as uow:
        row = await uow.session.get(m.Delivery, leased.delivery_id, with_for_update=True)
        if row is None:
            return "skipped"
        after = dlv.record_attempt(repo.delivery_to_domain(row), outcome, policy, basis=decision.basis)
        repo.write_delivery(row, after)
        result = {dlv.DeliveryStatus.DELIVERED: "delivered", dlv.DeliveryStatus.DEAD: "dead"}.get(after.status, "failed")
        uow.session.add(m.DeliveryAttempt(delivery_id=row.id, at=outcome.at, outcome=result,
                                          status_code=outcome.status_code, error=outcome.error, duration_ms=duration_ms))
        if outcome.succeeded:
            # A disclosure of citizen data to a partner: audited with what allowed it.
            uow.audit(None, "delivery.sent", citizen_id=row.citizen_id, object_type="delivery", object_id=row.id,
                      detail={"org": org, "event_type": event_type, "basis": decision.basis})
        await uow.commit()
        return result


async def deliver_due(sessions: async_sessionmaker[AsyncSession], outbound: Outbound, config: NotificationsConfig,
                      box: SecretBox, now: datetime | None = None) -> DeliveryCounts:
    counts = DeliveryCounts()
    leased = await _lease(sessions, config, now or _now())
    if not leased:
        return counts
    results = await asyncio.gather(*(_attempt(sessions, outbound, config, box, item) for item in leased), return_exceptions=True)
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
            counts = await deliver_due(ctx.sessions, outbound, config, ctx.secret_box())
            if not counts.outcomes:
                await asyncio.sleep(config.delivery_poll_interval_s)
