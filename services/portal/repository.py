"""Every SQL statement of the portal (sessions and pending sign-ins)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sqlalchemy.dialects.postgresql import insert

from services.portal.models import PendingSignIn, Person, PortalSession


async def add_session(session: AsyncSession, row: PortalSession) -> None:
    session.add(row)


async def get_session(session: AsyncSession, id_hash: str) -> PortalSession | None:
    return await session.get(PortalSession, id_hash)


async def touch_session(session: AsyncSession, id_hash: str, at: datetime) -> None:
    await session.execute(update(PortalSession).where(PortalSession.id_hash == id_hash).values(last_seen_at=at))


async def replace_tokens(session: AsyncSession, id_hash: str, *, access_token: str, refresh_token: str | None,
                         access_expires_at: datetime | None) -> None:
    await session.execute(update(PortalSession).where(PortalSession.id_hash == id_hash).values(
        access_token=access_token, refresh_token=refresh_token, access_expires_at=access_expires_at))


async def delete_session(session: AsyncSession, id_hash: str) -> PortalSession | None:
    result = await session.execute(delete(PortalSession).where(PortalSession.id_hash == id_hash).returning(PortalSession))
    return result.scalar_one_or_none()


async def delete_stale_sessions(session: AsyncSession, *, idle_before: datetime, now: datetime) -> int:
    result = await session.execute(delete(PortalSession).where(
        (PortalSession.last_seen_at < idle_before) | (PortalSession.expires_at < now)))
    return result.rowcount or 0


async def add_sign_in(session: AsyncSession, row: PendingSignIn) -> None:
    session.add(row)


async def take_sign_in(session: AsyncSession, state_hash: str) -> PendingSignIn | None:
    """The pending sign-in for this state, removed (a state is used once)."""
    result = await session.execute(delete(PendingSignIn).where(PendingSignIn.state_hash == state_hash).returning(PendingSignIn))
    return result.scalar_one_or_none()


async def delete_old_sign_ins(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < before))
    return result.rowcount or 0


async def count_sessions(session: AsyncSession) -> int:
    from sqlalchemy import func

    return (await session.execute(select(func.count()).select_from(PortalSession))).scalar_one()


async def remember_person(session: AsyncSession, *, sub: str, name: str | None, role: str, botilbud_id: str | None,
                          at: datetime) -> None:
    values = {"name": name, "role": role, "botilbud_id": botilbud_id, "seen_at": at}
    await session.execute(insert(Person).values(sub=sub, **values).on_conflict_do_update(
        index_elements=[Person.sub], set_=values))


async def people(session: AsyncSession, subs: set[str]) -> dict[str, Person]:
    if not subs:
        return {}
    rows = await session.execute(select(Person).where(Person.sub.in_(sorted(subs))))
    return {p.sub: p for p in rows.scalars()}
