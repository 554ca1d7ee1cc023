"""Database access shared by every service: the kit's own tables (outbox, inbox, audit log,
inbound partner messages), a declarative base factory for service models, and engines.

Each service has its own database; the kit tables exist in each of them (their Alembic
migrations include ``KIT_METADATA``).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, String, Text, event, func, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tovholder.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_CHANNEL = "tovholder_outbox"


def make_base() -> type[DeclarativeBase]:
    """A fresh declarative base with its own metadata, one per service."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}

    return Base


KitBase = make_base()
KIT_METADATA = KitBase.metadata


class OutboxMessage(KitBase):
    """An event written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay scans only what is not yet published.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(100))  # citizen id; also the Kafka key
    occurred_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    traceparent: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_at: Mapped[datetime | None]
    publish_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InboxEntry(KitBase):
    """An event a consumer group has handled; recorded in the same transaction as the effect."""

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuditEntry(KitBase):
    """Who did what to which citizen's data, and when. Never holds a CPR."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_citizen_at", "citizen_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_sub: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(50))
    actor_org: Mapped[str | None] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200))  # as the token named them then (Min log)
    action: Mapped[str] = mapped_column(String(100))
    citizen_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    object_type: Mapped[str | None] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None]
    trace_id: Mapped[str | None] = mapped_column(String(32))


class InboundMessage(KitBase):
    """A partner message accepted by an integration endpoint, with the receipt it got.

    Keyed by the sending organisation and its ``message_id``: a message_id is unique per sender (the
    contract), so two organisations may use the same one, and neither ever sees the other's receipt.
    """

    __tablename__ = "inbound_message"

    sender_org: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    receipt: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    if not settings.database_url:
        raise RuntimeError(
            f"TOVHOLDER_DATABASE_URL is not set for service {settings.service!r}; "
            "`tovholder up` sets it, or export it (postgresql+asyncpg://user@host:port/db)."
        )
    engine = create_async_engine(
        settings.database_url,
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=5,
        pool_timeout=settings.database_pool_timeout_s,
        connect_args={"timeout": settings.database_connect_timeout_s, "command_timeout": 30},
    )
    ping_connections_that_rested(engine)
    return engine


# A connection back in the pool less than this long ago was alive then: it is not pinged again.
PING_AFTER_REST_S = 2.0


def ping_connections_that_rested(engine: AsyncEngine, rest_s: float = PING_AFTER_REST_S) -> None:
    """Pessimistic disconnect handling without its price under load. SQLAlchemy's ``pool_pre_ping`` pings
    on every checkout — with asyncpg that is BEGIN, an empty query and ROLLBACK: three round trips before
    each transaction, the most expensive part of a small one. A connection that was in use a moment ago
    is not pinged; one that rested longer (or is new) is, and a dead one is replaced before anyone uses it
    (``DisconnectionError`` makes the pool take another). Should the database die within the rest window,
    the first statement fails as a disconnect: SQLAlchemy then invalidates the whole pool, and the caller
    sees an infrastructure error (503 with a receipt; a consumer retries) — never a half-done change."""

    @event.listens_for(engine.sync_engine, "checkin")
    def rested_from(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping_if_rested(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is not None and time.monotonic() - since < rest_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:  # noqa: BLE001 - any failure to ping means: not this connection
            raise DisconnectionError(f"pooled connection failed its ping ({type(error).__name__})") from error


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq URL for asyncpg's own connections (LISTEN, replay)."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
