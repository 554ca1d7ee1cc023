"""Referrals' tables. The CPR is held here only, encrypted (``cpr_encrypted``) and as a keyed hash.

The rules live in ``domain/``; ``repository.py`` maps these rows to and from the domain's case.
Columns that lists, waitlists, capacity and the flow report query are real columns; the parts only
read with one case (assessment, move-out plan) are JSONB.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.consent_read_model import ConsentReadModel
from tovholder.db import make_base

Base = make_base()


class Citizen(Base):
    __tablename__ = "citizen"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    cpr_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cpr_encrypted: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100))
    # From the CPR at intake: matching needs the age, and the CPR itself stays encrypted.
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Referral(Base):
    """One visitation case: the referral and everything visitation did with it."""

    __tablename__ = "referral"
    __table_args__ = (
        # The case list: newest first, optionally per status.
        Index("ix_referral_received_at", "received_at"),
        Index("ix_referral_status_received_at", "status", "received_at"),
        # Capacity, waitlists and coordinators' lists per offer/botilbud.
        Index("ix_referral_offer_status", "offer_id", "status"),
        Index("ix_referral_botilbud_status", "botilbud_id", "status"),
        # The follow-up scan looks only at placed cases.
        Index("ix_referral_follow_up_placed", "follow_up_date", postgresql_where=text("status = 'placed'")),
        Index("ix_referral_moved_in_on", "moved_in_on"),
        Index("ix_referral_ended_on", "ended_on"),
        Index("ix_referral_decided_at", "decided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("citizen.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    referrer_org: Mapped[str | None] = mapped_column(String(100), index=True)
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_sub: Mapped[str | None] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    citizen_wishes: Mapped[str | None] = mapped_column(Text)
    requested_step: Mapped[int | None] = mapped_column(Integer)
    requested_offer: Mapped[str | None] = mapped_column(String(40))  # a legal basis, as in the partner contract
    requested_offer_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Decision
    decision: Mapped[str | None] = mapped_column(String(20))
    legal_basis: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[int | None] = mapped_column(Integer)
    offer_id: Mapped[str | None] = mapped_column(String(100))
    botilbud_id: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date | None]
    follow_up_date: Mapped[date | None]  # the next follow-up: as granted, then the placement's
    granted_follow_up_date: Mapped[date | None]  # the follow-up date in the decision itself
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    waitlisted: Mapped[bool | None] = mapped_column(Boolean)
    target_group_override: Mapped[str | None] = mapped_column(Text)
    complaint_guidance: Mapped[str | None] = mapped_column(Text)
    # Placement and movement down the ladder
    moved_in_on: Mapped[date | None]
    follow_ups_held: Mapped[list[str] | None] = mapped_column(JSONB)
    follow_up_signalled_for: Mapped[date | None]
    drift_signalled: Mapped[list[str] | None] = mapped_column(JSONB)  # drift reasons signalled for a § 107 stay
    move_out_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ended_on: Mapped[date | None]
    end_cause: Mapped[str | None] = mapped_column(String(30))
    end_destination: Mapped[str | None] = mapped_column(String(30))
    receiving_offer_id: Mapped[str | None] = mapped_column(String(100))
    to_step: Mapped[int | None] = mapped_column(Integer)
    ended_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    # A move to another offer continues the case there: the new case and the ended one name each other.
    continued_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    continued_in_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ReferralAddition(Base):
    """A further referral for a citizen with an open case: it joins that case (one case per citizen)."""

    __tablename__ = "referral_addition"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    referrer_org: Mapped[str | None] = mapped_column(String(100), index=True)
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_sub: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    citizen_wishes: Mapped[str | None] = mapped_column(Text)
    requested_step: Mapped[int | None] = mapped_column(Integer)
    requested_offer: Mapped[str | None] = mapped_column(String(40))
    requested_offer_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column()


class ReferralStatusChange(Base):
    """The case history: every change, who made it, when and why."""

    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str | None] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # the reason, shown to the citizen and the referrer
    internal_note: Mapped[str | None] = mapped_column(Text)  # visitation staff only


class Offer(Base):
    """A botilbud's (or other) offer: legal basis, step on the indsatstrappe, places, target group."""

    __tablename__ = "offer"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    botilbud_id: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(String(40))
    step: Mapped[int] = mapped_column(Integer)
    approved_places: Mapped[int] = mapped_column(Integer)
    occupied_places: Mapped[int] = mapped_column(Integer, default=0)
    reserved_places: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target_group: Mapped[str | None] = mapped_column(Text)  # description in words
    target_min_age: Mapped[int | None] = mapped_column(Integer)
    target_max_age: Mapped[int | None] = mapped_column(Integer)
    target_requires: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    target_excludes: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # The resident mix is counted from the placements (repository.resident_mixes), not stored here.


class CitizenTovholder(Base):
    """The citizen's current tovholder (the nurse consultant the citizen chose at the botilbud), as health
    publishes it (``TovholderChosenV1``). The history of choices is ``TovholderChoice``."""

    __tablename__ = "citizen_tovholder"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    nurse_consultant_sub: Mapped[str] = mapped_column(String(200))
    nurse_consultant_name: Mapped[str | None] = mapped_column(String(200))
    botilbud_id: Mapped[str] = mapped_column(String(100))
    chosen_at: Mapped[datetime] = mapped_column()  # when health recorded the choice (the event's time)
    event_id: Mapped[str] = mapped_column(String(100))  # the event it came from


class TovholderChoice(Base):
    """Every tovholder choice of the citizen, with when it took effect (the event's time): a finished
    placement's ``EpisodeOfCare.careManager`` names the tovholder in force at its end, a running one
    the current one. One row per event (the business key: a redelivered event adds nothing)."""

    __tablename__ = "tovholder_choice"
    __table_args__ = (Index("ix_tovholder_choice_citizen_chosen_at", "citizen_id", "chosen_at"),)

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    nurse_consultant_sub: Mapped[str] = mapped_column(String(200))
    nurse_consultant_name: Mapped[str | None] = mapped_column(String(200))
    botilbud_id: Mapped[str] = mapped_column(String(100))
    chosen_at: Mapped[datetime] = mapped_column()


class ConsentRecord(ConsentReadModel, Base):
    """Read model of the citizen's consents (the kit's, from plans' ``consent-given``/``consent-revoked``):
    which partner organisation may read the citizen's ``Patient`` (the kit's one consent decision decides
    on it)."""

    # A partner's Patient search starts from the citizens who consented to its organisation.
    __table_args__ = (Index("ix_consent_record_recipient", "recipient_kind", "recipient_id"),)
