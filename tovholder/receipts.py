"""Receipts for inbound partner messages (the spec's "Receipts" section), in one place.

Every integration endpoint answers with a receipt: ``ok`` (202), ``fatal-error`` (422 invalid /
409 conflict) or ``transient-error`` (503 + Retry-After, nothing stored). A message is idempotent by
its ``message_id``: the same id and body returns the original receipt without a second effect; the
same id with another body is a 409.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tovholder.auth import Principal
from tovholder.db import InboundMessage
from tovholder.errors import TovholderError
from tovholder.infra_errors import is_infrastructure_error
from tovholder.metrics import RECEIPTS
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class Receipt(BaseModel):
    message_id: str | None
    status: str
    reason: str | None = None
    received_at: datetime


class FatalMessage(Exception):
    """The message can never succeed as sent (422) or conflicts with an earlier one (409)."""

    def __init__(self, reason: str, status_code: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def body_digest(raw: dict[str, Any]) -> str:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def describe_validation_error(exc: ValidationError) -> str:
    """A reason a partner's developer can act on, without echoing values (they may hold a CPR)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def receipt_body(message_id: str | None, status: str, reason: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "status": status,
        "reason": reason,
        "received_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        **extra,
    }


def receipt_response(status_code: int, receipt: dict[str, Any]) -> JSONResponse:
    headers = {"Retry-After": "5"} if status_code == 503 else None
    return JSONResponse(receipt, status_code=status_code, headers=headers)


async def receive_message(
    uow: UnitOfWork,
    raw: Any,
    model: type[M],
    *,
    endpoint: str,
    sender: Principal,
    process: Callable[[UnitOfWork, M], Awaitable[dict[str, Any] | None]],
) -> JSONResponse:
    """Validate, deduplicate and process one partner message; answer with its receipt.

    ``process`` makes the effect within ``uow`` (state + events) and returns extra receipt fields
    (e.g. ``{"referral_id": ...}``); it raises FatalMessage (or a TovholderError) to refuse.
    """
    message_id = raw.get("message_id") if isinstance(raw, dict) else None
    message_id = str(message_id) if message_id is not None else None

    def done(status_code: int, receipt: dict[str, Any]) -> JSONResponse:
        RECEIPTS.labels(uow.service, endpoint, receipt["status"]).inc()
        return receipt_response(status_code, receipt)

    if not isinstance(raw, dict):
        return done(422, receipt_body(None, "fatal-error", "The body must be a JSON object."))
    try:
        mid = uuid.UUID(str(message_id))
    except ValueError:
        return done(422, receipt_body(message_id, "fatal-error", "message_id: must be a UUID chosen by the sender."))
    try:
        message = model.model_validate(raw)
    except ValidationError as exc:
        return done(422, receipt_body(message_id, "fatal-error", describe_validation_error(exc)))

    digest = body_digest(raw)
    try:
        # Two copies of one message arriving at once: the second waits for the first and then gets
        # its receipt, instead of running `process` again (lock held until this transaction ends).
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 7))"), {"id": str(mid)})
        earlier = await uow.session.get(InboundMessage, mid)
        if earlier is not None:
            if earlier.body_sha256 == digest:
                return done(earlier.status_code, earlier.receipt)
            return done(409, receipt_body(message_id, "fatal-error",
                                      "This message_id was already used for a different message; "
                                      "give every new message its own message_id."))
        try:
            extra = await process(uow, message) or {}
        except FatalMessage as exc:
            await uow.rollback()
            return done(exc.status_code, receipt_body(message_id, "fatal-error", exc.reason))
        except TovholderError as exc:
            await uow.rollback()
            status = exc.status_code if exc.status_code in (409, 422) else 422
            return done(status, receipt_body(message_id, "fatal-error", exc.message))
        receipt = receipt_body(message_id, "ok", None, **extra)
        uow.session.add(InboundMessage(
            message_id=mid, endpoint=endpoint, sender_org=sender.org, body_sha256=digest,
            status_code=202, receipt=receipt,
        ))
        try:
            await uow.commit()
        except IntegrityError:
            # The same message_id arrived concurrently and won: answer as for a resend.
            await uow.rollback()
            earlier = (await uow.session.execute(select(InboundMessage).where(InboundMessage.message_id == mid))).scalar_one()
            if earlier.body_sha256 == digest:
                return done(earlier.status_code, earlier.receipt)
            return done(409, receipt_body(message_id, "fatal-error", "This message_id was already used for a different message."))
        return done(202, receipt)
    except Exception as exc:
        if is_infrastructure_error(exc):
            log.warning("transient failure receiving a %s message: %s", endpoint, type(exc).__name__)
            return done(503, receipt_body(message_id, "transient-error",
                                      "Tovholder cannot store messages right now; nothing was stored. Retry later."))
        raise
