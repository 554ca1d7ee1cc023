"""Referrals' HTTP routes: partner intake (receipts), the sender's status view, visitation decisions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from sqlalchemy import select

from contracts.referrals import CitizenRegisteredV1, LegalBasis, ReferralReceivedV1, VisitationDecidedV1
from tovholder.auth import CurrentUser, PartnerUser, Principal, require_roles
from tovholder.cpr import CprVault, normalize_cpr
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.receipts import receive_message
from tovholder.service import Ctx, UoW
from tovholder.uow import UnitOfWork
from services.referrals.models import Citizen, Offer, Referral, ReferralStatusChange

integration = APIRouter(prefix="/integration/v1", tags=["integration"])
staff = APIRouter(prefix="/api/v1", tags=["visitation"])
VisitationUser = Annotated[Principal, require_roles("visitation", "admin")]


class Sender(BaseModel):
    org: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)


class PartnerReferral(BaseModel):
    message_id: uuid.UUID
    sent_at: datetime
    sender: Sender
    cpr: str
    citizen_name: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=10_000)
    requested_step: int | None = Field(default=None, ge=1, le=7)
    requested_offer: LegalBasis | None = None


async def register_citizen(uow: UnitOfWork, vault: CprVault, cpr: str, name: str) -> Citizen:
    """Find the citizen by CPR (keyed hash) or register them; emits CitizenRegistered for new ones."""
    cpr = normalize_cpr(cpr)
    cpr_hash = vault.hash(cpr)
    citizen = (await uow.session.execute(select(Citizen).where(Citizen.cpr_hash == cpr_hash))).scalar_one_or_none()
    if citizen is None:
        citizen = Citizen(id=uuid.uuid4(), cpr_hash=cpr_hash, cpr_encrypted=vault.encrypt(cpr), name=name)
        uow.session.add(citizen)
        uow.emit(CitizenRegisteredV1(citizen_id=citizen.id, cpr_hash=cpr_hash, citizen_name=name))
    return citizen


def _vault(ctx) -> CprVault:
    if "cpr_vault" not in ctx.extras:
        ctx.extras["cpr_vault"] = CprVault(ctx.settings)
    return ctx.extras["cpr_vault"]


@integration.post("/referrals", status_code=202, summary="A partner refers a citizen (answer: a receipt)")
async def post_referral(raw: Annotated[Any, Body()], partner: PartnerUser, uow: UoW, ctx: Ctx):
    vault = _vault(ctx)

    async def process(uow: UnitOfWork, msg: PartnerReferral) -> dict[str, Any]:
        if partner.org and msg.sender.org != partner.org:
            raise DomainError(f"sender.org {msg.sender.org!r} does not match your organisation {partner.org!r}.")
        citizen = await register_citizen(uow, vault, msg.cpr, msg.citizen_name)
        referral = Referral(
            id=uuid.uuid4(), citizen_id=citizen.id, status="received", channel="partner",
            referrer_org=msg.sender.org, referrer_name=msg.sender.name, reason=msg.reason,
            requested_step=msg.requested_step, requested_offer=msg.requested_offer,
        )
        uow.session.add(referral)
        uow.session.add(ReferralStatusChange(referral_id=referral.id, status="received", by=msg.sender.name,
                                             note="Henvisning modtaget fra samarbejdspartner"))
        uow.emit(ReferralReceivedV1(
            citizen_id=citizen.id, referral_id=referral.id, received_at=datetime.now(timezone.utc),
            channel="partner", referrer_org=msg.sender.org, requested_step=msg.requested_step,
            requested_offer=msg.requested_offer,
        ))
        uow.audit(partner, "referral.create", citizen_id=citizen.id, object_type="referral", object_id=referral.id)
        return {"referral_id": str(referral.id)}

    return await receive_message(uow, raw, PartnerReferral, endpoint="referrals", sender=partner, process=process)


async def _history(uow: UnitOfWork, referral_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await uow.session.execute(
        select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral_id).order_by(ReferralStatusChange.id)
    )).scalars()
    return [{"status": r.status, "at": r.at, "note": r.note} for r in rows]


@integration.get("/referrals/{referral_id}", summary="The sender follows its referral")
async def get_referral_for_partner(referral_id: uuid.UUID, partner: PartnerUser, uow: UoW) -> dict[str, Any]:
    referral = await uow.session.get(Referral, referral_id)
    if referral is None or referral.referrer_org != partner.org:
        # Same answer whether it does not exist or belongs to another org: no probing of others' referrals.
        raise NotFound("No referral with that id was sent by your organisation.")
    uow.audit(partner, "referral.read", citizen_id=referral.citizen_id, object_type="referral", object_id=referral.id)
    await uow.commit()
    return {"referral_id": str(referral.id), "status": referral.status, "history": await _history(uow, referral.id)}


class Decision(BaseModel):
    decision: Literal["granted", "refused"]
    legal_basis: LegalBasis
    offer_id: str | None = None
    step: int | None = Field(default=None, ge=1, le=7)
    start_date: date | None = None
    follow_up_date: date | None = None
    reason: str | None = Field(default=None, max_length=5000)


@staff.get("/referrals", summary="Visitation's case list")
async def list_referrals(user: VisitationUser, uow: UoW, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    query = select(Referral).order_by(Referral.received_at.desc()).limit(min(limit, 500))
    if status:
        query = query.where(Referral.status == status)
    rows = (await uow.session.execute(query)).scalars().all()
    return [{"referral_id": str(r.id), "citizen_id": str(r.citizen_id), "status": r.status,
             "received_at": r.received_at, "referrer_org": r.referrer_org} for r in rows]


@staff.post("/referrals/{referral_id}/decision", summary="Grant or refuse a place")
async def decide(referral_id: uuid.UUID, body: Decision, user: VisitationUser, uow: UoW) -> dict[str, Any]:
    referral = await uow.session.get(Referral, referral_id, with_for_update=True)
    if referral is None:
        raise NotFound("No referral with that id.")
    if referral.decision is not None:
        raise DomainError(f"This referral was already decided ({referral.decision}); a new decision needs a new referral.")
    offer = None
    if body.decision == "granted":
        if not body.offer_id:
            raise DomainError("A granted place needs offer_id: the offer the citizen is granted.")
        offer = await uow.session.get(Offer, body.offer_id, with_for_update=True)
        if offer is None:
            raise DomainError(f"Unknown offer {body.offer_id!r}.")
        if offer.occupied_places >= offer.approved_places:
            raise DomainError(f"{offer.name} is full ({offer.occupied_places} of {offer.approved_places} places).")
    elif not body.reason:
        raise DomainError("A refusal needs a reason the citizen can read, and says how to complain.")
    now = datetime.now(timezone.utc)
    referral.decision = body.decision
    referral.status = body.decision
    referral.legal_basis = body.legal_basis
    referral.step = body.step or (offer.step if offer else None)
    referral.offer_id = body.offer_id
    referral.botilbud_id = offer.botilbud_id if offer else None
    referral.start_date = body.start_date
    referral.follow_up_date = body.follow_up_date
    referral.decided_at = now
    referral.decided_by = user.sub
    uow.session.add(ReferralStatusChange(referral_id=referral.id, status=body.decision, by=user.sub, note=body.reason))
    uow.emit(VisitationDecidedV1(
        citizen_id=referral.citizen_id, referral_id=referral.id, decision=body.decision, decided_at=now,
        decided_by=user.sub, legal_basis=body.legal_basis, step=referral.step, offer_id=body.offer_id,
        botilbud_id=referral.botilbud_id, start_date=body.start_date, follow_up_date=body.follow_up_date,
    ))
    uow.audit(user, f"referral.{body.decision}", citizen_id=referral.citizen_id, object_type="referral", object_id=referral.id)
    await uow.commit()
    return {"referral_id": str(referral.id), "status": referral.status, "botilbud_id": referral.botilbud_id}


@staff.get("/offers", summary="Offers with approved and occupied places")
async def list_offers(user: CurrentUser, uow: UoW) -> list[dict[str, Any]]:
    rows = (await uow.session.execute(select(Offer).order_by(Offer.id))).scalars().all()
    return [{"offer_id": o.id, "botilbud_id": o.botilbud_id, "name": o.name, "legal_basis": o.legal_basis,
             "step": o.step, "approved_places": o.approved_places, "occupied_places": o.occupied_places} for o in rows]


routers = [integration, staff]
