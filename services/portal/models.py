"""The portal's tables: signed-in sessions and sign-ins under way. The portal holds no citizen data;
it keeps only what a session needs, so that signing out (or the idle timeout) ends it on the server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.db import make_base

Base = make_base()


class PortalSession(Base):
    """One signed-in browser. The cookie holds a random value; only its SHA-256 is stored here, so the
    table alone lets nobody sign in. The tokens are encrypted (the kit's secret box)."""

    __tablename__ = "portal_sessions"
    __table_args__ = (Index("ix_portal_sessions_last_seen_at", "last_seen_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    principal: Mapped[dict[str, Any]]
    access_token: Mapped[str] = mapped_column(Text)  # encrypted
    refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    id_token: Mapped[str | None] = mapped_column(Text)  # encrypted; the IdP's logout needs it as a hint
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingSignIn(Base):
    """An authorization request sent to the identity provider and not yet answered (state → PKCE
    verifier, nonce and where to go afterwards)."""

    __tablename__ = "portal_sign_ins"
    __table_args__ = (Index("ix_portal_sign_ins_created_at", "created_at"),)

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(Text)  # encrypted
    nonce: Mapped[str] = mapped_column(String(200))
    next_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Person(Base):
    """A member of staff as the identity provider named them when they last signed in: so pages show
    names, not ids, for the people the services refer to by ``sub``."""

    __tablename__ = "portal_people"

    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    botilbud_id: Mapped[str | None] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
