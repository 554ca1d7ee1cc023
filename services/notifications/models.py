"""Notifications' tables: tasks in work queues and the history of every change to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.db import make_base

Base = make_base()


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_owner_open", "owner", "due_at", postgresql_where=text("status IN ('open','claimed','in_progress')")),
        Index("ix_task_pool_open", "pool_role", "pool_botilbud", "due_at",
              postgresql_where=text("owner IS NULL AND status = 'open'")),
        Index("ix_task_source_event", "source_event_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="routine")
    due_at: Mapped[datetime | None]
    owner: Mapped[str | None] = mapped_column(String(200))
    pool_role: Mapped[str | None] = mapped_column(String(40))
    pool_botilbud: Mapped[str | None] = mapped_column(String(100))
    source_event_id: Mapped[str] = mapped_column(String(100))
    links: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TaskChange(Base):
    __tablename__ = "task_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("task.id"), index=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    by: Mapped[str] = mapped_column(String(200))
    change: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
