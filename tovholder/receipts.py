"""Receipts for inbound partner messages (the spec's "Receipts" section), in one place.

Every integration endpoint answers with a receipt: ``ok`` (202), ``fatal-error`` (422 invalid /
409 conflict) or ``transient-error`` (503 + Retry-After, nothing stored) — whatever the body holds.
A message is idempotent per sender organisation and ``message_id``: the same id and body from the
same organisation returns the original receipt without a second effect; the same id with another
body is a 409. Another organisation never gets a receipt (or an id) for a message it did not send:
the body's ``sender.org`` must be the token's ``org`` before any earlier receipt is looked up.

The body is read raw and checked here once for every partner endpoint: valid JSON, nested at most
``MAX_DEPTH`` levels, no text PostgreSQL cannot store (NUL) or that no partner means to send
(control characters), no number beyond 64 bits or not finite; then the message model validates
it in strict mode (``true`` is not a step, ``"7"`` is not an integer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import pydantic_core
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, ColumnElement, bindparam, func, select, type_coerce
from sqlalchemy.exc import IntegrityError

from tovholder.auth import Principal
from tovholder.db import InboundMessage
from tovholder.errors import TovholderError
from tovholder.infra_errors import is_infrastructure_error
from tovholder.metrics import RECEIPTS
from tovholder.telemetry import current_trace_id
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)

# The message's own lock (sender + message_id) is in a key space of its own: seed 7.
MESSAGE_LOCK_SEED = 7
M = TypeVar("M", bound=BaseModel)

# Partner messages are objects with a few nested objects and lists (sender, lab values): a handful of
# levels. Anything deeper is refused before it reaches a parser or validator that recurses.
MAX_DEPTH = 16
# PostgreSQL's largest integer type is 64-bit; a larger number can never be stored.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# C0 control characters and DEL, except tab, line feed and carriage return (free text may hold those).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class EarlierReceipt:
    """What an earlier copy of a message got: the same body at the same endpoint gets it again."""

    endpoint: str
    body_sha256: str
    status_code: int
    receipt: dict[str, Any]


# The earlier receipt of one message as one JSON column (NULL when none), for any statement to carry:
# a use case's first lookup brings it along (``receive_message(look_up=…)``), with the parameters of
# ``earlier_receipt_parameters``. One constant expression, so a statement built on it once is compiled
# (and its cache key made) once.
EARLIER_RECEIPT: ColumnElement[Any] = type_coerce(
    select(func.json_build_object(
        "endpoint", InboundMessage.endpoint, "body_sha256", InboundMessage.body_sha256,
        "status_code", InboundMessage.status_code, "receipt", InboundMessage.receipt))
    .where(InboundMessage.sender_org == bindparam("earlier_sender_org"),
           InboundMessage.message_id == bindparam("earlier_message_id"))
    .scalar_subquery(),
    JSON,
).label("earlier_receipt")
_EARLIER_RECEIPT_ALONE = select(EARLIER_RECEIPT)


def earlier_receipt_parameters(sender_org: str, message_id: uuid.UUID) -> dict[str, Any]:
    return {"earlier_sender_org": sender_org, "earlier_message_id": message_id}


async def look_up_earlier_receipt(uow: UnitOfWork, parameters: dict[str, Any]) -> Any:
    """The earlier receipt alone, for a use case whose first lookup does not bring it along."""
    return (await uow.session.execute(_EARLIER_RECEIPT_ALONE, parameters)).scalar()


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


def _where(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "body"


def describe_validation_error(exc: ValidationError) -> str:
    """A reason a partner's developer can act on, without echoing values (they may hold a CPR)."""
    return "; ".join(f"{_where(tuple(err['loc']))}: {err['msg']}" for err in exc.errors())


def parse_body(body: bytes) -> Any:
    """The JSON value of a raw request body; FatalMessage (422) with a reason when it is not usable JSON."""
    if not body.strip():
        raise FatalMessage("The body is empty; send the message as a JSON object.")
    try:
        return pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        # The parser's message names a position (line/column), never the content.
        if "recursion limit" in str(exc):
            raise FatalMessage(f"The body is nested too deeply; a message is nested at most {MAX_DEPTH} levels.") from None
        if "number out of range" in str(exc):
            raise FatalMessage(f"A number in the body is out of range ({exc}); numbers fit in 64 bits.") from None
        raise FatalMessage(f"The body is not valid JSON (UTF-8): {exc}.") from None


def unstorable_value(value: Any) -> str | None:
    """Why ``value`` (parsed JSON) cannot be accepted as a partner message, or None. The reason names
    where (e.g. ``reason`` or ``results.3.value``), never the value itself."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return f"{_where(path[:MAX_DEPTH])}: nested too deeply; a message is nested at most {MAX_DEPTH} levels."
        if isinstance(node, str):
            if "\x00" in node:
                return f"{_where(path)}: contains a NUL character (\\u0000), which cannot be stored; remove it."
            if _CONTROL.search(node):
                return f"{_where(path)}: contains a control character; only tab, line feed and carriage return are allowed."
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if not INT64_MIN <= node <= INT64_MAX:
                return f"{_where(path)}: the number is out of range (beyond 64 bits)."
        elif isinstance(node, float):
            if not math.isfinite(node):
                return f"{_where(path)}: the number is too large to be represented."
        elif isinstance(node, dict):
            for key, item in node.items():
                if _CONTROL.search(key):
                    return f"{_where(path)}: a field name contains a NUL or control character."
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(node))
    return None


def claimed_sender_org(message: BaseModel) -> str | None:
    """The organisation a message says it comes from (``sender.org``), if its model has a sender."""
    sender = getattr(message, "sender", None)
    return getattr(sender, "org", None) if sender is not None else None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with nested models inlined, for a request body read raw (the receipt
    flow validates it itself, so FastAPI does not document it on its own)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


RECEIPT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "ok: the effect will happen; do not resend"},
    409: {"description": "fatal-error: conflicts with an earlier message"},
    422: {"description": "fatal-error: invalid message (the reason says what to fix)"},
    503: {"description": "transient-error: nothing was stored; retry after Retry-After seconds"},
}


def partner_message_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a partner message raw: the message's schema as the body."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(model)}}}}


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


def person_reads(cpr_hash_of: Callable[[Any], str | None], person_locks: Callable[[str], list[tuple[str, int]]],
                 look_up_intake: Callable[[UnitOfWork, str, Any, dict[str, Any]], Awaitable[Any]]) -> dict[str, Any]:
    """``receive_message``'s ``locks`` and ``look_up`` for a partner message about a person: the person's
    locks (``person_locks(cpr_hash)``) with the message's own, and the earlier receipt with what the
    intake reads first (``look_up_intake(uow, cpr_hash, message, earlier)``, which keeps what it found in
    ``uow.looked_up`` and returns the receipt column's value). ``cpr_hash_of(message)`` is None for a CPR
    that is not valid: no person lock, the receipt alone (the use case answers it with a 422). The hash
    is made once for both."""
    hashes: dict[str, str | None] = {}

    def hash_of(message: Any) -> str | None:
        if message.cpr not in hashes:
            hashes[message.cpr] = cpr_hash_of(message)
        return hashes[message.cpr]

    def locks(message: Any) -> list[tuple[str, int]]:
        cpr_hash = hash_of(message)
        return person_locks(cpr_hash) if cpr_hash else []

    async def look_up(uow: UnitOfWork, message: Any, earlier: dict[str, Any]) -> Any:
        cpr_hash = hash_of(message)
        if cpr_hash is None:
            return await look_up_earlier_receipt(uow, earlier)
        return await look_up_intake(uow, cpr_hash, message, earlier)

    return {"locks": locks, "look_up": look_up}


async def receive_message(
    uow: UnitOfWork,
    raw: bytes | Any,
    model: type[M],
    *,
    endpoint: str,
    sender: Principal,
    process: Callable[[UnitOfWork, M], Awaitable[dict[str, Any] | None]],
    locks: Callable[[M], Iterable[tuple[str, int]]] | None = None,
    look_up: Callable[[UnitOfWork, M, dict[str, Any]], Awaitable[Any]] | None = None,
) -> JSONResponse:
    """Validate, deduplicate and process one partner message; answer with its receipt.

    ``raw`` is the request body as bytes (``await request.body()``); an already parsed JSON value is
    accepted too and checked the same way. ``process`` makes the effect within ``uow`` (state +
    events) and returns extra receipt fields (e.g. ``{"referral_id": ...}``); it raises FatalMessage
    (or a TovholderError) to refuse. ``locks`` names the advisory locks (``uow.lock``'s ``(key, seed)``)
    that ``process`` will take: they are taken together with the message's own, in one statement.
    ``look_up`` makes ``process``'s first lookup (keeping what it found in ``uow.looked_up``) with the
    earlier receipt as one of its columns (``EARLIER_RECEIPT``, whose parameters it is given), and
    returns that column's value: one round trip for both. Without it the kit looks the receipt up alone.
    """

    def done(status_code: int, receipt: dict[str, Any]) -> JSONResponse:
        RECEIPTS.labels(uow.service, endpoint, receipt["status"]).inc()
        return receipt_response(status_code, receipt)

    def fatal(message_id: str | None, reason: str, status_code: int = 422) -> JSONResponse:
        return done(status_code, receipt_body(message_id, "fatal-error", reason))

    if isinstance(raw, (bytes, bytearray)):
        body = bytes(raw)
        try:
            parsed = parse_body(body)
        except FatalMessage as exc:
            return fatal(None, exc.reason)
    else:
        parsed = raw
        body = None
    if not isinstance(parsed, dict):
        return fatal(None, "The body must be a JSON object.")
    message_id = parsed.get("message_id")
    message_id = message_id if isinstance(message_id, str) else None
    try:
        mid = uuid.UUID(message_id or "")
    except ValueError:
        return fatal(message_id if message_id and not unstorable_value(message_id) else None,
                     "message_id: must be a UUID chosen by the sender.")
    if (problem := unstorable_value(parsed)) is not None:
        return fatal(message_id, problem)
    try:
        # Strict: a JSON boolean is not a step and the string "7" is not an integer.
        message = model.model_validate_json(body if body is not None else json.dumps(parsed), strict=True)
    except ValidationError as exc:
        return fatal(message_id, describe_validation_error(exc))

    org = sender.org
    if not org:
        return fatal(message_id, "Your token names no organisation (claim 'org'); partner tokens must name one.")
    claimed = claimed_sender_org(message)
    if claimed is not None and claimed != org:
        # Before any earlier receipt is looked up: another organisation's message is not this sender's to resend.
        return fatal(message_id, f"sender.org {claimed!r} is not the organisation your token was issued to ({org}).")

    digest = body_digest(parsed)

    def answer_for(found: dict[str, Any]) -> JSONResponse:
        earlier = EarlierReceipt(**found)
        if earlier.endpoint == endpoint and earlier.body_sha256 == digest:
            return done(earlier.status_code, earlier.receipt)
        return fatal(message_id, "This message_id was already used for a different message; "
                                 "give every new message its own message_id.", 409)

    try:
        # Two copies of one message arriving at once: the second waits for the first and then gets
        # its receipt, instead of running `process` again (lock held until this transaction ends).
        # The locks the effect will take come along (``locks``): one statement for all of them.
        await uow.lock([(f"{org}\n{mid}", MESSAGE_LOCK_SEED), *sorted(locks(message) if locks else ())])
        earlier = earlier_receipt_parameters(org, mid)
        found = await (look_up(uow, message, earlier) if look_up else look_up_earlier_receipt(uow, earlier))
        if found is not None:
            return answer_for(found)
        try:
            extra = await process(uow, message) or {}
        except FatalMessage as exc:
            await uow.rollback()
            return fatal(message_id, exc.reason, exc.status_code)
        except TovholderError as exc:
            await uow.rollback()
            return fatal(message_id, exc.en, exc.status_code if exc.status_code in (409, 422) else 422)
        receipt = receipt_body(message_id, "ok", None, **extra)
        uow.insert_at_commit(InboundMessage.__table__, {
            "message_id": mid, "endpoint": endpoint, "sender_org": org, "body_sha256": digest, "status_code": 202,
            "receipt": receipt,
        })
        try:
            await uow.commit()
        except IntegrityError:
            # The same message from the same sender arrived concurrently and won: answer as for a resend.
            await uow.rollback()
            found = await look_up_earlier_receipt(uow, earlier_receipt_parameters(org, mid))
            if found is None:
                raise
            return answer_for(found)
        return done(202, receipt)
    except Exception as exc:
        if is_infrastructure_error(exc):
            log.warning("transient failure receiving a %s message: %s", endpoint, type(exc).__name__)
            return done(503, receipt_body(message_id, "transient-error",
                                          "Tovholder cannot store messages right now; nothing was stored. Retry later."))
        # A fault of ours: the partner still gets a receipt, with the truth (nothing was stored, so
        # a resend is safe) and a reference the operator finds in the ERROR log with the traceback.
        await uow.rollback()
        reference = current_trace_id() or uuid.uuid4().hex
        log.exception("unexpected error receiving a %s message (reference %s)", endpoint, reference)
        return done(503, receipt_body(message_id, "transient-error",
                                      "Something went wrong on our side; nothing was stored. Retry later; if it keeps "
                                      f"happening, tell the Tovholder operators this reference: {reference}."))
