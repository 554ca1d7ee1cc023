"""Plans' tables. Plan and tryghedsplan versions are stored whole (JSONB) and never updated: a change
inserts a new version. Network members, consents and ratings keep their history in the row
(removed_at, revoked_at) instead of being deleted."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tovholder.db import make_base

Base = make_base()


class Plan(Base):
    """Borgerens Plan: one per citizen, opened when a place is granted (to prepare the move-in)."""

    __tablename__ = "plan"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    botilbud_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(30), default="open")
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    current_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class PlanVersionRow(Base):
    __tablename__ = "plan_version"

    plan_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("plan.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    change: Mapped[str] = mapped_column(String(50))
    content: Mapped[dict[str, Any]]
    # Only so the ORM inserts a new plan before its first version in one flush (a consumer batch
    # opens many plans in one transaction and flushes them together); never loaded.
    plan: Mapped[Plan] = relationship(lazy="raise", viewonly=False)


class FollowUpScheduleRow(Base):
    """When the plan or one goal is next due for follow-up."""

    __tablename__ = "follow_up_schedule"
    __table_args__ = (
        Index("ix_follow_up_schedule_due", "due_on", postgresql_where=text("active")),
    )

    subject_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)  # plan id or goal id
    plan_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("plan.id"), index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    subject: Mapped[str] = mapped_column(String(10))
    cadence: Mapped[dict[str, Any]]
    anchor: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    announced_for: Mapped[date | None] = mapped_column(Date)
    assignee: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")


class FollowUpRow(Base):
    __tablename__ = "follow_up"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("plan.id"), index=True)
    subject: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID)
    held_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(Text)
    next_due_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    written_with_citizen: Mapped[bool] = mapped_column(Boolean)


class NetworkMemberRow(Base):
    __tablename__ = "network_member"
    __table_args__ = (
        # One current membership per staff member and citizen; removed rows stay as history.
        Index("uq_network_member_current", "citizen_id", "staff_id", unique=True,
              postgresql_where=text("removed_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    staff_id: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(40))
    basis: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(200))
    # "staff" (staff_id is the staff member's sub) or "external" (staff_id is "ekstern:<uuid>").
    kind: Mapped[str] = mapped_column(String(10), default="staff", server_default="staff")
    name: Mapped[str | None] = mapped_column(String(200))  # external partners
    organisation: Mapped[str | None] = mapped_column(String(200))  # external partners


class StaffMemberRow(Base):
    """The staff plans knows (domain/staff.py): who they are, their role and botilbud, and the source."""

    __tablename__ = "staff_member"

    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    botilbud_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10))
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # False: deactivated or deleted in the municipality's staff register (the row stays: history names them).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # The register's SCIM resource (source 'register'): its id, the IdP's externalId, the name's parts.
    scim_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None] = mapped_column()


class TryghedsplanRow(Base):
    __tablename__ = "tryghedsplan_version"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))


class SafetyRatingRow(Base):
    __tablename__ = "safety_rating"
    __table_args__ = (Index("ix_safety_rating_citizen_rated_at", "citizen_id", "rated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    level: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    rated_at: Mapped[datetime]
    rated_by: Mapped[str] = mapped_column(String(200))
    reassess_at: Mapped[datetime | None]
    citizen_told_at: Mapped[datetime | None]
    citizen_told_by: Mapped[str | None] = mapped_column(String(200))
    not_told_reason: Mapped[str | None] = mapped_column(Text)


class LearningPlanRow(Base):
    __tablename__ = "learning_plan"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    episode_started_at: Mapped[datetime]
    episode_ended_at: Mapped[datetime]
    looks_back_from: Mapped[datetime]
    due_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    written_with_staff_id: Mapped[str | None] = mapped_column(String(200))
    opened_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime | None]
    what_happened: Mapped[str | None] = mapped_column(Text)
    what_helped: Mapped[str | None] = mapped_column(Text)
    citizen_view: Mapped[str | None] = mapped_column(Text)
    staff_view: Mapped[str | None] = mapped_column(Text)
    citizen_took_part: Mapped[bool | None] = mapped_column(Boolean)


class BvcScoreRow(Base):
    __tablename__ = "bvc_score"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    scored_at: Mapped[datetime]
    scored_by: Mapped[str] = mapped_column(String(200))
    items: Mapped[dict[str, Any]]  # {"observed": [...]}
    total: Mapped[int] = mapped_column(Integer)


class FitSessionRow(Base):
    __tablename__ = "fit_session"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    held_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    # Totals on the session's scale: 0–40 (four items of 0–10) or, for sessions recorded before the
    # real scales, the single 1–10 score as recorded (scale "1-10"; see domain/fit.py).
    ors: Mapped[float | None] = mapped_column(Float)
    srs: Mapped[float | None] = mapped_column(Float)
    shared_by_citizen: Mapped[bool] = mapped_column(Boolean)
    scale: Mapped[str] = mapped_column(String(10), default="0-40", server_default="0-40")
    ors_items: Mapped[list[float] | None] = mapped_column(JSONB)
    srs_items: Mapped[list[float] | None] = mapped_column(JSONB)
    ors_answered_with: Mapped[str | None] = mapped_column(String(10))
    srs_answered_with: Mapped[str | None] = mapped_column(String(10))


class ConsentRow(Base):
    __tablename__ = "consent"
    __table_args__ = (
        # One consent in force per citizen × recipient × category.
        Index("uq_consent_in_force", "citizen_id", "recipient_kind", "recipient_id", "category", unique=True,
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[str] = mapped_column(String(200))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime]
    given_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class PlanProposalRow(Base):
    """A decision from the health check proposed for the plan (``HealthCheckPlanEntryProposedV1``);
    the coordinator confirms it with the citizen (it becomes ``entry_id``) or records why not."""

    __tablename__ = "plan_proposal"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)  # the health check's decision id
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    source: Mapped[str] = mapped_column(String(30), default="health-check")
    health_check_id: Mapped[uuid.UUID] = mapped_column(UUID)
    decision_kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    held_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    review_on: Mapped[date | None] = mapped_column(Date)
    responsible_sub: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    proposed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class NetworkMeetingRow(Base):
    """A network meeting the citizen called: the reason and whom they want there (their own words),
    the deadline (5 working days), and what the coordinator did with it."""

    __tablename__ = "network_meeting"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(UUID)
    reason: Mapped[str] = mapped_column(Text)
    wanted: Mapped[list[str]] = mapped_column(JSONB)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    assignee: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # requested | scheduled | held | cancelled
    meeting_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(200))
    scheduled_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
