"""Health's tables. No CPR here: citizens are matched by the keyed ``cpr_hash`` from referrals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.db import make_base

Base = make_base()


class KnownCitizen(Base):
    """Read model of the citizens known to the municipality (from CitizenRegistered events)."""

    __tablename__ = "known_citizen"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    cpr_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class HealthRecord(Base):
    __tablename__ = "health_record"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    botilbud_id: Mapped[str] = mapped_column(String(100), index=True)
    tovholder_sub: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
