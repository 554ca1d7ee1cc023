"""Min log — who has seen or changed a citizen's data, as the citizen reads it.

Every service keeps an audit log (``uow.audit``) of reads and writes of a citizen's data, and every
delivery to a partner with what allowed it. This module turns that log into the citizen's view: when,
who (name, role, organisation), what (a category in Danish), why (the purpose, or for a delivery the
consent or the law), with the citizen's own reads marked as theirs; newest first, paged, by period.

Each service serves its part at ``GET /api/v1/citizens/{citizen_id}/access-log`` (the same router in
all four, included by ``tovholder.service``); the portal merges the four. Only the citizen themselves
and administrators may read it; anyone else gets 403 and the refusal is itself logged — so a staff
member's attempt shows in the citizen's own log.

Every action a service audits must have a category here (``tests/unit/kit/test_access_log.py`` reads
every ``uow.audit`` call in services/ and fails on one that has none).
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, delete, or_, select

from tovholder.auth import CurrentUser, Principal
from tovholder.db import AuditEntry
from tovholder.access import authorize
from tovholder.errors import TovholderError
from tovholder.service import UoW
from tovholder.uow import UnitOfWork

# What a citizen reads, by the first part of the audited action (``plan.read`` → ``plan``).
# Danish, plain words; the second element says which part of the system keeps it.
CATEGORIES: dict[str, str] = {
    "referral": "Sag og visitation",
    "offer": "Sag og visitation",
    "report": "Sag og visitation",
    "visitation-board": "Sag og visitation",
    "follow-up": "Sag og visitation",
    "plan": "Borgerens plan",
    "plan_proposal": "Borgerens plan",
    "fit": "FIT-målinger",
    "tryghedsplan": "Tryghedsplan",
    "safety": "Tryghed og sikkerhed",
    "network": "Netværk",
    "tovholder": "Netværk",
    "consent": "Samtykker",
    "task": "Opgaver",
    "work-queue": "Opgaver",
    "health": "Helbred",
    "health_record": "Helbred",
    "health_timeline": "Helbred",
    "health_check": "Helbredstjek",
    "hospital_notice": "Indlæggelser og udskrivelser",
    "unmatched_hospital_notice": "Indlæggelser og udskrivelser",
    "encounter": "Indlæggelser og udskrivelser",
    "medication_change": "Medicin",
    "medication_alert": "Medicin",
    "treatment_order": "Retspsykiatri",
    "forensic": "Retspsykiatri",
    "depot_schedule": "Retspsykiatri",
    "depot_visit": "Retspsykiatri",
    "coercion_log": "Retspsykiatri",
    "nurse_consultant": "Helbred",
    "external_contact": "Helbred",
    "partner_document": "Dokumenter fra samarbejdspartnere",
    "partner_message": "Beskeder fra samarbejdspartnere",
    "unmatched_partner_message": "Beskeder fra samarbejdspartnere",
    "delivery": "Videregivet til samarbejdspartner",
    "citizen": "Personoplysninger",
    "citizen_reference": "Personoplysninger",
    "subscription": "Abonnementer hos samarbejdspartnere",
    "demo": "Demodata",
    "thing": "Andet",
    "access-log": "Min log",
    "citizens": "Personoplysninger",
    "portal": "Log ind i portalen",
    "access": "Adgang",  # a refusal the kit audits without a more precise object (tovholder.access)
    # The municipality's staff register (SCIM, plans): about staff, never a citizen's log line.
    "staff": "Medarbejderregister",
    "scim": "Medarbejderregister",
    # Plans audits a refusal as ``<what was asked>.denied`` (services.plans.domain.access.Action).
    "read-plan": "Borgerens plan",
    "write-plan": "Borgerens plan",
    "comment-plan": "Borgerens plan",
    "read-network": "Netværk",
    "change-network": "Netværk",
    "call-network-meeting": "Netværk",
    "run-network-meeting": "Netværk",
    "read-safety": "Tryghed og sikkerhed",
    "write-tryghedsplan": "Tryghedsplan",
    "rate-safety": "Tryghed og sikkerhed",
    "read-fit": "FIT-målinger",
    "record-fit": "FIT-målinger",
    "share-fit": "FIT-målinger",
    "read-consent": "Samtykker",
    "change-consent": "Samtykker",
}

ROLE_NAMES = {
    "citizen": "dig selv",
    "coordinator": "koordinator",
    "nurse-consultant": "sygeplejekonsulent",
    "visitation": "visitationen",
    "admin": "administrator",
    "partner": "samarbejdspartner",
    "system": "systemet",
}

READ_WORDS = ("read", "list", "reveal", "read_cpr", "roster", "decide")
PAGE_MAX = 200


def is_mine(row: AuditEntry, citizen_id: uuid.UUID) -> bool:
    return row.actor_role == "citizen" and row.actor_sub == str(citizen_id)


def role_name(row: AuditEntry, citizen_id: uuid.UUID) -> str:
    """The role in the citizen's words: "dig selv" only for the citizen; another citizen (refused) is not."""
    if row.actor_role == "citizen" and not is_mine(row, citizen_id):
        return "en anden borger"
    return ROLE_NAMES.get(row.actor_role, row.actor_role)


def category_of(action: str) -> str | None:
    return CATEGORIES.get(action.split(".", 1)[0])


def is_read(action: str) -> bool:
    last = action.rsplit(".", 1)[-1]
    return last in READ_WORDS or last.endswith("read")


def purpose_of(action: str, role: str, detail: dict[str, Any] | None) -> str:
    """Why, in the citizen's words: a delivery names what allowed it; staff work on what they do."""
    detail = detail or {}
    if action == "delivery.sent":
        basis = detail.get("basis")
        if not basis or str(basis).startswith("consent"):  # ``consent <id>``: the citizen's own consent
            return "Videregivet med dit samtykke"
        return f"Videregivet efter {basis}"
    if action == "delivery.withheld":
        return "Ikke videregivet: der var intet samtykke eller hjemmel"
    if action.endswith((".refused", ".denied", "access_denied")):
        return "Adgang nægtet"
    if role == "citizen":
        return "Du så eller ændrede dine egne oplysninger"
    if role == "system":
        return "Systemet opdaterede oplysningerne ud fra en hændelse"
    if role == "partner":
        if str(detail.get("basis") or "").startswith("consent"):  # read under the citizen's consent to it
            return "Samarbejdspartneren læste oplysningerne med dit samtykke"
        return "Samarbejdspartneren sendte eller hentede oplysninger"
    return "Opslag i arbejdet med dit forløb" if is_read(action) else "Ændring i arbejdet med dit forløb"


class AccessLogEntry(BaseModel):
    at: datetime
    entry_id: int = Field(description="The entry's id in this service; with ``at`` and ``service`` it orders entries "
                                      "that share a moment (the portal pages the merged log by that keyset)")
    service: str = Field(description="The service that keeps the entry: referrals, plans, health, notifications")
    actor_name: str | None = Field(description="Who, by name, when known")
    actor_role: str = Field(description="The role, in Danish (koordinator, sygeplejekonsulent, …)")
    actor_organisation: str | None
    mine: bool = Field(description="True when the citizen themselves did it")
    kind: str = Field(description="'læst' (read) or 'ændret' (written)")
    category: str = Field(description="What, in Danish (Borgerens plan, Helbred, Samtykker, …)")
    purpose: str = Field(description="Why, in Danish; for a delivery the consent or the law that allowed it")
    action: str = Field(description="The audited action, for support (e.g. plan.read)")


class AccessLogPage(BaseModel):
    citizen_id: uuid.UUID
    service: str
    entries: list[AccessLogEntry]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end")


class InvalidCursor(TovholderError):
    status_code = 422
    code = "invalid-cursor"


def cursor_before(at: datetime, entry_id: int) -> str:
    """The cursor of the entries older than (``at``, ``entry_id``) — the keyset newest first. With
    ``entry_id=0`` that is every entry before ``at``; with one above every id (2**63 - 1) ``at`` itself is included
    (the portal's merged pages use both: ``services.portal.domain.log_pages``)."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{entry_id}".encode()).decode()


def _cursor(entry: AuditEntry) -> str:
    return cursor_before(entry.at, entry.id)


def _uncursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(ident)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("Ugyldig side-markør (cursor); hent første side igen.") from error


def may_read_access_log(user: Principal, citizen_id: uuid.UUID) -> bool:
    return (user.role == "citizen" and user.sub == str(citizen_id)) or user.role == "admin"


async def read_access_log(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, since: datetime | None = None,
                          until: datetime | None = None, cursor: str | None = None, limit: int = 50) -> AccessLogPage:
    """One page of the citizen's log in this service, newest first. Refusals are logged and committed."""
    # A refusal is logged by the kit's error handler (``tovholder.access.authorize``).
    authorize(may_read_access_log(user, citizen_id),
              "Kun borgeren selv (og en administrator) kan se, hvem der har set borgerens oplysninger.",
              citizen_id=citizen_id, action="access-log.refused", object_type="access-log", object_id=citizen_id)
    query = select(AuditEntry).where(AuditEntry.citizen_id == citizen_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if cursor:
        at, ident = _uncursor(cursor)
        query = query.where(or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < ident)))
    rows = list((await uow.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [
        AccessLogEntry(
            at=row.at, entry_id=row.id, service=uow.service, actor_name=row.actor_name, actor_role=role_name(row, citizen_id),
            actor_organisation=(row.detail or {}).get("org") if row.action.startswith("delivery.") else row.actor_org,
            mine=is_mine(row, citizen_id),
            kind="læst" if is_read(row.action) else "ændret",
            category=category_of(row.action) or "Andet",
            purpose=purpose_of(row.action, row.actor_role, row.detail), action=row.action,
        )
        for row in rows
    ]
    # Reading one's own log is logged too (it is a read of the citizen's data), after the page is taken.
    uow.audit(user, "access-log.read", citizen_id=citizen_id, object_type="access-log", object_id=citizen_id)
    await uow.commit()
    return AccessLogPage(citizen_id=citizen_id, service=uow.service, entries=entries,
                         next_cursor=_cursor(rows[-1]) if more and rows else None)


async def forget_expired_entries(uow: UnitOfWork, *, older_than: datetime) -> int:
    """Audit entries are kept for the retention period (``audit_retention_days``), then deleted."""
    result = await uow.session.execute(delete(AuditEntry).where(AuditEntry.at < older_than))
    await uow.commit()
    return result.rowcount or 0


async def audit_retention_job(ctx: Any) -> None:
    """Background job in every service (``tovholder.service``): once an hour, forget entries older
    than ``audit_retention_days``. Several replicas deleting the same rows is harmless."""
    import asyncio

    from tovholder import clock

    while True:
        async with ctx.uow() as uow:
            await forget_expired_entries(
                uow, older_than=clock.now() - timedelta(days=ctx.settings.audit_retention_days))
        await asyncio.sleep(3600)


router = APIRouter(tags=["Min log"])


@router.get("/api/v1/citizens/{citizen_id}/access-log", response_model=AccessLogPage,
            summary="Who has seen or changed this citizen's data in this service (the citizen and admin only)",
            responses={403: {"description": "Not the citizen themselves or an administrator (the refusal is logged)"}})
async def access_log(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW,
                     since: Annotated[datetime | None, Query(description="From this moment (inclusive)")] = None,
                     until: Annotated[datetime | None, Query(description="Up to this moment (exclusive)")] = None,
                     cursor: Annotated[str | None, Query(max_length=200)] = None,
                     limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50) -> AccessLogPage:
    return await read_access_log(uow, user, citizen_id, since=since, until=until, cursor=cursor, limit=limit)
