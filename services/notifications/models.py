"""Notifications' tables: tasks and their history, the read models built from other services' events
(citizens, networks, consents, the timeline, the visitation board), staff notices (reminders and
escalations), and partner subscriptions with their deliveries and attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.consent_read_model import ConsentReadModel
from tovholder.db import make_base

Base = make_base()

ACTIVE_SQL = "status IN ('open','claimed','in_progress')"


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        # The work queue is two keyset scans merged: "mine" and "unclaimed in my pools", both in
        # (sort_at, id) order so that page 1 and page 10,000 cost the same at a million tasks.
        Index("ix_task_owner_queue", "owner", "sort_at", "id", postgresql_where=text(ACTIVE_SQL)),
        Index("ix_task_pool_queue", "pool_role", "pool_botilbud", "sort_at", "id",
              postgresql_where=text("owner IS NULL AND status = 'open'")),
        # A pool of no botilbud (the municipality's visitation pool) needs its own: PostgreSQL does not
        # read ``pool_botilbud IS NULL`` as an equality, so the index above is not in (sort_at, id)
        # order for it, and the first page sorted all 20,000 open tasks of that pool (39 ms at 1M tasks).
        Index("ix_task_municipal_pool_queue", "pool_role", "sort_at", "id",
              postgresql_where=text("pool_botilbud IS NULL AND owner IS NULL AND status = 'open'")),
        Index("ix_task_botilbud_active", "botilbud_id", "sort_at", "id", postgresql_where=text(ACTIVE_SQL)),
        Index("ix_task_next_check", "next_check_at", postgresql_where=text("next_check_at IS NOT NULL")),
        Index("ix_task_source_event", "source_event_id"),
        Index("ix_task_unattributed_links", "links", postgresql_using="gin", postgresql_ops={"links": "jsonb_path_ops"},
              postgresql_where=text("citizen_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    # NULL only for work about no known citizen (an unmatched hospital notice); found by its links.
    citizen_id: Mapped[uuid.UUID | None] = mapped_column(UUID, index=True)
    botilbud_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    business_status: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[str] = mapped_column(String(10), default="routine")
    due_at: Mapped[datetime | None]
    # due_at, or far in the future when there is none: a NOT NULL key keeps keyset paging simple.
    sort_at: Mapped[datetime] = mapped_column(server_default=text("'9999-12-31 00:00:00+00'"))
    owner: Mapped[str | None] = mapped_column(String(200))
    pool_role: Mapped[str | None] = mapped_column(String(40))
    pool_botilbud: Mapped[str | None] = mapped_column(String(100))
    source_event_id: Mapped[str] = mapped_column(String(100))
    source_event_type: Mapped[str] = mapped_column(String(200), server_default="")
    links: Mapped[list[str] | None] = mapped_column(JSONB)  # ["hospital-notice:<id>", "referral:<id>", …]
    description: Mapped[str | None] = mapped_column(Text)
    checklist: Mapped[list[str] | None] = mapped_column(JSONB)
    reminders: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    escalated_at: Mapped[datetime | None]
    overdue_since: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(300))
    # When the scheduler must look at this task next (reminder, escalation or due time); NULL: never.
    next_check_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TaskChange(Base):
    """One entry of a task's history; never updated or deleted."""

    __tablename__ = "task_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("task.id"), index=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    by: Mapped[str] = mapped_column(String(200))
    change: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)


class StaffNotice(Base):
    """A reminder or escalation shown to a person (``recipient``) or to everyone in a pool."""

    __tablename__ = "staff_notice"
    __table_args__ = (
        Index("ix_staff_notice_recipient", "recipient", "created_at"),
        Index("ix_staff_notice_pool", "pool_role", "pool_botilbud", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("task.id"), index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    recipient: Mapped[str | None] = mapped_column(String(200))
    pool_role: Mapped[str | None] = mapped_column(String(40))
    pool_botilbud: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # reminder | escalation
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# ---------------------------------------------------------------- read models from other services' events


class Citizen(Base):
    __tablename__ = "citizen"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The keyed CPR hash from referrals' CitizenRegistered (never the CPR): a partner's citizen-reference lookup.
    cpr_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    botilbud_id: Mapped[str | None] = mapped_column(String(100), index=True)
    tovholder_sub: Mapped[str | None] = mapped_column(String(200))
    # From citizen-registered; None: the installation's own (tovholder.scopes, receiving municipality).
    municipality: Mapped[str | None] = mapped_column(String(100))
    deceased_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class NetworkMember(Base):
    __tablename__ = "network_member"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime]


class ConsentRecord(ConsentReadModel, Base):
    """Read model of the citizen's consents (the kit's, from plans' consent events): the delivery gate
    reads it before every attempt."""


class TimelineEntry(Base):
    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_entry_citizen_at", "citizen_id", "occurred_at"),)

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    event_type: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(300))


class VisitationCase(Base):
    __tablename__ = "visitation_case"
    __table_args__ = (Index("ix_visitation_case_status", "status", "updated_at"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    status: Mapped[str] = mapped_column(String(30))
    step: Mapped[int | None] = mapped_column(Integer)
    botilbud_id: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------- partner delivery


class Subscription(Base):
    __tablename__ = "subscription"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    partner_org: Mapped[str] = mapped_column(String(200), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    callback_url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSONB)
    # Needed in clear to sign each delivery; never returned by the API or logged.
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # What a delivery carries: "cloudevent" (the event) or "fhir" (the resource it changed, FHIR R4 JSON).
    payload: Mapped[str] = mapped_column(String(20), default="cloudevent", server_default=text("'cloudevent'"))


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_event"),
        Index("ix_delivery_due", "next_attempt_at", postgresql_where=text("status IN ('pending','retrying')")),
        Index("ix_delivery_subscription_created", "subscription_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscription.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(200))
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    # The exact CloudEvent bytes (structured JSON): every attempt sends and signs the same body.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DeliveryAttempt(Base):
    """The delivery log: one row per attempt (or per consent refusal), kept across resends."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery.id"), index=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    outcome: Mapped[str] = mapped_column(String(20))  # delivered | failed | dead | withheld
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
