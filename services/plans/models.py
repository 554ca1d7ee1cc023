"""Plans' tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

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
