"""Referrals' tables. The CPR is held here only, encrypted (``cpr_encrypted``) and as a keyed hash."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.db import make_base

Base = make_base()


class Citizen(Base):
    __tablename__ = "citizen"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    cpr_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cpr_encrypted: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Referral(Base):
    __tablename__ = "referral"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("citizen.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    referrer_org: Mapped[str | None] = mapped_column(String(100), index=True)
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    requested_step: Mapped[int | None] = mapped_column(Integer)
    requested_offer: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decision: Mapped[str | None] = mapped_column(String(20))
    legal_basis: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[int | None] = mapped_column(Integer)
    offer_id: Mapped[str | None] = mapped_column(String(100))
    botilbud_id: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date | None]
    follow_up_date: Mapped[date | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))


class ReferralStatusChange(Base):
    """The case history: every status change, who made it, when and why."""

    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Offer(Base):
    """A botilbud's offer: legal basis, step on the indsatstrappe, approved and occupied places."""

    __tablename__ = "offer"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    botilbud_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(String(40))
    step: Mapped[int] = mapped_column(Integer)
    approved_places: Mapped[int] = mapped_column(Integer)
    occupied_places: Mapped[int] = mapped_column(Integer, default=0)
    target_group: Mapped[str | None] = mapped_column(Text)
