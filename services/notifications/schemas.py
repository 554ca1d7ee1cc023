"""Request and response models of notifications' JSON routes (the staff API and the partner API).

Staff read the staff API's refusals, so its request models answer in Danish; the partner API's in
English. Text never carries NUL or other control characters (PostgreSQL refuses NUL: it would be a 500).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from services.notifications.domain.delivery import MAX_SECRET_LENGTH, MAX_URL_LENGTH, MIN_SECRET_LENGTH


def _text(max_length: int, *, message: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None:
            return None
        if (not isinstance(value, str) or len(value) > max_length
                or any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in value)):
            raise PydanticCustomError("text", message)
        return value

    return BeforeValidator(check)


class StaffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompleteIn(StaffRequest):
    note: Annotated[str | None, _text(1000, message="note skal være tekst på højst 1000 tegn uden styretegn")] = None


class BusinessStatusIn(StaffRequest):
    business_status: Annotated[
        str | None, _text(100, message="business_status skal være tekst på højst 100 tegn uden styretegn, eller null")
    ] = Field(description="Din egen korte status på opgaven; null fjerner den.")


class ResendIn(BaseModel):
    """Without either list: every dead-lettered and withheld delivery of the subscription."""

    model_config = ConfigDict(extra="forbid")
    delivery_ids: list[uuid.UUID] | None = Field(None, max_length=500)
    event_ids: list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]] | None = Field(
        None, max_length=500)


# ---------------------------------------------------------------- staff API responses


class PoolOut(BaseModel):
    role: str
    botilbud: str | None


class TaskOut(BaseModel):
    task_id: str
    citizen_id: str | None
    citizen_name: str | None = None
    title: str
    kind: str
    kind_label: str
    status: str
    business_status: str | None
    priority: str
    due_at: datetime | None
    overdue: bool
    owner: str | None
    pool: PoolOut | None
    botilbud_id: str | None
    created_at: datetime
    updated_at: datetime | None
    source_event_id: str
    source_event_type: str
    links: list[str]
    checklist: list[str]
    description: str | None
    escalated_at: datetime | None


class QueueChangeOut(BaseModel):
    """One server-sent event of ``GET /api/v1/work-queue/events``: the queue page changed."""

    fingerprint: str
    count: int
    more: bool


class TaskKindOut(BaseModel):
    kind: str
    label: str


class TaskChangeOut(BaseModel):
    at: datetime
    by: str | None
    change: str
    note: str | None
    changes: list[Any]


class TaskDetailOut(TaskOut):
    history: list[TaskChangeOut]


class TimelineLineOut(BaseModel):
    event_id: str
    event_type: str
    service: str
    service_label: str
    occurred_at: datetime
    title: str


class CitizenListItemOut(BaseModel):
    citizen_id: str
    name: str | None
    botilbud_id: str | None
    tovholder_sub: str | None
    open_tasks: int
    overdue_tasks: int


class CitizenOverviewOut(BaseModel):
    citizen_id: str
    name: str | None
    botilbud_id: str | None
    tovholder_sub: str | None
    timeline: list[TimelineLineOut]
    tasks: list[TaskOut]


class BoardCaseOut(BaseModel):
    referral_id: str
    citizen_id: str
    citizen_name: str | None
    step: int | None
    botilbud_id: str | None
    legal_basis: str | None
    updated_at: datetime | None


class BoardColumnOut(BaseModel):
    status: str
    label: str
    count: int
    cases: list[BoardCaseOut]


class VisitationBoardOut(BaseModel):
    columns: list[BoardColumnOut]


class NoticeOut(BaseModel):
    id: int
    task_id: str
    kind: str
    text: str
    created_at: datetime


# ---------------------------------------------------------------- partner API


class SubscriptionIn(BaseModel):
    """What ``POST /integration/v1/subscriptions`` takes (documentation: the route reads the raw body so
    that even a malformed one gets a receipt, and the delivery rules give the reasons)."""

    model_config = ConfigDict(extra="forbid")
    message_id: uuid.UUID | None = Field(None, description="Optional here; a fresh one is chosen when missing.")
    callback_url: str = Field(max_length=MAX_URL_LENGTH, description="https to a public host")
    event_types: list[str] = Field(min_length=1, description="See GET /integration/v1/event-types")
    secret: str = Field(min_length=MIN_SECRET_LENGTH, max_length=MAX_SECRET_LENGTH,
                        description="The key of both signatures, e.g. 32 random bytes, hex-encoded")
    payload: Literal["cloudevent", "fhir"] = Field(
        "cloudevent", description="cloudevent: the event (CloudEvents JSON); fhir: the resource it changed as FHIR R4 "
                                  "JSON (application/fhir+json), for the hospital-notice events (an Encounter)")



class CitizenReferenceIn(BaseModel):
    """A CPR number the partner already holds (only ever in the body, never in a URL)."""

    model_config = ConfigDict(extra="forbid")
    cpr: str = Field(min_length=10, max_length=11, description="10 digits, optionally DDMMYY-SSSS")


class CitizenReferenceOut(BaseModel):
    citizen_reference: str = Field(description="How deliveries to your organisation name this citizen")
    system: str = Field(description="urn:tovholder:citizen-reference (FHIR Identifier.system)")


class SubscriptionMessage(BaseModel):
    """How ``tovholder.receipts.receive_message`` reads a subscription: shape only; the rules
    (https, known event types, secret length) give their own reasons (``domain.delivery``)."""

    model_config = ConfigDict(extra="allow")
    message_id: uuid.UUID
    callback_url: Any = None
    event_types: Any = None
    secret: Any = None
    payload: Any = None


class SubscriptionReceipt(BaseModel):
    """The receipt of ``POST /integration/v1/subscriptions``."""

    message_id: str | None
    status: str
    reason: str | None
    received_at: datetime
    subscription_id: str | None = None
    event_types: list[str] | None = None


class SubscriptionOut(BaseModel):
    subscription_id: str
    partner_org: str
    callback_url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    payload: str = "cloudevent"


class EventTypeOut(BaseModel):
    type: str
    category: str | None
    legal_basis_without_consent: str | None = Field(
        description="A provision naming your organisation as recipient; null: every delivery needs the citizen's consent.")


class AttemptOut(BaseModel):
    at: datetime
    outcome: str
    status_code: int | None
    error: str | None = Field(description="A short class: timeout, connection-refused, connection-failed, tls, dns, "
                                          "address-not-allowed; or why it was withheld.")
    duration_ms: int | None


class DeliveryOut(BaseModel):
    delivery_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    dead_at: datetime | None
    reason: str | None
    basis: str | None
    created_at: datetime
    log: list[AttemptOut]


class DeliveriesOut(BaseModel):
    subscription_id: str
    deliveries: list[DeliveryOut]


class ResendOut(BaseModel):
    subscription_id: str
    queued: list[str]
    already_queued: list[str]
