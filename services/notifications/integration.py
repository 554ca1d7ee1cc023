"""Outbound subscriptions for partners (spec §4): register a callback, read the delivery log, resend.

A partner sees and changes only its own organisation's subscriptions (the token's ``org``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from contracts.base import EVENT_REGISTRY
from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications import webhooks
from services.notifications.domain import consent as consent_rules
from services.notifications.domain import delivery as dlv
from services.notifications.domain.errors import InvalidInput, TransitionNotAllowed
from services.notifications.handlers import CONSUMED_PRODUCERS
from services.notifications.schemas import (
    DeliveriesOut,
    EventTypeOut,
    ResendIn,
    ResendOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionReceipt,
)
from tovholder.auth import PartnerUser, Principal
from tovholder.errors import DomainError, NotFound
from tovholder.receipts import FatalMessage, parse_body, receipt_body, receipt_response, receive_message
from tovholder.service import Ctx, UoW

integration = APIRouter(prefix="/integration/v1", tags=["partner subscriptions"])


def deliverable_event_types() -> frozenset[str]:
    consumed = [t for t, model in EVENT_REGISTRY.items() if model.topic.producer in CONSUMED_PRODUCERS]
    return consent_rules.deliverable(consumed)


class SubscriptionMessage(BaseModel):
    """Shape only; the rules (https, known event types, secret length) give their own reasons."""

    model_config = ConfigDict(extra="allow")
    message_id: uuid.UUID
    callback_url: Any = None
    event_types: Any = None
    secret: Any = None


def subscription_json(sub: m.Subscription) -> dict[str, Any]:
    return {
        "subscription_id": str(sub.id), "partner_org": sub.partner_org, "callback_url": sub.callback_url,
        "event_types": sub.event_types, "active": sub.active, "created_at": sub.created_at,
    }


@integration.post(
    "/subscriptions",
    status_code=202,
    response_model=SubscriptionReceipt,
    responses={422: {"model": SubscriptionReceipt, "description": "fatal-error: the reason says what to fix"},
               409: {"model": SubscriptionReceipt, "description": "fatal-error: the message_id was used for another body"},
               503: {"model": SubscriptionReceipt, "description": "transient-error: nothing stored; retry"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": SubscriptionIn.model_json_schema()}}}},
    summary="Register a callback URL for event types, with a shared secret for the signature",
    description=(
        "Body: `callback_url` (https to a public host; its host is resolved now and before every delivery, and every "
        "address must be public), `event_types` (a list of CloudEvents types, see `GET /integration/v1/event-types`), "
        "`secret` (≥ 32 characters) and optionally `message_id`. Answer: a receipt with `subscription_id`. Every "
        "delivery is a structured-JSON CloudEvent signed with `X-Tovholder-Signature: sha256=<hex HMAC-SHA256 of the "
        "body with the secret>` and the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and "
        "`webhook-signature` (`v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">`)."
    ),
)
async def subscribe(request: Request, partner: PartnerUser, uow: UoW, ctx: Ctx):
    # Read raw, like every partner endpoint: the kit's parser caps depth and refuses NUL, so a
    # hostile body gets a receipt instead of FastAPI's own parsing error.
    try:
        raw = parse_body(await request.body())
    except FatalMessage as exc:
        return receipt_response(422, receipt_body(None, "fatal-error", exc.reason))
    if isinstance(raw, dict) and raw.get("message_id") is None:
        raw = {**raw, "message_id": str(uuid.uuid4())}  # optional here: a subscription is not a clinical message

    async def process(uow, message: SubscriptionMessage) -> dict[str, Any]:
        if not partner.org:
            raise FatalMessage("the token carries no org; partner tokens must name the organisation (SOR code)", 422)
        payload = {k: v for k, v in raw.items() if k != "message_id"}
        allow_loopback = ctx.settings.webhook_allow_loopback
        try:
            request = dlv.validate_subscription(
                payload, allow_loopback=allow_loopback, deliverable_event_types=deliverable_event_types()
            )
            # Resolved now and again before every delivery (a name can change what it points at).
            await webhooks.resolve_callback(request.callback_url, allow_loopback=allow_loopback)
        except InvalidInput as error:
            raise FatalMessage(str(error), 422) from None
        except webhooks.CallbackRefused as refusal:
            raise FatalMessage(refusal.reason, 422) from None
        sub = m.Subscription(id=uuid.uuid4(), partner_org=partner.org, created_by=partner.sub,
                             callback_url=request.callback_url, event_types=list(request.event_types),
                             secret=ctx.secret_box().encrypt(request.secret), active=True)  # encrypted at rest
        uow.session.add(sub)
        uow.audit(partner, "subscription.create", object_type="subscription", object_id=sub.id,
                  detail={"event_types": list(request.event_types)})
        return {"subscription_id": str(sub.id), "event_types": list(request.event_types)}

    return await receive_message(uow, raw, SubscriptionMessage, endpoint="subscriptions", sender=partner, process=process)


@integration.get("/event-types", response_model=list[EventTypeOut], summary="The event types a partner may subscribe to, with their consent category")
async def event_types(partner: PartnerUser) -> list[dict[str, Any]]:
    # ``legal_basis_without_consent``: a provision naming *this* partner as recipient; otherwise every
    # delivery needs the citizen's consent for the category to the partner's organisation.
    return [
        {"type": t, "category": consent_rules.category_of(t),
         "legal_basis_without_consent": consent_rules.legal_basis_without_consent(t, partner.org or "")}
        for t in sorted(deliverable_event_types())
    ]


@integration.get("/subscriptions", response_model=list[SubscriptionOut], summary="My organisation's subscriptions")
async def list_subscriptions(partner: PartnerUser, uow: UoW) -> list[dict[str, Any]]:
    rows = (await uow.session.execute(
        select(m.Subscription).where(m.Subscription.partner_org == (partner.org or "")).order_by(m.Subscription.created_at)
    )).scalars().all()
    return [subscription_json(s) for s in rows]


async def _own_subscription(uow, partner: Principal, subscription_id: uuid.UUID, *, lock: bool = False) -> m.Subscription:
    sub = await uow.session.get(m.Subscription, subscription_id, with_for_update=lock)
    if sub is None or sub.partner_org != partner.org:
        raise NotFound("No subscription with that id for your organisation.")
    return sub


@integration.delete("/subscriptions/{subscription_id}", response_model=SubscriptionOut, summary="Stop a subscription (its delivery log is kept)")
async def stop_subscription(subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW) -> dict[str, Any]:
    sub = await _own_subscription(uow, partner, subscription_id, lock=True)
    sub.active = False
    uow.audit(partner, "subscription.stop", object_type="subscription", object_id=sub.id)
    await uow.commit()
    return subscription_json(sub)


def delivery_json(row: m.Delivery, attempts: list[m.DeliveryAttempt]) -> dict[str, Any]:
    return {
        "delivery_id": str(row.id), "event_id": row.event_id, "event_type": row.event_type,
        "status": row.status, "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error, "delivered_at": row.delivered_at, "dead_at": row.dead_at,
        # Why it was withheld or dead-lettered, and what allowed it (a consent or a legal basis).
        "reason": row.reason, "basis": row.basis, "created_at": row.created_at,
        "log": [
            {"at": a.at, "outcome": a.outcome, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
            for a in attempts
        ],
    }


@integration.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveriesOut, summary="Each delivery's status and attempt log")
async def deliveries(
    subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW,
    status: str | None = None, limit: int = Query(100, ge=1, le=500), before: datetime | None = None,
) -> dict[str, Any]:
    sub = await _own_subscription(uow, partner, subscription_id)
    if status is not None and status not in dlv.DeliveryStatus._value2member_map_:
        raise DomainError(f"status must be one of {', '.join(s.value for s in dlv.DeliveryStatus)}")
    query = select(m.Delivery).where(m.Delivery.subscription_id == sub.id)
    if status:
        query = query.where(m.Delivery.status == status)
    if before:
        query = query.where(m.Delivery.created_at < before)
    rows = (await uow.session.execute(query.order_by(m.Delivery.created_at.desc()).limit(limit))).scalars().all()
    attempts: dict[uuid.UUID, list[m.DeliveryAttempt]] = {row.id: [] for row in rows}
    if rows:
        for a in (await uow.session.execute(
            select(m.DeliveryAttempt).where(m.DeliveryAttempt.delivery_id.in_(list(attempts)))
            .order_by(m.DeliveryAttempt.at, m.DeliveryAttempt.id)
        )).scalars():
            attempts[a.delivery_id].append(a)
    return {"subscription_id": str(sub.id), "deliveries": [delivery_json(r, attempts[r.id]) for r in rows]}


@integration.post(
    "/subscriptions/{subscription_id}/resend",
    status_code=202,
    response_model=ResendOut,
    summary="Deliver again",
    description=(
        "Body (optional): `delivery_ids` or `event_ids` to resend those; without either, every dead-lettered "
        "and withheld delivery of the subscription is queued again. The consent check runs again at delivery."
    ),
)
async def resend(
    subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW, body: ResendIn | None = None
) -> dict[str, Any]:
    sub = await _own_subscription(uow, partner, subscription_id)
    body = body or ResendIn()
    query = select(m.Delivery).where(m.Delivery.subscription_id == sub.id)
    if body.delivery_ids:
        query = query.where(m.Delivery.id.in_(body.delivery_ids))
    elif body.event_ids:
        query = query.where(m.Delivery.event_id.in_(body.event_ids))
    else:
        query = query.where(m.Delivery.status.in_(("dead", "withheld")))
    rows = (await uow.session.execute(query.with_for_update())).scalars().all()
    now = datetime.now().astimezone()
    queued, skipped = [], []
    for row in rows:
        try:
            again = dlv.resend(repo.delivery_to_domain(row), now)
        except TransitionNotAllowed:
            skipped.append(str(row.id))  # already queued
            continue
        repo.write_delivery(row, again)
        queued.append(str(row.id))
    uow.audit(partner, "subscription.resend", object_type="subscription", object_id=sub.id, detail={"queued": len(queued)})
    await uow.commit()
    return {"subscription_id": str(sub.id), "queued": queued, "already_queued": skipped}
