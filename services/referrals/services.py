"""Referrals' use cases: one async function per use case over a unit of work.

Each takes ``(uow, user, input)`` (and the service context where it needs the CPR vault or the
settings), authorises, loads through ``repository.py``, lets ``domain/`` decide, saves, emits the
events the change causes, audits the read or write and commits. Routes (``api.py``), pages and the
background job (``jobs.py``) call these, never each other. What a function returns is the body its
route declares in ``schemas.py``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.responses import Response

from contracts.health import TovholderChosenV1
from contracts.referrals import (
    CitizenRegisteredV1,
    TemporaryStayDriftingV1,
    FollowUpDueV1,
    FollowUpHeldV1,
    MoveOutPlannedV1,
    PlacementEndedV1,
    PlacementStartedV1,
    ReferralReceivedV1,
    ReferralWithdrawnV1,
    VisitationDecidedV1,
)
from services.referrals import repository
from services.referrals.domain import clocks
from services.referrals.domain import lifecycle as lc
from services.referrals.domain import model as dm
from services.referrals.domain.access import Actor, View, can_change, sees_cpr, sees_internal_notes, view_of
from services.referrals.domain.citizen_view import ACTION_TEXT, STATUS_TEXT
from services.referrals.domain.cpr import birth_date_from_cpr, masked_cpr, normalize_cpr
from services.referrals.domain.errors import InvalidInput
from services.referrals.domain.offers import ResidentMix, check_occupancy, match_offers, validate_offer, waitlist_for
from services.referrals.domain.report import FlowReport, assemble, drifting_at
from services.referrals.models import Citizen, Offer, Referral, ReferralAddition, ReferralStatusChange
from services.referrals.schemas import (
    AssessmentIn,
    Decision,
    EndIn,
    FollowUpIn,
    MoveIn,
    MoveOutPlanIn,
    Note,
    OfferIn,
    PartnerReferral,
    Reason,
    StaffReferral,
    VisitIn,
)
from tovholder import clock
from tovholder.access import actor_from, authorize
from tovholder.auth import Principal
from tovholder.cpr import CprVault
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.receipts import person_reads, receive_message
from tovholder.scopes import serving_municipality
from tovholder.service import ServiceContext
from tovholder.uow import UnitOfWork

LOCAL_TZ = clock.COPENHAGEN
FOLLOW_UP_LEAD_DAYS = 14  # a follow-up becomes a task two weeks before it is due, so it can be planned
CASE_LIST_MAX = 500

# One answer for a case that does not exist and one outside the caller's reach, so nobody learns
# that a case (and so a citizen) exists where they may not look.
NO_SUCH_CASE = "Ingen sag med det id, som du har adgang til."
NO_SUCH_CASE_EN = "No case with that id that you may see."  # a partner's (FHIR) answer
NOT_SENT_BY_YOU = "Ingen henvisning med det id er sendt af din organisation."
NOT_SENT_BY_YOU_EN = "No referral with that id was sent by your organisation."  # the partner's answer
CHANGES_ARE_VISITATIONS = "Kun visitationen i sagens kommune ændrer en sag; du kan læse den."


today = clock.today
now = clock.now

RULES_KEY = "referrals_visitation_rules"


def visitation_rules(ctx: ServiceContext) -> clocks.VisitationRules:
    """The drift and deadline settings the service was composed with (``main.build_spec``)."""
    return ctx.extras.get(RULES_KEY) or clocks.VisitationRules()


def actor_of(user: Principal, ctx: ServiceContext) -> Actor:
    return actor_from(user, serving=serving_municipality(ctx.settings))


# ---------------------------------------------------------------------------------------------
# What a caller sees of a case (the bodies schemas.py describes)


def referrer_view(row: Referral, history: list[ReferralStatusChange], *, since: datetime | None = None) -> dict[str, Any]:
    """What the contract gives the referring partner: the current status and the status history —
    no placement, decision or notes (those are the municipality's case work). A partner whose referral
    joined the citizen's open case sees the history from then on (``since``), not what came before."""
    return {"referral_id": str(row.id), "status": row.status,
            "history": [{"status": h.status, "at": h.at} for h in history if since is None or h.at >= since]}


def addition_view(a: ReferralAddition) -> dict[str, Any]:
    return {"addition_id": str(a.id), "received_at": a.received_at, "channel": a.channel,
            "referrer_org": a.referrer_org, "referrer_name": a.referrer_name, "reason": a.reason,
            "citizen_wishes": a.citizen_wishes, "requested_step": a.requested_step,
            "requested_offer": a.requested_offer, "requested_offer_id": a.requested_offer_id}


def clocks_view(case: dm.VisitationCase, rules: clocks.VisitationRules) -> dict[str, Any]:
    """The case's warnings (drift of a temporary stay) and running deadlines with the time left."""
    on = today()
    return {
        "warnings": [d.message for d in clocks.drift_of(case, on, rules)],
        "deadlines": [{"kind": d.kind, "title": d.title, "due_on": d.due_on, "working_days_left": d.working_days_left,
                       "time_left": d.time_left, "overdue": d.overdue} for d in clocks.deadlines_of(case, on, rules)],
    }


def case_view(row: Referral, citizen: Citizen | None, view: View, history: list[ReferralStatusChange],
              vault: CprVault | None, additions: list[ReferralAddition] = (),
              rules: clocks.VisitationRules | None = None) -> dict[str, Any]:
    status = dm.CaseStatus(row.status)
    out: dict[str, Any] = {
        "referral_id": str(row.id),
        "citizen_id": str(row.citizen_id),
        "status": row.status,
        "status_text": STATUS_TEXT[status],
        "received_at": row.received_at,
        "channel": row.channel,
        "referrer_org": row.referrer_org,
        "requested_step": row.requested_step,
        "requested_offer": row.requested_offer,
        "requested_offer_id": row.requested_offer_id,
        "decision": row.decision,
        "legal_basis": row.legal_basis,
        "step": row.step,
        "offer_id": row.offer_id,
        "botilbud_id": row.botilbud_id,
        "start_date": row.start_date,
        "follow_up_date": row.follow_up_date,
        "waitlisted": row.waitlisted,
        "moved_in_on": row.moved_in_on,
        "move_out_plan": row.move_out_plan,
        "ended_on": row.ended_on,
        "end_cause": row.end_cause,
        "end_destination": row.end_destination,
        "receiving_offer_id": row.receiving_offer_id,
        "to_step": row.to_step,
    }
    if status is dm.CaseStatus.REFUSED:
        out["refusal_reason"] = row.decision_reason
        out["complaint_guidance"] = row.complaint_guidance
    if view in (View.FULL, View.PLACEMENT):
        out["citizen_name"] = citizen.name if citizen else None
        out["reason"] = row.reason
        out["citizen_wishes"] = row.citizen_wishes
        out["assessment"] = row.assessment
        out["decision_reason"] = row.decision_reason
        out["continued_from_referral_id"] = str(row.continued_from_id) if row.continued_from_id else None
        out["continued_in_referral_id"] = str(row.continued_in_id) if row.continued_in_id else None
        out["additions"] = [addition_view(a) for a in additions]
        out.update(clocks_view(repository.case_to_domain(row), rules or clocks.VisitationRules()))
    if view is View.FULL:
        out["referrer_name"] = row.referrer_name
        out["municipality"] = row.municipality
        out["decided_by"] = row.decided_by
        out["target_group_override"] = row.target_group_override
        out["follow_ups_held"] = row.follow_ups_held
        out["withdrawn_reason"] = row.withdrawn_reason
        if sees_cpr(view) and citizen is not None and vault is not None:
            out["cpr_masked"] = masked_cpr(vault.decrypt(citizen.cpr_encrypted))
    out["history"] = [
        {"at": h.at, "action": h.action, "title": ACTION_TEXT.get(h.action or "", h.status), "from_status": h.from_status,
         "status": h.status, "note": h.note,
         **({"by": h.by, "internal_note": h.internal_note} if sees_internal_notes(view) else {})}
        for h in history
    ]
    return out


def citizen_view(row: Referral, history: list[ReferralStatusChange]) -> dict[str, Any]:
    """The citizen's own case in plain Danish: no internal notes, no staff names."""
    status = dm.CaseStatus(row.status)
    return {
        "referral_id": str(row.id),
        "status": row.status,
        "status_text": STATUS_TEXT[status],
        "received_on": clock.local_date(row.received_at),
        "offer_id": row.offer_id,
        "start_date": row.start_date,
        "moved_in_on": row.moved_in_on,
        "next_follow_up": row.follow_up_date if status is dm.CaseStatus.PLACED else None,
        "refusal_reason": row.decision_reason if status is dm.CaseStatus.REFUSED else None,
        "complaint_guidance": row.complaint_guidance if status is dm.CaseStatus.REFUSED else None,
        # The decision and its reason, granted or refused, and the law it was made under.
        "decision": row.decision, "decided_at": row.decided_at, "decision_reason": row.decision_reason,
        "legal_basis": row.legal_basis,
        "history": [{"at": h.at, "title": ACTION_TEXT.get(h.action or "", h.status), "text": h.note} for h in history],
    }


def summary(row: Referral, **extra: Any) -> dict[str, Any]:
    return {"referral_id": str(row.id), "status": row.status, "offer_id": row.offer_id,
            "botilbud_id": row.botilbud_id, **extra}


# ---------------------------------------------------------------------------------------------
# Intake


async def register_citizen(uow: UnitOfWork, vault: CprVault, cpr: str, name: str,
                           municipality: str | None = None) -> Citizen:
    """Find the citizen by CPR (keyed hash) or register them; emits CitizenRegistered for new ones."""
    cpr = normalize_cpr(cpr, today=today())
    cpr_hash = vault.hash(cpr)
    citizen = await repository.citizen_by_cpr_hash(uow, cpr_hash, lock=True)
    if citizen is None:
        citizen = Citizen(id=uuid.uuid4(), cpr_hash=cpr_hash, cpr_encrypted=vault.encrypt(cpr), name=name,
                          municipality=municipality, birth_date=birth_date_from_cpr(cpr))
        repository.add_new_citizen(uow, citizen)
        uow.emit(CitizenRegisteredV1(citizen_id=citizen.id, cpr_hash=cpr_hash, citizen_name=name,
                                     municipality=municipality))
    elif citizen.birth_date is None:
        citizen.birth_date = birth_date_from_cpr(cpr)
    return citizen


async def _open_referral(uow: UnitOfWork, citizen: Citizen, referrer: dm.Referrer, *, reason: str,
                         citizen_wishes: str | None, requested_step: int | None, requested_offer: str | None,
                         requested_offer_id: str | None, municipality: str | None) -> tuple[Referral, bool]:
    """Open a case for the referral — or, when the citizen has an open case in this municipality, add the
    referral to it (one case per citizen). Returns the case's row and whether the referral was added."""
    if requested_offer_id:
        await repository.get_offer(uow, requested_offer_id, what="requested_offer_id")
    received_at = now()
    open_rows = {r.id: r for r in await repository.open_cases_of(uow, citizen.id)}
    joined = lc.case_to_join([repository.case_to_domain(r) for r in open_rows.values()], municipality)
    basis = dm.parse_legal_basis(requested_offer) if requested_offer else None
    if joined is not None:
        row = open_rows[joined.case_id]
        addition = lc.add_to_case(joined, addition_id=uuid.uuid4(), referrer=referrer, reason=reason, at=received_at,
                                  citizen_wishes=citizen_wishes, requested_step=requested_step,
                                  requested_legal_basis=basis, requested_offer_id=requested_offer_id)
    if joined is not None:
        repository.add_addition(uow, repository.addition_row(row.id, addition))
        repository.write_case(row, joined)
        repository.add_history(uow, row, joined.history, at_commit=True)
        joined.history.clear()
        return row, True
    case = lc.open_case(
        case_id=uuid.uuid4(), citizen_id=citizen.id, referrer=referrer, reason=reason, received_at=received_at,
        municipality=municipality, citizen_wishes=citizen_wishes, requested_step=requested_step,
        requested_legal_basis=basis, requested_offer_id=requested_offer_id,
    )
    row = repository.new_case_row(case)
    repository.add_case_at_commit(uow, row, case.history)
    uow.emit(ReferralReceivedV1(
        citizen_id=citizen.id, referral_id=row.id, received_at=received_at, channel=referrer.channel.value,
        referrer_org=referrer.org, requested_step=requested_step, requested_offer=row.requested_offer,
    ))
    return row, False


async def receive_partner_referral(uow: UnitOfWork, partner: Principal, raw: bytes, *, ctx: ServiceContext) -> Response:
    """A partner's referral message: the kit checks, deduplicates and answers with a receipt."""
    vault = ctx.cpr_vault()

    async def process(uow: UnitOfWork, msg: PartnerReferral) -> dict[str, Any]:
        # The kit has checked that sender.org is the token's organisation. The referral arrived at
        # this installation, so it is the municipality this installation serves that receives it.
        receiving = serving_municipality(ctx.settings)
        citizen = await register_citizen(uow, vault, msg.cpr, msg.citizen_name, receiving)
        referrer = dm.Referrer(channel=dm.Channel.PARTNER, org=msg.sender.org, name=msg.sender.name)
        row, added = await _open_referral(uow, citizen, referrer, reason=msg.reason, citizen_wishes=None,
                                          requested_step=msg.requested_step, requested_offer=msg.requested_offer,
                                          requested_offer_id=None, municipality=receiving)
        uow.audit(partner, "referral.add" if added else "referral.create", citizen_id=citizen.id,
                  object_type="referral", object_id=row.id)
        # The receipt names the case: the citizen's open case when the referral joined it.
        return {"referral_id": str(row.id)}

    def cpr_hash_of(msg: PartnerReferral) -> str | None:
        try:
            return vault.hash(normalize_cpr(msg.cpr, today=today()))
        except InvalidInput:
            return None

    # The earlier receipt with the person and their open cases (one round trip), after the person's lock.
    reads = person_reads(cpr_hash_of, repository.cpr_locks,
                         lambda uow, cpr_hash, msg, earlier: repository.look_up_referral_intake(uow, cpr_hash, earlier))
    return await receive_message(uow, raw, PartnerReferral, endpoint="referrals", sender=partner, process=process,
                                 **reads)


async def _case_with_additions(uow: UnitOfWork, row: Referral) -> tuple[dm.VisitationCase, list[ReferralAddition]]:
    additions = await repository.additions_of(uow, row.id)
    return repository.case_to_domain(row, additions), additions


def _followed_since(row: Referral, additions: list[ReferralAddition], user: Principal) -> datetime | None:
    """A partner whose referral joined someone else's case follows it from its own first addition."""
    if user.role != "partner" or (row.channel == dm.Channel.PARTNER.value and row.referrer_org == user.org):
        return None
    return min((a.received_at for a in additions if a.referrer_org == user.org), default=None)


async def referral_for_partner(uow: UnitOfWork, partner: Principal, referral_id: uuid.UUID, *,
                               ctx: ServiceContext) -> dict[str, Any]:
    row = await repository.get_referral(uow, referral_id)
    if row is None:
        raise NotFound(NOT_SENT_BY_YOU, en=NOT_SENT_BY_YOU_EN)
    case, additions = await _case_with_additions(uow, row)
    # Same answer whether it does not exist or belongs to another org: no probing of others' referrals.
    authorize(view_of(actor_of(partner, ctx), case) is View.REFERRER, NOT_SENT_BY_YOU, en=NOT_SENT_BY_YOU_EN,
              hide=True, not_found=NOT_SENT_BY_YOU, not_found_en=NOT_SENT_BY_YOU_EN, citizen_id=row.citizen_id,
              object_type="referral", object_id=row.id)
    uow.audit(partner, "referral.read", citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
    history = await repository.history_rows(uow, row.id)
    await uow.commit()
    return referrer_view(row, history, since=_followed_since(row, additions, partner))


async def create_referral(uow: UnitOfWork, user: Principal, body: StaffReferral, *, ctx: ServiceContext) -> dict[str, Any]:
    if user.municipality and body.municipality and body.municipality != user.municipality:
        raise Forbidden(f"Du behandler sager for {user.municipality}; en sag for {body.municipality} "
                        "oprettes af den kommunes visitation.")
    # The staff member's own municipality unless the body names one; else the installation's.
    municipality = body.municipality or user.municipality or serving_municipality(ctx.settings)
    citizen = await register_citizen(uow, ctx.cpr_vault(), body.cpr, body.citizen_name, municipality)
    referrer = dm.Referrer(channel=dm.Channel.STAFF, sub=user.sub, name=user.name)
    row, added = await _open_referral(uow, citizen, referrer, reason=body.reason, citizen_wishes=body.citizen_wishes,
                                      requested_step=body.requested_step, requested_offer=body.requested_offer,
                                      requested_offer_id=body.requested_offer_id, municipality=municipality)
    uow.audit(user, "referral.add" if added else "referral.create", citizen_id=citizen.id, object_type="referral",
              object_id=row.id)
    await uow.commit()
    return {"referral_id": str(row.id), "citizen_id": str(citizen.id), "status": row.status,
            "added_to_open_case": added}


# ---------------------------------------------------------------------------------------------
# Reading cases


async def _readable_case(uow: UnitOfWork, ctx: ServiceContext, referral_id: uuid.UUID,
                         user: Principal) -> tuple[Referral, View]:
    row, view, _ = await _readable_case_and_additions(uow, ctx, referral_id, user)
    return row, view


async def _readable_case_and_additions(uow: UnitOfWork, ctx: ServiceContext, referral_id: uuid.UUID,
                                       user: Principal) -> tuple[Referral, View, list[ReferralAddition]]:
    row = await repository.get_referral(uow, referral_id)
    if row is None:
        raise NotFound(NO_SUCH_CASE, en=NO_SUCH_CASE_EN)
    case, additions = await _case_with_additions(uow, row)
    view = view_of(actor_of(user, ctx), case)
    authorize(view is not View.NONE, NO_SUCH_CASE, en=NO_SUCH_CASE_EN, hide=True, not_found=NO_SUCH_CASE,
              not_found_en=NO_SUCH_CASE_EN, citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
    return row, view, additions


async def read_case(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, *, ctx: ServiceContext) -> dict[str, Any]:
    """One case, as much as the caller may see."""
    row, view, additions = await _readable_case_and_additions(uow, ctx, referral_id, user)
    citizen = await repository.get_citizen(uow, row.citizen_id)
    history = await repository.history_rows(uow, row.id)
    uow.audit(user, "referral.read", citizen_id=row.citizen_id, object_type="referral", object_id=row.id,
              detail={"view": view.value})
    await uow.commit()
    if view is View.CITIZEN:
        return citizen_view(row, history)
    if view is View.REFERRER:  # the same as the integration endpoint: the contract's view
        return referrer_view(row, history, since=_followed_since(row, additions, user))
    return case_view(row, citizen, view, history, ctx.cpr_vault(), additions, visitation_rules(ctx))


async def reveal_cpr(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, *, ctx: ServiceContext) -> dict[str, Any]:
    row, view = await _readable_case(uow, ctx, referral_id, user)
    if not sees_cpr(view):
        raise Forbidden("Kun visitationen i sagens kommune må se CPR-nummeret.")
    citizen = await repository.get_citizen(uow, row.citizen_id)
    uow.audit(user, "citizen.cpr.reveal", citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
    await uow.commit()
    return {"citizen_id": str(row.citizen_id), "cpr": ctx.cpr_vault().decrypt(citizen.cpr_encrypted)}


async def list_cases(uow: UnitOfWork, user: Principal, *, ctx: ServiceContext, status: str | None = None,
                     offer_id: str | None = None, botilbud_id: str | None = None, citizen_id: uuid.UUID | None = None,
                     before: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The case list (visitation: the municipality's; coordinator: placements to their own botilbud)."""
    statuses = None
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in {c.value for c in dm.CaseStatus}]
        if unknown:
            raise DomainError(f"Ukendt status {', '.join(unknown)}; brug nogle af {', '.join(s.value for s in dm.CaseStatus)}.")
    if user.role == "coordinator":
        if not user.botilbud:
            raise Forbidden("Dit login nævner intet botilbud; du ser kun sager med anbringelse i dit eget botilbud.")
        if botilbud_id and botilbud_id != user.botilbud:
            raise Forbidden("Du ser kun sager med anbringelse i dit eget botilbud.")
        botilbud_id = user.botilbud
    rows = await repository.case_list(uow, actor_of(user, ctx).scope, statuses=statuses, offer_id=offer_id,
                                      botilbud_id=botilbud_id, citizen_id=citizen_id, before=before, limit=limit)
    await uow.audit_many(user, "referral.list", [(r.citizen_id, r.id) for r in rows], object_type="referral")
    await uow.commit()
    return [{"referral_id": str(r.id), "citizen_id": str(r.citizen_id), "citizen_name": r.name, "status": r.status,
             "received_at": r.received_at, "referrer_org": r.referrer_org, "requested_step": r.requested_step,
             "offer_id": r.offer_id, "botilbud_id": r.botilbud_id, "step": r.step,
             "follow_up_date": r.follow_up_date, "moved_in_on": r.moved_in_on, "additions": r.additions} for r in rows]


async def my_cases(uow: UnitOfWork, user: Principal) -> list[dict[str, Any]]:
    """The citizen's own cases (role citizen)."""
    try:
        citizen_id = uuid.UUID(user.sub)
    except ValueError:
        raise Forbidden("Dit login er ikke en borgers: tokenets sub er ikke et borger-id.") from None
    out = []
    for row in await repository.cases_of_citizen(uow, citizen_id):
        out.append(citizen_view(row, await repository.history_rows(uow, row.id)))
        uow.audit(user, "referral.read", citizen_id=row.citizen_id, object_type="referral", object_id=row.id,
                  detail={"view": "citizen"})
    await uow.commit()
    return out


async def matches(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, *, ctx: ServiceContext,
                  step: int | None = None, legal_basis: str | None = None, all_steps: bool = False) -> dict[str, Any]:
    """Offers that fit the case, free places, exclusions, warnings."""
    row, view = await _readable_case(uow, ctx, referral_id, user)
    case = repository.case_to_domain(row)
    profile = await repository.profile_of(uow, row, case, today())
    if not all_steps:
        step = step or row.requested_step
        legal_basis = legal_basis or row.requested_offer
    offers = await repository.all_offers(uow)
    mixes = await repository.resident_mixes(uow)
    result = match_offers([repository.offer_to_domain(o, mixes.get(o.id)) for o in offers], profile, step=step,
                          legal_basis=dm.LegalBasis(legal_basis) if legal_basis else None)
    uow.audit(user, "referral.match", citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
    await uow.commit()
    return {
        "referral_id": str(row.id),
        "considered": {"step": step, "legal_basis": legal_basis, "age": profile.age,
                       "traits": sorted(t.value for t in profile.traits)},
        "offers": [{"offer_id": m.offer.offer_id, "name": m.offer.name, "botilbud_id": m.offer.botilbud_id,
                    "legal_basis": m.offer.legal_basis.value, "step": m.offer.step, "fits": m.fits,
                    "free_places": m.free_places, "exclusions": list(m.exclusions), "warnings": list(m.warnings),
                    "requested": m.offer.offer_id == row.requested_offer_id}
                   for m in result],
    }


# ---------------------------------------------------------------------------------------------
# Changing cases (visitation)


async def _changeable(uow: UnitOfWork, ctx: ServiceContext, referral_id: uuid.UUID,
                      user: Principal) -> tuple[Referral, dm.VisitationCase]:
    row = await repository.get_referral(uow, referral_id, lock=True)
    if row is None:
        raise NotFound(NO_SUCH_CASE)
    case = repository.case_to_domain(row)
    actor = actor_of(user, ctx)
    # Who may read the case learns why they may not change it; anyone else gets the unknown case's answer.
    authorize(can_change(actor, case), CHANGES_ARE_VISITATIONS, hide=view_of(actor, case) is View.NONE,
              not_found=NO_SUCH_CASE, citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
    return row, case


def _finish(uow: UnitOfWork, user: Principal, row: Referral, case: dm.VisitationCase, action: str,
            detail: dict[str, Any] | None = None) -> None:
    repository.save_case(uow, row, case)
    uow.audit(user, action, citizen_id=row.citizen_id, object_type="referral", object_id=row.id, detail=detail)


async def start_screening(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: Note | None, *,
                          ctx: ServiceContext) -> dict[str, Any]:
    row, case = await _changeable(uow, ctx, referral_id, user)
    lc.start_screening(case, by=user.sub, at=now(), note=body.note if body else None)
    _finish(uow, user, row, case, "referral.screening")
    await uow.commit()
    return summary(row)


async def record_assessment(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: AssessmentIn, *,
                            ctx: ServiceContext) -> dict[str, Any]:
    row, case = await _changeable(uow, ctx, referral_id, user)
    lc.record_assessment(case, scores=body.scores, wishes=body.wishes, needs=body.needs, resources=body.resources,
                         traits=body.traits, by=user.sub, at=now())
    _finish(uow, user, row, case, "referral.assessment")
    await uow.commit()
    return summary(row, assessment=row.assessment)


async def decide(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: Decision, *,
                 ctx: ServiceContext) -> dict[str, Any]:
    """Grant (reserving a place or joining the waitlist) or refuse."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    at = now()
    if body.decision == "granted":
        if not body.offer_id:
            raise DomainError("En bevilget plads kræver offer_id: det tilbud, borgeren bevilges (se sagens match).")
        offer_row = await repository.get_offer(uow, body.offer_id, lock=True)
        profile = await repository.profile_of(uow, row, case, today())
        lc.grant(case, offer=repository.offer_to_domain(offer_row), profile=profile,
                 start_date=body.start_date or today(), follow_up_date=body.follow_up_date,
                 reason=body.reason or "", by=user.sub, at=at, legal_basis=dm.LegalBasis(body.legal_basis),
                 step=body.step, join_waitlist=body.join_waitlist,
                 target_group_override=body.target_group_override, internal_note=body.internal_note)
        if case.status is dm.CaseStatus.GRANTED:
            repository.adjust_places(offer_row, reserved=+1)
        g = case.grant
        _finish(uow, user, row, case, "referral.granted", detail={"offer_id": g.offer_id, "waitlisted": g.waitlisted})
        uow.emit(VisitationDecidedV1(
            citizen_id=row.citizen_id, referral_id=row.id, decision="granted", decided_at=at, decided_by=user.sub,
            legal_basis=g.legal_basis.value, step=g.step, offer_id=g.offer_id, botilbud_id=g.botilbud_id,
            start_date=g.start_date, follow_up_date=g.follow_up_date, waitlisted=g.waitlisted,
        ))
    else:
        lc.refuse(case, reason=body.reason or "", legal_basis=dm.LegalBasis(body.legal_basis), by=user.sub, at=at,
                  complaint_guidance=body.complaint_guidance, internal_note=body.internal_note)
        _finish(uow, user, row, case, "referral.refused")
        uow.emit(VisitationDecidedV1(
            citizen_id=row.citizen_id, referral_id=row.id, decision="refused", decided_at=at, decided_by=user.sub,
            legal_basis=body.legal_basis,
        ))
    await uow.commit()
    return summary(row, decision=row.decision, waitlisted=row.waitlisted, start_date=row.start_date,
                   follow_up_date=row.follow_up_date)


async def reopen(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: Reason, *,
                 ctx: ServiceContext) -> dict[str, Any]:
    """Reassess a refused case (genvurdering)."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    lc.reopen_for_reassessment(case, reason=body.reason, by=user.sub, at=now())
    _finish(uow, user, row, case, "referral.reopen")
    await uow.commit()
    return summary(row)


async def release_place(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: Reason, *,
                        ctx: ServiceContext) -> dict[str, Any]:
    """Give up the reserved place; the citizen keeps the grant and waits."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    offer_row = await repository.get_offer(uow, row.offer_id, lock=True)
    lc.release_place(case, reason=body.reason, by=user.sub, at=now())
    repository.adjust_places(offer_row, reserved=-1)
    _finish(uow, user, row, case, "referral.release_place")
    await uow.commit()
    return summary(row)


async def reserve_place(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, *,
                        ctx: ServiceContext) -> dict[str, Any]:
    """Reserve a freed place for a waiting citizen."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    offer_row = await repository.get_offer(uow, row.offer_id, lock=True)
    lc.reserve_place(case, offer=repository.offer_to_domain(offer_row), by=user.sub, at=now())
    repository.adjust_places(offer_row, reserved=+1)
    _finish(uow, user, row, case, "referral.reserve_place")
    await uow.commit()
    return summary(row)


async def move_in(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: MoveIn, *,
                  ctx: ServiceContext) -> dict[str, Any]:
    """Register the move-in (the placement starts)."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    if case.grant is None:
        lc.check_transition(case, dm.CaseStatus.PLACED, "register the move-in")
    offer_row = await repository.get_offer(uow, row.offer_id, lock=True)
    had_reservation = case.status is dm.CaseStatus.GRANTED
    lc.move_in(case, offer=repository.offer_to_domain(offer_row), moved_in_on=body.moved_in_on or today(),
               follow_up_date=body.follow_up_date, by=user.sub, at=now())
    repository.adjust_places(offer_row, occupied=+1, reserved=-1 if had_reservation else 0)
    p = case.placement
    _finish(uow, user, row, case, "referral.move_in")
    uow.emit(PlacementStartedV1(
        citizen_id=row.citizen_id, referral_id=row.id, offer_id=p.offer_id, botilbud_id=p.botilbud_id,
        legal_basis=p.legal_basis.value, step=p.step, moved_in_on=p.moved_in_on, follow_up_date=p.follow_up_date,
    ))
    await uow.commit()
    return summary(row, moved_in_on=row.moved_in_on, follow_up_date=row.follow_up_date)


async def record_follow_up(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: FollowUpIn, *,
                           ctx: ServiceContext) -> dict[str, Any]:
    """Record a follow-up and set the next one."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    held_on = body.held_on or today()
    lc.record_follow_up(case, held_on=held_on, next_follow_up_date=body.next_follow_up_date, by=user.sub,
                        at=now(), note=body.note)
    _signal_drift(uow, row, case, today(), visitation_rules(ctx))
    _finish(uow, user, row, case, "referral.follow_up")
    uow.emit(FollowUpHeldV1(citizen_id=row.citizen_id, referral_id=row.id, held_on=held_on,
                            next_follow_up_date=body.next_follow_up_date))
    await uow.commit()
    return summary(row, follow_up_date=row.follow_up_date, follow_ups_held=row.follow_ups_held)


async def plan_move_out(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: MoveOutPlanIn, *,
                        ctx: ServiceContext) -> dict[str, Any]:
    """Plan the move-out (receiving offer or own home, phase-out visits)."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    receiving_row = (await repository.get_offer(uow, body.receiving_offer_id, what="receiving_offer_id")
                     if body.receiving_offer_id else None)
    _, warnings = lc.plan_move_out(
        case, destination=dm.Destination(body.destination), planned_on=body.planned_on, by=user.sub, at=now(),
        receiving_offer=repository.offer_to_domain(receiving_row) if receiving_row else None,
        receiving_step=body.receiving_step, phase_out_visits_planned=body.phase_out_visits_planned,
        reason=body.reason,
    )
    plan = case.move_out_plan
    _finish(uow, user, row, case, "referral.move_out_plan")
    uow.emit(MoveOutPlannedV1(
        citizen_id=row.citizen_id, referral_id=row.id, botilbud_id=row.botilbud_id, planned_on=plan.planned_on,
        destination=plan.destination.value, receiving_offer_id=plan.receiving_offer_id,
        receiving_botilbud_id=receiving_row.botilbud_id if receiving_row else None,
        receiving_step=plan.receiving_step, current_step=row.step, phase_out_visits_planned=plan.phase_out_visits_planned,
    ))
    await uow.commit()
    return summary(row, move_out_plan=row.move_out_plan, warnings=warnings)


async def record_phase_out_visit(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: VisitIn, *,
                                 ctx: ServiceContext) -> dict[str, Any]:
    """Record a phase-out visit (udslusningsbesøg)."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    lc.record_phase_out_visit(case, visited_on=body.visited_on, by=user.sub, at=now())
    _finish(uow, user, row, case, "referral.phase_out_visit")
    await uow.commit()
    return summary(row, move_out_plan=row.move_out_plan)


async def end_placement(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: EndIn, *,
                        ctx: ServiceContext) -> dict[str, Any]:
    """End the placement (moved out, stepped down, …)."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    receiving_id = body.receiving_offer_id
    if receiving_id is None and body.destination in (None, "offer") and case.move_out_plan is not None:
        receiving_id = case.move_out_plan.receiving_offer_id
    receiving_row = (await repository.get_offer(uow, receiving_id, what="receiving_offer_id")
                     if receiving_id else None)
    offer_row = await repository.get_offer(uow, row.offer_id, lock=True) if row.offer_id else None
    if offer_row is None:
        lc.check_transition(case, dm.CaseStatus.ENDED, "end the placement")
    lc.end_placement(
        case, ended_on=body.ended_on or today(), by=user.sub, at=now(),
        cause=dm.EndCause(body.cause) if body.cause else None,
        destination=dm.Destination(body.destination) if body.destination else None,
        receiving_offer=repository.offer_to_domain(receiving_row) if receiving_row else None,
        to_step=body.to_step, reason=body.reason, internal_note=body.internal_note,
    )
    repository.adjust_places(offer_row, occupied=-1)
    e = case.ending
    successor = await _continue_at_receiving_offer(uow, user, row, case, receiving_row, body)
    _finish(uow, user, row, case, "referral.end", detail={"cause": e.cause.value})
    uow.emit(PlacementEndedV1(
        citizen_id=row.citizen_id, referral_id=row.id, offer_id=row.offer_id, botilbud_id=row.botilbud_id,
        ended_on=e.ended_on, cause=e.cause.value, destination=e.destination.value,
        receiving_offer_id=e.receiving_offer_id, receiving_botilbud_id=receiving_row.botilbud_id if receiving_row else None,
        from_step=e.from_step, to_step=e.to_step, stepped_down=e.stepped_down,
        continued_in_referral_id=successor.id if successor is not None else None,
    ))
    if successor is not None:
        _emit_opened(uow, successor)
    await uow.commit()
    return summary(row, ended_on=row.ended_on, end_cause=row.end_cause, end_destination=row.end_destination,
                   to_step=row.to_step, stepped_down=e.stepped_down,
                   continued_in=_continued_in(successor))


def _continued_in(successor: Referral | None) -> dict[str, Any] | None:
    if successor is None:
        return None
    return {"referral_id": str(successor.id), "status": successor.status, "offer_id": successor.offer_id}


async def _continue_at_receiving_offer(uow: UnitOfWork, user: Principal, row: Referral, case: dm.VisitationCase,
                                       receiving_row: Offer | None, body: EndIn) -> Referral | None:
    """A move to an offer continues the case there: placed with a free place, else on its waitlist."""
    receiving = repository.offer_to_domain(receiving_row) if receiving_row is not None else None
    if not lc.opens_case_at_receiving_offer(case, receiving):
        return None
    receiving_row = await repository.get_offer(uow, receiving_row.id, lock=True)
    receiving = repository.offer_to_domain(receiving_row)
    profile = await repository.profile_of(uow, row, case, today())
    new = lc.continue_at_receiving_offer(case, case_id=uuid.uuid4(), offer=receiving, profile=profile,
                                         by=user.sub, at=now(), target_group_override=body.target_group_override)
    if new.status is dm.CaseStatus.PLACED:
        repository.adjust_places(receiving_row, occupied=+1)
    new_row = repository.new_case_row(new)
    await repository.add_referral(uow, new_row, new.history)
    new.history.clear()
    uow.audit(user, "referral.continue", citizen_id=new_row.citizen_id, object_type="referral", object_id=new_row.id,
              detail={"continued_from": str(row.id)})
    return new_row


def _emit_opened(uow: UnitOfWork, row: Referral) -> None:
    """The events of a case opened already decided (a move to another offer): received, decided, moved in."""
    case = repository.case_to_domain(row)
    uow.emit(ReferralReceivedV1(
        citizen_id=row.citizen_id, referral_id=row.id, received_at=row.received_at, channel=row.channel,
        requested_step=row.requested_step, requested_offer=row.requested_offer,
    ))
    g = case.grant
    uow.emit(VisitationDecidedV1(
        citizen_id=row.citizen_id, referral_id=row.id, decision="granted", decided_at=g.decided_at,
        decided_by=g.decided_by, legal_basis=g.legal_basis.value, step=g.step, offer_id=g.offer_id,
        botilbud_id=g.botilbud_id, start_date=g.start_date, follow_up_date=g.follow_up_date, waitlisted=g.waitlisted,
    ))
    p = case.placement
    if p is not None:
        uow.emit(PlacementStartedV1(
            citizen_id=row.citizen_id, referral_id=row.id, offer_id=p.offer_id, botilbud_id=p.botilbud_id,
            legal_basis=p.legal_basis.value, step=p.step, moved_in_on=p.moved_in_on, follow_up_date=p.follow_up_date,
        ))


async def withdraw(uow: UnitOfWork, user: Principal, referral_id: uuid.UUID, body: Reason, *,
                   ctx: ServiceContext) -> dict[str, Any]:
    """Withdraw the referral before move-in."""
    row, case = await _changeable(uow, ctx, referral_id, user)
    previous = case.status
    offer_row = (await repository.get_offer(uow, row.offer_id, lock=True)
                 if previous is dm.CaseStatus.GRANTED else None)
    lc.withdraw(case, reason=body.reason, by=user.sub, at=now())
    if offer_row is not None:
        repository.adjust_places(offer_row, reserved=-1)
    _finish(uow, user, row, case, "referral.withdraw")
    uow.emit(ReferralWithdrawnV1(citizen_id=row.citizen_id, referral_id=row.id, withdrawn_at=now(),
                                 previous_status=previous.value))
    await uow.commit()
    return summary(row)


# ---------------------------------------------------------------------------------------------
# Offers and waitlists


async def list_offers(uow: UnitOfWork, user: Principal) -> list[dict[str, Any]]:
    mixes = await repository.resident_mixes(uow)
    return [repository.offer_json(o, mixes.get(o.id)) for o in await repository.all_offers(uow)]


def _apply_offer(row: Offer, body: OfferIn, mix: ResidentMix) -> None:
    row.name, row.botilbud_id, row.municipality = body.name, body.botilbud_id, body.municipality
    row.legal_basis, row.step, row.approved_places = body.legal_basis, body.step, body.approved_places
    if body.occupied_places is not None:  # None: occupancy stays as move-ins and move-outs keep it
        row.occupied_places = body.occupied_places
    row.occupied_places = row.occupied_places or 0
    tg = body.target_group
    requires = dm.parse_traits(tg.requires)
    excludes = dm.parse_traits(tg.excludes)
    row.target_group, row.target_min_age, row.target_max_age = tg.description, tg.min_age, tg.max_age
    row.target_requires, row.target_excludes = sorted(t.value for t in requires), sorted(t.value for t in excludes)
    row.active = body.active
    if row.reserved_places is None:
        row.reserved_places = 0
    offer = validate_offer(repository.offer_to_domain(row, mix))
    check_occupancy(offer, placed_here=mix.residents)


def require_the_installations_own(user: Principal, ctx: ServiceContext) -> None:
    """Offers, the follow-up scan and the flow report are the installation's, not one case's: visitation
    staff whose token names another municipality than the one the installation serves are refused."""
    authorize(actor_of(user, ctx).scope.sees_records_without_municipality,
              f"Tilbud, opfølgningsscanning og flowrapport hører til {serving_municipality(ctx.settings) or 'installationens kommune'}; "
              f"dit token er udstedt til visitationen i {user.municipality}.")


async def put_offer(uow: UnitOfWork, user: Principal, offer_id: str, body: OfferIn, *,
                    ctx: ServiceContext) -> dict[str, Any]:
    """Create or update an offer."""
    require_the_installations_own(user, ctx)
    if body.offer_id != offer_id:
        raise DomainError(f"offer_id i forespørgslen ({body.offer_id!r}) er ikke det samme som i adressen ({offer_id!r}).")
    row = await repository.offer_for_update(uow, offer_id)
    created = row is None
    if created:
        row = Offer(id=offer_id, reserved_places=0)
    mix = (await repository.resident_mixes(uow, [offer_id])).get(offer_id, ResidentMix())
    _apply_offer(row, body, mix)
    if created:
        repository.add_offer(uow, row)
    uow.audit(user, "offer.create" if created else "offer.update", object_type="offer", object_id=offer_id)
    await uow.commit()
    return repository.offer_json(row, mix)


async def waitlist(uow: UnitOfWork, user: Principal, offer_id: str, *, ctx: ServiceContext,
                   with_entries: bool = True) -> dict[str, Any]:
    """Who waits for the offer, and for how long. ``with_entries`` False: the figures only — no citizen is
    shown, so nothing is audited (the capacity overview asks this for every offer on every view)."""
    offer_row = await repository.get_offer(uow, offer_id)
    if user.role == "coordinator" and (not user.botilbud or user.botilbud != offer_row.botilbud_id):
        raise Forbidden("Du ser kun ventelisterne for dit eget botilbud.")
    if not with_entries:
        return {"offer_id": offer_id, "name": offer_row.name, "entries": [],
                "free_places": repository.offer_to_domain(offer_row).free_places,
                **await repository.waitlist_figures(uow, offer_id, today())}
    cases = await repository.waiting_cases(uow, offer_id)
    wl = waitlist_for(offer_id, cases, today())
    # The queue and its figures are the offer's, across municipalities; the entries shown are only the
    # cases the caller could open one by one (the same rule as the single read).
    actor = actor_of(user, ctx)
    shown = {c.case_id for c in cases if view_of(actor, c) is not View.NONE}
    entries = [e for e in wl.entries if e.case_id in shown]
    await uow.audit_many(user, "referral.waitlist", [(e.citizen_id, e.case_id) for e in entries], object_type="referral")
    await uow.commit()
    return {
        "offer_id": offer_id, "name": offer_row.name, "free_places": repository.offer_to_domain(offer_row).free_places,
        "waiting": len(wl.entries), "reserved": sum(1 for e in wl.entries if e.place_reserved),
        "median_days_waiting": wl.median_days_waiting, "longest_days_waiting": wl.longest_days_waiting,
        "entries": [{"referral_id": str(e.case_id), "citizen_id": str(e.citizen_id), "status": e.status.value,
                     "queue_position": e.queue_position, "place_reserved": e.place_reserved,
                     "granted_at": e.granted_at, "start_date": e.start_date,
                     "days_since_referral": e.days_since_referral, "days_since_grant": e.days_since_grant}
                    for e in entries],
    }


# ---------------------------------------------------------------------------------------------
# Follow-ups


async def due_follow_ups(uow: UnitOfWork, user: Principal, within_days: int, *, ctx: ServiceContext) -> list[dict[str, Any]]:
    """Placements whose follow-up is due within the given days (or overdue)."""
    horizon = today() + timedelta(days=within_days)
    rows = await repository.due_follow_ups(uow, actor_of(user, ctx).scope, horizon)
    await uow.audit_many(user, "referral.follow_up_list", [(r.citizen_id, r.id) for r in rows], object_type="referral")
    await uow.commit()
    return [{"referral_id": str(r.id), "citizen_id": str(r.citizen_id), "offer_id": r.offer_id,
             "botilbud_id": r.botilbud_id, "legal_basis": r.legal_basis, "follow_up_date": r.follow_up_date,
             "overdue": r.follow_up_date < today()} for r in rows]


async def signal_due_follow_ups(uow: UnitOfWork, on: date, *, lead_days: int = FOLLOW_UP_LEAD_DAYS,
                                batch: int = 500) -> int:
    """Emit FollowUpDue once per placement and follow-up date (the notifications service makes it a
    task) and commit. Returns how many were signalled — not how many rows the scan looked at."""
    signalled = 0
    for row in await repository.placements_to_signal(uow, on + timedelta(days=lead_days), batch=batch):
        case = repository.case_to_domain(row)
        if not lc.follow_up_due(case, on, lead_days=lead_days):
            continue
        lc.mark_follow_up_signalled(case)
        repository.write_case(row, case)
        uow.emit(FollowUpDueV1(
            citizen_id=row.citizen_id, referral_id=row.id, offer_id=row.offer_id, botilbud_id=row.botilbud_id,
            legal_basis=row.legal_basis, step=row.step, follow_up_date=row.follow_up_date,
            temporary=row.legal_basis == dm.LegalBasis.SEL_107.value,
        ))
        uow.audit(None, "referral.follow_up_due", citizen_id=row.citizen_id, object_type="referral", object_id=row.id)
        signalled += 1
    await uow.commit()
    return signalled


def _signal_drift(uow: UnitOfWork, row: Referral, case: dm.VisitationCase, on: date,
                  rules: clocks.VisitationRules) -> int:
    """Emit TemporaryStayDrifting once per stay and reason (notifications makes it a task for visitation)."""
    drifts = clocks.drift_to_signal(case, on, rules)
    if not drifts:
        return 0
    clocks.mark_drift_signalled(case, drifts)
    p = case.placement
    for d in drifts:
        uow.emit(TemporaryStayDriftingV1(
            citizen_id=row.citizen_id, referral_id=row.id, offer_id=p.offer_id, botilbud_id=p.botilbud_id,
            reason=d.reason.value, since=d.since, moved_in_on=p.moved_in_on, follow_ups_held=len(p.follow_ups_held),
            planned_years=rules.temporary_stay_years,
        ))
    uow.audit(None, "referral.drift", citizen_id=row.citizen_id, object_type="referral", object_id=row.id,
              detail={"reasons": [d.reason.value for d in drifts]})
    return len(drifts)


async def signal_drifting_stays(uow: UnitOfWork, on: date, rules: clocks.VisitationRules, *, batch: int = 500) -> int:
    """Signal the temporary stays that drift (each reason once) and commit; returns how many stays."""
    signalled = 0
    moved_in_by = clocks.planned_end(on, -rules.temporary_stay_years)
    for row in await repository.drifting_stays_to_signal(uow, moved_in_by=moved_in_by,
                                                         follow_ups=rules.follow_ups_without_movement, batch=batch):
        case = repository.case_to_domain(row)
        if _signal_drift(uow, row, case, on, rules):
            repository.write_case(row, case)
            signalled += 1
    await uow.commit()
    return signalled


async def scan_follow_ups(uow: UnitOfWork, user: Principal, *, ctx: ServiceContext) -> dict[str, Any]:
    """Signal due follow-ups and drifting temporary stays now (the background job does it every hour)."""
    require_the_installations_own(user, ctx)
    signalled = await signal_due_follow_ups(uow, today())
    return {"signalled": signalled, "drifting": await signal_drifting_stays(uow, today(), visitation_rules(ctx))}


# ---------------------------------------------------------------------------------------------
# The citizen's tovholder (from health)


async def follow_the_chosen_tovholder(uow: UnitOfWork, event: TovholderChosenV1, *, event_id: str,
                                      at: datetime | None) -> None:
    """The citizen chose (or changed) their tovholder in health: keep the choice in the history (for a
    finished placement's ``EpisodeOfCare.careManager``: the tovholder in force at its end) and the current
    one. The kit commits with the inbox entry (an event handled once); the history is keyed by the event
    id too, and a choice older than the current one does not replace it."""
    chosen_at = at or clock.now()
    choice = dict(citizen_id=event.citizen_id, nurse_consultant_sub=event.nurse_consultant_sub,
                  nurse_consultant_name=event.nurse_consultant_name, botilbud_id=event.botilbud_id, chosen_at=chosen_at)
    added = await repository.add_tovholder_choice(uow, event_id=event_id, **choice)
    if await repository.record_tovholder(uow, event_id=event_id, **choice) or added:
        uow.audit(None, "tovholder.recorded", citizen_id=event.citizen_id, object_type="tovholder",
                  object_id=event.nurse_consultant_sub, detail={"cause": event_id, "botilbud_id": event.botilbud_id})


# ---------------------------------------------------------------------------------------------
# Flow report


async def flow(uow: UnitOfWork, user: Principal, period_from: date, period_to: date, *,
               ctx: ServiceContext) -> FlowReport:
    """Flow per period: referrals, decisions, waiting times, placements, move-outs."""
    require_the_installations_own(user, ctx)
    if period_to < period_from:
        raise DomainError("'to' ligger før 'from'; angiv perioden som from=ÅÅÅÅ-MM-DD&to=ÅÅÅÅ-MM-DD.")
    if (period_to - period_from).days > 3660:
        raise DomainError("Perioden er længere end ti år; vælg en kortere.")
    start = datetime.combine(period_from, datetime.min.time(), LOCAL_TZ)
    end = datetime.combine(period_to + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    counts = await repository.flow_counts(uow, period_from, period_to, start, end)
    stays = await repository.temporary_stays_running(uow, period_to)
    report = assemble(counts, period_from, period_to,
                      temporary_stays_drifting=drifting_at(stays, period_to, visitation_rules(ctx)))
    uow.audit(user, "report.flow", detail={"from": period_from.isoformat(), "to": period_to.isoformat()})
    await uow.commit()
    return report
