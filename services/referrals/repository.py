"""Referrals' SQL and the mapping between rows and domain objects: every statement of the service.

The domain decides; this module only loads and writes back. A case is loaded without its history
(the domain only appends to it); after a change, ``save_case`` writes the changed fields back and
inserts the new history entries. ``cases_within`` is the case scope as a WHERE clause: the same
limits ``domain.access.view_of`` applies to one case, so a list never holds a case its single read
would refuse. Functions take the unit of work.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime, timezone, tzinfo
from typing import Any, Sequence

from sqlalchemy import (ColumnElement, Date, Row, Select, String, and_, bindparam, cast, false, func, literal, or_,
                        select, text, true, tuple_)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.orm import aliased

from services.referrals.domain import model as dm
from services.referrals.domain.cpr import age_on
from services.referrals.domain.errors import InvalidInput
from services.referrals.domain.offers import MIX_TRAITS, CitizenProfile, ResidentMix, TargetGroup
from services.referrals.domain.offers import Offer as DomainOffer
from services.referrals.domain.report import CaseFlowFacts, FlowCounts, StayFacts
from services.referrals.models import (Citizen, CitizenTovholder, ConsentRecord, Offer, Referral, ReferralAddition,
                                       ReferralStatusChange, TovholderChoice)
from tovholder import clock
from tovholder import consent_read_model
from tovholder.receipts import EARLIER_RECEIPT
from tovholder.consent import Consent
from tovholder.scopes import Scope
from tovholder.uow import UnitOfWork


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---------------------------------------------------------------------------------------------
# Offers


def offer_to_domain(row: Offer, mix: ResidentMix | None = None) -> DomainOffer:
    """The offer as the domain sees it; ``mix`` from ``resident_mixes`` (the placements), where the
    rule at hand needs it (matching)."""
    return DomainOffer(
        offer_id=row.id,
        name=row.name,
        botilbud_id=row.botilbud_id,
        legal_basis=dm.LegalBasis(row.legal_basis),
        step=row.step,
        approved_places=row.approved_places,
        occupied=row.occupied_places or 0,
        reserved=row.reserved_places or 0,
        target_group=TargetGroup(
            min_age=row.target_min_age,
            max_age=row.target_max_age,
            requires=frozenset(dm.Trait(t) for t in row.target_requires or ()),
            excludes=frozenset(dm.Trait(t) for t in row.target_excludes or ()),
            description=row.target_group or "",
        ),
        mix=mix or ResidentMix(),
        active=row.active if row.active is not None else True,
    )


def offer_json(row: Offer, mix: ResidentMix | None = None) -> dict[str, Any]:
    mix = mix or ResidentMix()
    offer = offer_to_domain(row, mix)
    return {
        "offer_id": row.id,
        "botilbud_id": row.botilbud_id,
        "name": row.name,
        "municipality": row.municipality,
        "legal_basis": row.legal_basis,
        "step": row.step,
        "approved_places": row.approved_places,
        "occupied_places": row.occupied_places,
        "reserved_places": row.reserved_places,
        "free_places": offer.free_places,
        "active": offer.active,
        "target_group": {
            "description": row.target_group,
            "min_age": row.target_min_age,
            "max_age": row.target_max_age,
            "requires": sorted(row.target_requires or []),
            "excludes": sorted(row.target_excludes or []),
        },
        "resident_mix": {
            "residents": mix.residents,
            "outward_reacting": mix.outward_reacting,
            "drug_using": mix.drug_using,
            "withdrawn": mix.withdrawn,
        },
    }


async def get_offer(uow: UnitOfWork, offer_id: str | None, *, lock: bool = False, what: str = "offer_id") -> Offer:
    if not offer_id:
        raise InvalidInput(f"{what} skal udfyldes: id'et på et tilbud (se GET /api/v1/offers).")
    row = await uow.session.get(Offer, offer_id, with_for_update=lock)
    if row is None:
        raise InvalidInput(f"Ukendt tilbud '{offer_id}' i {what}; se de tilbud, der findes, i GET /api/v1/offers.")
    return row


# ---------------------------------------------------------------------------------------------
# Cases


def assessment_to_domain(data: dict[str, Any] | None) -> dm.FunctionalAssessment | None:
    if not data:
        return None
    return dm.FunctionalAssessment(
        scores={dm.VumTheme(k): v for k, v in data["scores"].items()},
        wishes=data["wishes"],
        needs=data.get("needs") or "",
        resources=data.get("resources") or "",
        traits=frozenset(dm.Trait(t) for t in data.get("traits", [])),
        assessed_by=data["assessed_by"],
        assessed_at=datetime.fromisoformat(data["assessed_at"]),
    )


def assessment_json(a: dm.FunctionalAssessment | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "scores": {t.value: s for t, s in a.scores.items()},
        "wishes": a.wishes,
        "needs": a.needs,
        "resources": a.resources,
        "traits": sorted(t.value for t in a.traits),
        "assessed_by": a.assessed_by,
        "assessed_at": a.assessed_at.isoformat(),
    }


def move_out_plan_json(p: dm.MoveOutPlan | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "destination": p.destination.value,
        "planned_on": p.planned_on.isoformat(),
        "receiving_offer_id": p.receiving_offer_id,
        "receiving_step": p.receiving_step,
        "phase_out_visits_planned": p.phase_out_visits_planned,
        "phase_out_visits_done": [d.isoformat() for d in p.phase_out_visits_done],
        "planned_by": p.planned_by,
        "planned_at": p.planned_at.isoformat(),
    }


def move_out_plan_to_domain(data: dict[str, Any] | None) -> dm.MoveOutPlan | None:
    if not data:
        return None
    return dm.MoveOutPlan(
        destination=dm.Destination(data["destination"]),
        planned_on=date.fromisoformat(data["planned_on"]),
        receiving_offer_id=data.get("receiving_offer_id"),
        receiving_step=data.get("receiving_step"),
        phase_out_visits_planned=data["phase_out_visits_planned"],
        phase_out_visits_done=tuple(date.fromisoformat(d) for d in data.get("phase_out_visits_done", [])),
        planned_by=data["planned_by"],
        planned_at=datetime.fromisoformat(data["planned_at"]),
    )


def case_to_domain(row: Referral, additions: Sequence[ReferralAddition] = ()) -> dm.VisitationCase:
    """The case of ``row``; ``additions`` (``additions_of``) where the rule needs who joined it."""
    status = dm.CaseStatus(row.status)
    basis = dm.LegalBasis(row.legal_basis) if row.legal_basis else None
    grant = refusal = placement = ending = None
    if row.decision == "granted" and row.offer_id and basis is not None:
        grant = dm.Grant(
            offer_id=row.offer_id, botilbud_id=row.botilbud_id, legal_basis=basis, step=row.step or 0,
            start_date=row.start_date or clock.local_date(row.decided_at or row.received_at),
            follow_up_date=row.granted_follow_up_date or row.follow_up_date or (row.start_date or clock.local_date(row.received_at)),
            decided_by=row.decided_by or "", decided_at=row.decided_at or row.received_at,
            reason=row.decision_reason or "", waitlisted=bool(row.waitlisted),
            target_group_override=row.target_group_override,
        )
    elif row.decision == "refused" and basis is not None:
        refusal = dm.Refusal(
            reason=row.decision_reason or "", legal_basis=basis, complaint_guidance=row.complaint_guidance or "",
            decided_by=row.decided_by or "", decided_at=row.decided_at or row.received_at,
        )
    if row.moved_in_on is not None and grant is not None:
        placement = dm.Placement(
            offer_id=row.offer_id, botilbud_id=row.botilbud_id, legal_basis=basis, step=row.step or 0,
            moved_in_on=row.moved_in_on, follow_up_date=row.follow_up_date,
            follow_ups_held=tuple(date.fromisoformat(d) for d in row.follow_ups_held or ()),
        )
    if row.ended_on is not None and row.end_cause:
        ending = dm.Ending(
            cause=dm.EndCause(row.end_cause), ended_on=row.ended_on,
            destination=dm.Destination(row.end_destination or "other"), receiving_offer_id=row.receiving_offer_id,
            from_step=row.step or 0, to_step=row.to_step, ended_by=row.ended_by or "",
        )
    return dm.VisitationCase(
        case_id=row.id,
        citizen_id=row.citizen_id,
        municipality=row.municipality,
        referrer=dm.Referrer(channel=dm.Channel(row.channel), org=row.referrer_org, name=row.referrer_name,
                             sub=row.referrer_sub),
        reason=row.reason,
        citizen_wishes=row.citizen_wishes,
        requested_step=row.requested_step,
        requested_legal_basis=dm.LegalBasis(row.requested_offer) if row.requested_offer else None,
        requested_offer_id=row.requested_offer_id,
        received_at=row.received_at,
        status=status,
        assessment=assessment_to_domain(row.assessment),
        grant=grant,
        refusal=refusal,
        placement=placement,
        move_out_plan=move_out_plan_to_domain(row.move_out_plan),
        ending=ending,
        withdrawn_reason=row.withdrawn_reason,
        follow_up_signalled_for=row.follow_up_signalled_for,
        continued_from=row.continued_from_id,
        continued_in=row.continued_in_id,
        added_by_orgs=frozenset(a.referrer_org for a in additions if a.referrer_org),
        drift_signalled=frozenset(row.drift_signalled or ()),
        history=[],
    )


WAITLIST_COLUMNS = (Referral.id, Referral.citizen_id, Referral.municipality, Referral.status, Referral.channel,
                    Referral.received_at, Referral.offer_id, Referral.botilbud_id, Referral.legal_basis, Referral.step, Referral.start_date,
                    Referral.follow_up_date, Referral.decided_at, Referral.decided_by, Referral.waitlisted)


def waitlist_case(r: Any) -> dm.VisitationCase:
    """A granted, not yet placed case from the few columns a waitlist needs (cheap for long waitlists)."""
    return dm.VisitationCase(
        case_id=r.id, citizen_id=r.citizen_id, municipality=r.municipality, referrer=dm.Referrer(channel=dm.Channel(r.channel)),
        reason="", citizen_wishes=None, requested_step=None, requested_legal_basis=None, requested_offer_id=None,
        received_at=r.received_at, status=dm.CaseStatus(r.status),
        grant=dm.Grant(offer_id=r.offer_id, botilbud_id=r.botilbud_id, legal_basis=dm.LegalBasis(r.legal_basis),
                       step=r.step, start_date=r.start_date, follow_up_date=r.follow_up_date,
                       decided_by=r.decided_by or "", decided_at=r.decided_at or r.received_at, reason="",
                       waitlisted=bool(r.waitlisted)),
    )


def write_case(row: Referral, case: dm.VisitationCase) -> None:
    """Copy the domain case's state onto its row."""
    row.status = case.status.value
    row.assessment = assessment_json(case.assessment)
    if case.grant is not None:
        g = case.grant
        row.decision = "granted"
        row.legal_basis, row.step, row.offer_id, row.botilbud_id = g.legal_basis.value, g.step, g.offer_id, g.botilbud_id
        row.start_date, row.decided_at, row.decided_by = g.start_date, g.decided_at, g.decided_by
        row.decision_reason, row.waitlisted, row.target_group_override = g.reason, g.waitlisted, g.target_group_override
        row.follow_up_date = row.granted_follow_up_date = g.follow_up_date
        row.complaint_guidance = None
    elif case.refusal is not None:
        r = case.refusal
        row.decision, row.legal_basis, row.decided_at, row.decided_by = "refused", r.legal_basis.value, r.decided_at, r.decided_by
        row.decision_reason, row.complaint_guidance = r.reason, r.complaint_guidance
    else:
        row.decision = row.decided_at = row.decided_by = row.decision_reason = row.complaint_guidance = None
        row.legal_basis = None
    if case.placement is not None:
        p = case.placement
        row.moved_in_on, row.follow_up_date = p.moved_in_on, p.follow_up_date
        row.follow_ups_held = [d.isoformat() for d in p.follow_ups_held]
    row.follow_up_signalled_for = case.follow_up_signalled_for
    row.drift_signalled = sorted(case.drift_signalled) or None
    row.move_out_plan = move_out_plan_json(case.move_out_plan)
    if case.ending is not None:
        e = case.ending
        row.ended_on, row.end_cause, row.end_destination = e.ended_on, e.cause.value, e.destination.value
        row.receiving_offer_id, row.to_step, row.ended_by = e.receiving_offer_id, e.to_step, e.ended_by
    row.withdrawn_reason = case.withdrawn_reason
    row.continued_from_id, row.continued_in_id = case.continued_from, case.continued_in


def new_case_row(case: dm.VisitationCase) -> Referral:
    """The row for a case the domain just opened (intake, or a case continued at another offer)."""
    r = case.referrer
    row = Referral(
        id=case.case_id, citizen_id=case.citizen_id, channel=r.channel.value, referrer_org=r.org,
        referrer_name=r.name, referrer_sub=r.sub, municipality=case.municipality, reason=case.reason,
        citizen_wishes=case.citizen_wishes, requested_step=case.requested_step,
        requested_offer=case.requested_legal_basis.value if case.requested_legal_basis else None,
        requested_offer_id=case.requested_offer_id, received_at=case.received_at,
    )
    write_case(row, case)
    return row


def add_history(uow: UnitOfWork, row: Referral, entries: list[dm.HistoryEntry], *, at_commit: bool = False) -> None:
    """``at_commit``: with the commit's one write (for a case that is itself kept for the commit)."""
    add = uow.add_at_commit if at_commit else uow.session.add
    for e in entries:
        add(ReferralStatusChange(
            referral_id=row.id, status=e.to_status.value, from_status=e.from_status.value if e.from_status else None,
            action=e.action, at=e.at, by=e.by, note=e.reason, internal_note=e.internal_note,
        ))


def save_case(uow: UnitOfWork, row: Referral, case: dm.VisitationCase) -> None:
    write_case(row, case)
    add_history(uow, row, case.history)
    case.history.clear()


async def history_rows(uow: UnitOfWork, referral_id: uuid.UUID) -> list[ReferralStatusChange]:
    return list((await uow.session.execute(
        select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral_id)
        .order_by(ReferralStatusChange.at, ReferralStatusChange.id)
    )).scalars())


async def profile_of(uow: UnitOfWork, row: Referral, case: dm.VisitationCase, today: date) -> CitizenProfile:
    citizen = await uow.session.get(Citizen, row.citizen_id)
    age = age_on(citizen.birth_date, today) if citizen and citizen.birth_date else None
    traits = case.assessment.traits if case.assessment else frozenset()
    return CitizenProfile(age=age, traits=traits)


# ---------------------------------------------------------------------------------------------
# Scopes and scans


def cases_within(scope: Scope) -> ColumnElement[bool]:
    """The cases ``scope`` reaches (mirrors ``view_of``: visitation by municipality, coordinators by
    botilbud, partners by what they sent, citizens their own)."""
    if scope.role == "visitation":
        if scope.only_municipality is None:
            return true()
        own = Referral.municipality == scope.only_municipality
        # A case that names no municipality belongs to the one this installation serves.
        return or_(own, Referral.municipality.is_(None)) if scope.sees_records_without_municipality else own
    if scope.role == "coordinator":
        return Referral.botilbud_id == scope.botilbud if scope.botilbud else false()
    if scope.role == "partner":
        if not scope.org:
            return false()
        joined = select(ReferralAddition.referral_id).where(ReferralAddition.referrer_org == scope.org)
        return ((Referral.channel == dm.Channel.PARTNER.value) & (Referral.referrer_org == scope.org)) | Referral.id.in_(joined)
    if scope.role == "citizen" and scope.citizen_id:
        try:
            return Referral.citizen_id == uuid.UUID(scope.citizen_id)
        except ValueError:  # a citizen's sub is their citizen id; anything else reaches no case
            return false()
    return false()


async def drifting_stays_to_signal(uow: UnitOfWork, *, moved_in_by: date, follow_ups: int, batch: int) -> list[Referral]:
    """Placed § 107 stays that may drift and have a reason not yet signalled: moved in on or before
    ``moved_in_by`` (past the planned period) or ``follow_ups`` follow-ups held without a move-out
    plan. Locked, skipping rows another scan holds; the domain has the last word."""
    signalled = func.coalesce(Referral.drift_signalled, cast([], JSONB))
    past = and_(Referral.moved_in_on <= moved_in_by, ~signalled.contains(["past-planned-period"]))
    still = and_(func.jsonb_array_length(func.coalesce(Referral.follow_ups_held, cast([], JSONB))) >= follow_ups,
                 Referral.move_out_plan.is_(None), ~signalled.contains(["no-movement"]))
    return list((await uow.session.execute(
        select(Referral).where(
            Referral.status == dm.CaseStatus.PLACED.value, Referral.legal_basis == dm.LegalBasis.SEL_107.value,
            Referral.decision == "granted", Referral.offer_id.is_not(None), Referral.moved_in_on.is_not(None),
            past | still,
        ).order_by(Referral.moved_in_on).limit(batch).with_for_update(skip_locked=True)
    )).scalars())


async def placements_to_signal(uow: UnitOfWork, horizon: date, *, batch: int) -> list[Referral]:
    """Placements whose follow-up falls on or before ``horizon`` and has not been signalled for that
    date; locked (skipping rows another scan holds) until the transaction ends. Only rows the domain
    reads as a placement (a granted offer and a move-in): others would fill every batch unsignalled."""
    return list((await uow.session.execute(
        select(Referral).where(
            Referral.status == dm.CaseStatus.PLACED.value, Referral.follow_up_date <= horizon,
            Referral.follow_up_signalled_for.is_(None) | (Referral.follow_up_signalled_for != Referral.follow_up_date),
            Referral.decision == "granted", Referral.offer_id.is_not(None), Referral.legal_basis.is_not(None),
            Referral.moved_in_on.is_not(None),
        ).order_by(Referral.follow_up_date).limit(batch).with_for_update(skip_locked=True)
    )).scalars())


# ---------------------------------------------------------------------------------------------
# Citizens and cases


# A person's CPR lock (``uow.lock``'s key space for a CPR hash in this database).
CPR_LOCK_SEED = 0


def cpr_locks(cpr_hash: str) -> list[tuple[str, int]]:
    """The lock ``citizen_by_cpr_hash(lock=True)`` takes, as ``uow.lock`` and ``receive_message(locks=…)`` name it."""
    return [(cpr_hash, CPR_LOCK_SEED)]


async def citizen_by_cpr_hash(uow: UnitOfWork, cpr_hash: str, *, lock: bool = False) -> Citizen | None:
    """The citizen; ``lock`` serialises everyone registering or referring this person until the
    transaction ends, so two referrals at the same moment decide one after the other whether the
    citizen and an open case exist. A row lock alone would not do: a person not registered yet has
    no row to lock, and both would insert them (the second failing on the CPR's unique index)."""
    if lock:
        await uow.lock(cpr_locks(cpr_hash))
    if ("citizen", cpr_hash) in uow.looked_up:  # a partner referral's first lookup brought them
        return uow.looked_up[("citizen", cpr_hash)]
    query = select(Citizen).where(Citizen.cpr_hash == cpr_hash)
    return (await uow.session.execute(query)).scalar_one_or_none()


def _open_cases_where(citizen_id: Any) -> ColumnElement[bool]:
    return and_(Referral.citizen_id == citizen_id, Referral.status.in_(sorted(s.value for s in dm.OPEN_STATUSES)))


async def open_cases_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[Referral]:
    """The citizen's open cases, locked (a further referral joins one)."""
    kept = uow.looked_up.pop(("open cases", citizen_id), None)
    if kept is not None:  # the intake's first lookup brought them, locked (or the citizen is new)
        return kept
    return list((await uow.session.execute(
        select(Referral).where(_open_cases_where(citizen_id)).order_by(Referral.received_at).with_for_update())
    ).scalars())


@functools.cache
def _referral_intake_statement() -> Select:
    """Built once (its parameter bound at execution): SQLAlchemy makes its cache key and compiles it once."""
    cpr_hash = bindparam("cpr_hash", type_=String)
    person = aliased(Citizen, select(Citizen).where(Citizen.cpr_hash == cpr_hash).subquery("person"))
    citizen_id = select(Citizen.id).where(Citizen.cpr_hash == cpr_hash).scalar_subquery()
    open_case = aliased(Referral, select(Referral).where(_open_cases_where(citizen_id))
                        .with_for_update().subquery("open_case"))
    # One row at least (the receipt's), whoever the CPR is; one more an open case.
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (select(EARLIER_RECEIPT, person, open_case)
            .select_from(anchor)
            .outerjoin(person, true())
            .outerjoin(open_case, open_case.citizen_id == person.id)
            .order_by(open_case.received_at))


async def look_up_referral_intake(uow: UnitOfWork, cpr_hash: str, earlier: dict[str, Any]) -> Any:
    """What a partner referral's intake reads before it decides, in one statement (after its locks), with
    the kit's earlier receipt (``earlier`` its parameters; its value is returned): the person and their
    open cases, row-locked. Kept for ``citizen_by_cpr_hash`` and ``open_cases_of``, which then ask
    nothing of the database."""
    rows = (await uow.session.execute(_referral_intake_statement(), {"cpr_hash": cpr_hash, **earlier})).all()
    found_earlier, citizen = rows[0][:2]
    uow.looked_up[("citizen", cpr_hash)] = citizen
    if citizen is not None:
        uow.looked_up[("open cases", citizen.id)] = [row[2] for row in rows if row[2] is not None]
    return found_earlier


def addition_row(case_id: uuid.UUID, a: dm.Addition) -> ReferralAddition:
    r = a.referrer
    return ReferralAddition(
        id=a.addition_id, referral_id=case_id, channel=r.channel.value, referrer_org=r.org, referrer_name=r.name,
        referrer_sub=r.sub, reason=a.reason, citizen_wishes=a.citizen_wishes, requested_step=a.requested_step,
        requested_offer=a.requested_legal_basis.value if a.requested_legal_basis else None,
        requested_offer_id=a.requested_offer_id, received_at=a.received_at,
    )


def add_addition(uow: UnitOfWork, row: ReferralAddition) -> None:
    uow.add_at_commit(row)  # nothing reads it back in the transaction that adds it


async def additions_of(uow: UnitOfWork, referral_id: uuid.UUID) -> list[ReferralAddition]:
    return list((await uow.session.execute(
        select(ReferralAddition).where(ReferralAddition.referral_id == referral_id)
        .order_by(ReferralAddition.received_at, ReferralAddition.id))).scalars())


async def get_citizen(uow: UnitOfWork, citizen_id: uuid.UUID) -> Citizen | None:
    return await uow.session.get(Citizen, citizen_id)


def add_citizen(uow: UnitOfWork, citizen: Citizen) -> None:
    uow.session.add(citizen)


def add_new_citizen(uow: UnitOfWork, citizen: Citizen) -> None:
    """A citizen registered by a referral's intake, with the commit's one write (nothing in the transaction
    reads them back); a new citizen has no open case to look for."""
    uow.add_at_commit(citizen)
    uow.looked_up[("open cases", citizen.id)] = []


def add_case_at_commit(uow: UnitOfWork, row: Referral, history: list[dm.HistoryEntry]) -> None:
    """A referral's new case and its first history entries, with the commit's one write (nothing in the
    transaction reads them back). Rows of one statement may refer to each other and to the citizen kept
    with them: PostgreSQL checks the foreign keys when the statement ends."""
    uow.add_at_commit(row)
    add_history(uow, row, history, at_commit=True)


async def add_referral(uow: UnitOfWork, row: Referral, history: list[dm.HistoryEntry]) -> None:
    """Insert a new case and its first history entries (flushed first: the entries refer to it)."""
    uow.session.add(row)
    await uow.session.flush()
    add_history(uow, row, history)


async def get_referral(uow: UnitOfWork, referral_id: uuid.UUID, *, lock: bool = False) -> Referral | None:
    """One case row; ``lock`` holds it (SELECT … FOR UPDATE) until the transaction ends."""
    return await uow.session.get(Referral, referral_id, with_for_update=lock)


async def case_list(uow: UnitOfWork, scope: Scope, *, statuses: list[str] | None = None, offer_id: str | None = None,
                    botilbud_id: str | None = None, citizen_id: uuid.UUID | None = None,
                    before: datetime | None = None, limit: int) -> Sequence[Row[Any]]:
    """The case list, newest first, within ``scope`` (what the single read would show)."""
    additions = (select(func.count()).select_from(ReferralAddition)
                 .where(ReferralAddition.referral_id == Referral.id).correlate(Referral).scalar_subquery())
    query = (select(Referral.id, Referral.citizen_id, Citizen.name, Referral.status, Referral.received_at,
                    Referral.referrer_org, Referral.requested_step, Referral.offer_id, Referral.botilbud_id,
                    Referral.step, Referral.follow_up_date, Referral.moved_in_on, additions.label("additions"))
             .join(Citizen, Citizen.id == Referral.citizen_id)
             .where(cases_within(scope))
             .order_by(Referral.received_at.desc(), Referral.id.desc()).limit(limit))
    if statuses:
        query = query.where(Referral.status.in_(statuses))
    if offer_id:
        query = query.where(Referral.offer_id == offer_id)
    if botilbud_id:
        query = query.where(Referral.botilbud_id == botilbud_id)
    if citizen_id:
        query = query.where(Referral.citizen_id == citizen_id)
    if before:
        query = query.where(Referral.received_at < before)
    return (await uow.session.execute(query)).all()


async def cases_of_citizen(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[Referral]:
    return list((await uow.session.execute(
        select(Referral).where(Referral.citizen_id == citizen_id).order_by(Referral.received_at.desc()))).scalars())


async def record_tovholder(uow: UnitOfWork, *, citizen_id: uuid.UUID, nurse_consultant_sub: str,
                           nurse_consultant_name: str | None, botilbud_id: str, chosen_at: datetime,
                           event_id: str) -> bool:
    """Keep the citizen's current tovholder: a later choice replaces an earlier one, never the other
    way round (a replayed or late event changes nothing). True when this choice is now the current one."""
    values = {"nurse_consultant_sub": nurse_consultant_sub, "nurse_consultant_name": nurse_consultant_name,
              "botilbud_id": botilbud_id, "chosen_at": chosen_at, "event_id": event_id}
    statement = (insert(CitizenTovholder).values(citizen_id=citizen_id, **values)
                 .on_conflict_do_update(index_elements=[CitizenTovholder.citizen_id], set_=values,
                                        where=CitizenTovholder.chosen_at <= chosen_at)
                 .returning(CitizenTovholder.citizen_id))
    return (await uow.session.execute(statement)).first() is not None


async def add_tovholder_choice(uow: UnitOfWork, *, event_id: str, citizen_id: uuid.UUID, nurse_consultant_sub: str,
                               nurse_consultant_name: str | None, botilbud_id: str, chosen_at: datetime) -> bool:
    """Keep one choice in the citizen's history (the event id is its business key: a redelivered event
    adds nothing). True when it was new."""
    statement = (insert(TovholderChoice).values(
        event_id=event_id, citizen_id=citizen_id, nurse_consultant_sub=nurse_consultant_sub,
        nurse_consultant_name=nurse_consultant_name, botilbud_id=botilbud_id, chosen_at=chosen_at)
        .on_conflict_do_nothing(index_elements=[TovholderChoice.event_id]).returning(TovholderChoice.event_id))
    return (await uow.session.execute(statement)).first() is not None


async def tovholder_choices(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[TovholderChoice]:
    """The citizen's tovholder choices, oldest first."""
    return list((await uow.session.execute(
        select(TovholderChoice).where(TovholderChoice.citizen_id == citizen_id)
        .order_by(TovholderChoice.chosen_at, TovholderChoice.event_id))).scalars())


async def consents(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[Consent]:
    """The citizen's consents, as the kit's consent decision reads them."""
    return await consent_read_model.consents(uow.session, ConsentRecord, citizen_id)


async def citizens_consenting_to(uow: UnitOfWork, org: str) -> list[uuid.UUID]:
    """The citizens with a consent (in force or not) to the organisation ``org``."""
    return list((await uow.session.execute(
        select(ConsentRecord.citizen_id).where(ConsentRecord.recipient_kind == "organisation",
                                               ConsentRecord.recipient_id == org).distinct())).scalars())


async def all_citizen_ids(uow: UnitOfWork) -> list[uuid.UUID]:
    return list((await uow.session.execute(select(Citizen.id))).scalars())


async def waitlist_figures(uow: UnitOfWork, offer_id: str, today: date) -> dict[str, Any]:
    """The figures of ``offers.waitlist_for`` without its entries, counted by PostgreSQL: how many are
    granted and not yet placed, how many of them hold a reserved place, and the median and longest wait in
    Copenhagen days since the referral (``offers.waiting_days``; percentile_cont = ``offers.percentile``)."""
    days = func.greatest(0, today - cast(func.timezone(clock.COPENHAGEN.key, Referral.received_at), Date))
    waiting = select(Referral.status.label("status"), days.label("days")).where(
        Referral.offer_id == offer_id,
        Referral.status.in_([dm.CaseStatus.GRANTED.value, dm.CaseStatus.WAITING.value])).subquery("waiting")
    row = (await uow.session.execute(select(
        func.count(), func.count().filter(waiting.c.status == dm.CaseStatus.GRANTED.value),
        func.percentile_cont(0.5).within_group(waiting.c.days), func.max(waiting.c.days),
    ).select_from(waiting))).one()
    return {"waiting": row[0], "reserved": row[1],
            "median_days_waiting": float(row[2]) if row[2] is not None else None,
            "longest_days_waiting": int(row[3]) if row[3] is not None else None}


async def waiting_cases(uow: UnitOfWork, offer_id: str) -> list[dm.VisitationCase]:
    """The cases granted ``offer_id`` and not yet placed (reserved place or on the waitlist)."""
    rows = (await uow.session.execute(
        select(*WAITLIST_COLUMNS).where(
            Referral.offer_id == offer_id,
            Referral.status.in_([dm.CaseStatus.GRANTED.value, dm.CaseStatus.WAITING.value]))
    )).all()
    return [waitlist_case(r) for r in rows]


async def due_follow_ups(uow: UnitOfWork, scope: Scope, horizon: date, *, limit: int = 1000) -> list[Referral]:
    """Placements within ``scope`` whose follow-up falls on or before ``horizon`` (overdue included)."""
    return list((await uow.session.execute(
        select(Referral).where(Referral.status == "placed", Referral.follow_up_date <= horizon, cases_within(scope))
        .order_by(Referral.follow_up_date).limit(limit))).scalars())


# The flow report's stored values → enums, looked up per row (an Enum call per row is the slower way).
_CHANNELS, _END_CAUSES, _DESTINATIONS = ({e.value: e for e in kind} for kind in (dm.Channel, dm.EndCause, dm.Destination))


async def flow_facts(uow: UnitOfWork, period_from: date, period_to: date, start: datetime, end: datetime,
                     tz: tzinfo) -> list[CaseFlowFacts]:
    """The cases that touch the period (``start``..``end`` as instants): received, decided, moved in or
    ended within it — one fact per case and per decision. The report itself is counted by ``flow_counts``;
    these facts are what its figures are held to (tests/integration/referrals/test_referrals_flow_counts.py)."""
    decided_ids = select(ReferralStatusChange.referral_id).where(
        ReferralStatusChange.action.in_(["granted", "refused"]),
        ReferralStatusChange.at >= start, ReferralStatusChange.at < end)
    # Core, not ORM, execution: plain rows, possibly tens of thousands of them.
    core = await uow.session.connection()
    rows = (await core.execute(
        select(Referral.id, Referral.citizen_id, Referral.offer_id, Referral.received_at, Referral.channel,
               Referral.moved_in_on, Referral.ended_on, Referral.end_cause, Referral.end_destination)
        .where((and_(Referral.received_at >= start, Referral.received_at < end))
               | Referral.moved_in_on.between(period_from, period_to)
               | Referral.ended_on.between(period_from, period_to)
               | Referral.id.in_(decided_ids))
    )).all()
    decisions = (await core.execute(
        select(ReferralStatusChange.referral_id, ReferralStatusChange.action, ReferralStatusChange.at)
        .where(ReferralStatusChange.action.in_(["granted", "refused"]),
               ReferralStatusChange.at >= start, ReferralStatusChange.at < end))).all()
    facts: list[CaseFlowFacts] = []
    by_id = {r.id: r for r in rows}
    long_ago = datetime(1900, 1, 1, tzinfo=timezone.utc)
    for d in decisions:
        # Each decision in the period counts (a refusal reopened and then granted is two decisions);
        # these facts carry only the decision, so the case's intake is counted once, below.
        r = by_id.get(d.referral_id)
        if r is None:
            continue
        facts.append(CaseFlowFacts(received_at=long_ago, channel=_CHANNELS[r.channel],
                                   citizen_id=r.citizen_id, offer_id=r.offer_id if d.action == "granted" else None,
                                   decision=d.action, decided_at=d.at.astimezone(tz)))
    for r in rows:
        facts.append(CaseFlowFacts(
            received_at=r.received_at.astimezone(tz), channel=_CHANNELS[r.channel], citizen_id=r.citizen_id,
            offer_id=r.offer_id, moved_in_on=r.moved_in_on, ended_on=r.ended_on,
            end_cause=_END_CAUSES[r.end_cause] if r.end_cause else None,
            destination=_DESTINATIONS[r.end_destination] if r.end_destination else None,
        ))
    return facts


async def flow_counts(uow: UnitOfWork, period_from: date, period_to: date, start: datetime, end: datetime) -> FlowCounts:
    """``report.counts_of(flow_facts(…))`` counted by PostgreSQL: a handful of grouped rows instead of one
    per case (at 100,000 cases a year's report read 50,000 rows into Python). Months and waiting days are
    Copenhagen days, as in ``counts_of``; the integration test holds the two to the same figures."""
    core = await uow.session.connection()
    local = clock.COPENHAGEN.key

    def month_of_instant(column):
        return func.to_char(func.timezone(local, column), "YYYY-MM")

    # One scan each for intake and decisions: GROUPING SETS give the per-month rows and, in the same pass,
    # the distinct citizens over the whole period (grouping() tells the two kinds of row apart).
    received_in = and_(Referral.received_at >= start, Referral.received_at < end)
    month = month_of_instant(Referral.received_at)
    received, citizens_referred = [], 0
    for detail, m, channel, n, citizens in (await core.execute(
            select(func.grouping(month, Referral.channel), month, Referral.channel, func.count(),
                   func.count(Referral.citizen_id.distinct()))
            .where(received_in).group_by(func.grouping_sets(tuple_(month, Referral.channel), text("()"))))).all():
        if detail == 0:
            received.append((m, channel, n))
        else:
            citizens_referred = citizens

    decided_in = and_(ReferralStatusChange.action.in_(["granted", "refused"]),
                      ReferralStatusChange.at >= start, ReferralStatusChange.at < end)
    action = ReferralStatusChange.action
    offer_granted = sql_case((action == "granted", Referral.offer_id), else_=None)
    joined = ReferralStatusChange.__table__.join(Referral.__table__, ReferralStatusChange.referral_id == Referral.id)
    month = month_of_instant(ReferralStatusChange.at)
    decisions, decided_citizens = [], {"granted": 0, "refused": 0, None: 0}
    for level, m, decision, offer_id, n, citizens in (await core.execute(
            select(func.grouping(month, action, offer_granted), month, action, offer_granted, func.count(),
                   func.count(Referral.citizen_id.distinct()))
            .select_from(joined).where(decided_in)
            .group_by(func.grouping_sets(tuple_(month, action, offer_granted), tuple_(action), text("()"))))).all():
        if level == 0:
            decisions.append((m, decision, offer_id, n))
        else:  # per decision (month and offer rolled up), or over all decisions
            decided_citizens[decision if level != 0b111 else None] = citizens

    moved_in_in = Referral.moved_in_on.between(period_from, period_to)
    month = func.to_char(Referral.moved_in_on, "YYYY-MM")
    moved_in = (await core.execute(
        select(month, Referral.offer_id, func.count()).where(moved_in_in).group_by(month, Referral.offer_id))).all()
    wait = func.greatest(0, Referral.moved_in_on - cast(func.timezone(local, Referral.received_at), Date))
    median, p90 = (await core.execute(
        select(func.percentile_cont(0.5).within_group(wait), func.percentile_cont(0.9).within_group(wait))
        .where(moved_in_in))).one()

    month = func.to_char(Referral.ended_on, "YYYY-MM")
    ended = (await core.execute(
        select(month, Referral.offer_id, Referral.end_cause, Referral.end_destination, func.count())
        .where(Referral.ended_on.between(period_from, period_to))
        .group_by(month, Referral.offer_id, Referral.end_cause, Referral.end_destination))).all()

    return FlowCounts(
        received=tuple((m, _CHANNELS[c], n) for m, c, n in received),
        decisions=tuple((m, a, o, n) for m, a, o, n in decisions),
        moved_in=tuple((m, o, n) for m, o, n in moved_in),
        ended=tuple((m, o, _END_CAUSES[c] if c else None, _DESTINATIONS[d] if d else None, n) for m, o, c, d, n in ended),
        waiting_days_median=float(median) if median is not None else None,
        waiting_days_p90=float(p90) if p90 is not None else None,
        citizens_referred=citizens_referred, citizens_decided=decided_citizens[None],
        citizens_granted=decided_citizens["granted"], citizens_refused=decided_citizens["refused"],
    )


async def temporary_stays_running(uow: UnitOfWork, on: date) -> list[StayFacts]:
    """The § 107 stays running on ``on`` (moved in by then, not ended before)."""
    rows = (await uow.session.execute(
        select(Referral.moved_in_on, Referral.ended_on, Referral.follow_ups_held, Referral.move_out_plan)
        .where(Referral.legal_basis == dm.LegalBasis.SEL_107.value, Referral.moved_in_on <= on,
               Referral.ended_on.is_(None) | (Referral.ended_on > on),
               Referral.status.in_([dm.CaseStatus.PLACED.value, dm.CaseStatus.ENDED.value]))
    )).all()
    return [StayFacts(moved_in_on=r.moved_in_on, ended_on=r.ended_on,
                      follow_ups_held=tuple(date.fromisoformat(d) for d in r.follow_ups_held or ()),
                      move_out_planned=r.move_out_plan is not None) for r in rows]


# ---------------------------------------------------------------------------------------------
# Offers: rows and capacity


async def all_offers(uow: UnitOfWork) -> list[Offer]:
    return list((await uow.session.execute(select(Offer).order_by(Offer.id))).scalars())


async def any_offer(uow: UnitOfWork) -> bool:
    return (await uow.session.execute(select(Offer.id).limit(1))).first() is not None


async def offer_for_update(uow: UnitOfWork, offer_id: str) -> Offer | None:
    return await uow.session.get(Offer, offer_id, with_for_update=True)


def add_offer(uow: UnitOfWork, row: Offer) -> None:
    uow.session.add(row)


def adjust_places(offer: Offer, *, occupied: int = 0, reserved: int = 0) -> None:
    offer.occupied_places = max(0, (offer.occupied_places or 0) + occupied)
    offer.reserved_places = max(0, (offer.reserved_places or 0) + reserved)


async def resident_mixes(uow: UnitOfWork, offer_ids: Sequence[str] | None = None) -> dict[str, ResidentMix]:
    """Each offer's residents as visitation placed them: how many are placed there and how many of
    them have the characteristics of ``MIX_TRAITS`` (from their screening), counted in one query."""
    traits = Referral.assessment["traits"]
    figures = [func.count().filter(traits.has_any(pg_array([t.value for t in sorted(wanted)])))
               .label(name) for name, wanted in MIX_TRAITS.items()]
    query = (select(Referral.offer_id, func.count().label("residents"), *figures)
             .where(Referral.status == dm.CaseStatus.PLACED.value, Referral.offer_id.is_not(None))
             .group_by(Referral.offer_id))
    if offer_ids is not None:
        query = query.where(Referral.offer_id.in_(list(offer_ids)))
    return {r.offer_id: ResidentMix(residents=r.residents, **{name: getattr(r, name) for name in MIX_TRAITS})
            for r in (await uow.session.execute(query)).all()}


# ---------------------------------------------------------------------------------------------
# Audit of list reads
