"""Every SQL statement of the plans service, and the mapping between rows and domain objects.

The rules live in ``services.plans.domain``; the use cases in ``services.plans.services``. This module
only moves aggregates in and out of PostgreSQL. Plan versions and tryghedsplan versions are stored
whole (JSONB, ``to_json``/``from_json``), so an old version reads exactly as it was written.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tovholder.errors import NotFound
from tovholder.uow import UnitOfWork
from services.plans.domain import safety as safety_rules
from services.plans.domain.cadence import Cadence
from services.plans.domain.consent import ConsentRecord
from services.plans.domain.fit import AnsweredWith, FitSession, ScaleScore
from services.plans.domain.fit import Scale as FitScale
from services.plans.domain.followup import FollowUp, FollowUpSchedule, SubjectKind, change_cadence, schedule
from services.plans.domain.network import ChangeBasis, MemberKind, Network, NetworkMember, NetworkRole
from services.plans.domain.staff import Source as StaffSource
from services.plans.domain.staff import StaffMember
from services.plans.domain.plan import Author, AuthorRole, PlanVersion, first_version
from services.plans.models import (
    NetworkMeetingRow,
    BvcScoreRow, ConsentRow, FitSessionRow, FollowUpRow, FollowUpScheduleRow, LearningPlanRow, NetworkMemberRow,
    Plan, PlanProposalRow, PlanVersionRow, SafetyRatingRow, StaffMemberRow, TryghedsplanRow,
)

SYSTEM_AUTHOR = Author("system", AuthorRole.STAFF)
NO_PLAN = "Borgeren har ingen plan endnu; planen oprettes, når borgeren er bevilget en plads."
NO_PLAN_EN = "This citizen has no plan yet; it opens when a place is granted."  # a partner's (FHIR) answer


# --- domain dataclasses to JSON and back (pure) --------------------------------------------------

T = TypeVar("T")


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (UUID,)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@lru_cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any) -> T:
    return _decode(cls, data)


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(options[0], data)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, v) for v in data)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(tp)
                  if f.name in data and f.init}
        instance = object.__new__(tp)
        # Bypass __post_init__ validation: a stored version was valid when written and must read back
        # even if a rule has since become stricter.
        for f in dataclasses.fields(tp):
            value = kwargs.get(f.name, f.default if f.default is not dataclasses.MISSING else None)
            object.__setattr__(instance, f.name, value)
        return instance
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return tp(data)
        if tp is UUID:
            return UUID(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
        if tp is date:
            return date.fromisoformat(data)
        if tp in (int, float, str, bool):
            return tp(data)
    return data


# --- plans and their versions --------------------------------------------------------------------


async def plan_of(uow: UnitOfWork, citizen_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    plan = await find_plan(uow, citizen_id, for_update=for_update)
    if plan is None:
        raise NotFound(NO_PLAN, en=NO_PLAN_EN)
    return plan


def _looked_up_plan(citizen_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    return ("plan", citizen_id)


async def look_up_plans(uow: UnitOfWork, citizen_ids: Iterable[uuid.UUID]) -> None:
    """The plans of many citizens (a consumer batch's) in one SELECT, kept for this transaction:
    ``find_plan`` then answers from it instead of one SELECT per event."""
    wanted = {c for c in citizen_ids if _looked_up_plan(c) not in uow.looked_up}
    if not wanted:
        return
    found = {plan.citizen_id: plan for plan in
             (await uow.session.execute(select(Plan).where(Plan.citizen_id.in_(wanted)))).scalars()}
    for citizen_id in wanted:
        uow.looked_up[_looked_up_plan(citizen_id)] = found.get(citizen_id)


async def find_plan(uow: UnitOfWork, citizen_id: uuid.UUID, *, for_update: bool = False) -> Plan | None:
    if not for_update and _looked_up_plan(citizen_id) in uow.looked_up:
        return uow.looked_up[_looked_up_plan(citizen_id)]
    query = select(Plan).where(Plan.citizen_id == citizen_id)
    if for_update:
        # Serialises writers per citizen: each change reads the current version and writes the next.
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def plan_by_id(uow: UnitOfWork, plan_id: uuid.UUID) -> Plan | None:
    return await uow.session.get(Plan, plan_id)


async def any_plan(uow: UnitOfWork) -> bool:
    return (await uow.session.execute(select(Plan).limit(1))).first() is not None


async def add_plan(uow: UnitOfWork, *, citizen_id: uuid.UUID, botilbud_id: str, opened_at: datetime) -> Plan:
    """A new plan with its first (empty) version."""
    plan = Plan(id=uuid.uuid4(), citizen_id=citizen_id, botilbud_id=botilbud_id, opened_at=opened_at,
                current_version=1, status="open")
    uow.session.add(plan)
    first = version_row(opening_version(plan))
    first.plan = plan  # inserted after the plan, in whichever flush comes (no flush per plan)
    uow.session.add(first)
    uow.looked_up[_looked_up_plan(citizen_id)] = plan
    return plan


def version_row(version: PlanVersion) -> PlanVersionRow:
    return PlanVersionRow(plan_id=version.plan_id, number=version.number, created_at=version.created_at,
                          created_by=version.created_by.id, change=version.change, content=to_json(version))


def opening_version(plan: Plan) -> PlanVersion:
    opened = plan.opened_at or datetime.now(timezone.utc)
    return first_version(plan_id=plan.id, citizen_id=plan.citizen_id, created_at=opened, created_by=SYSTEM_AUTHOR)


async def current_version(uow: UnitOfWork, plan: Plan) -> PlanVersion:
    row = await uow.session.get(PlanVersionRow, (plan.id, plan.current_version))
    if row is None:
        # A plan opened before versions were stored: its first version is the empty plan.
        version = opening_version(plan)
        uow.session.add(version_row(version))
        plan.current_version = version.number
        return version
    return from_json(PlanVersion, row.content)


async def version_number(uow: UnitOfWork, plan: Plan, number: int) -> PlanVersion:
    row = await uow.session.get(PlanVersionRow, (plan.id, number))
    if row is None:
        if number == 1:
            return opening_version(plan)
        raise NotFound(f"Planen har ingen version {number}; den nyeste er version {plan.current_version}.")
    return from_json(PlanVersion, row.content)


async def version_summaries(uow: UnitOfWork, plan: Plan) -> list[Any]:
    """Number, time, author and change of every stored version, newest first."""
    return list((await uow.session.execute(
        select(PlanVersionRow.number, PlanVersionRow.created_at, PlanVersionRow.created_by, PlanVersionRow.change)
        .where(PlanVersionRow.plan_id == plan.id).order_by(PlanVersionRow.number.desc())
    )).all())


def save_version(uow: UnitOfWork, plan: Plan, version: PlanVersion) -> None:
    uow.session.add(version_row(version))
    plan.current_version = version.number


# --- network -------------------------------------------------------------------------------------


async def network_rows(uow: UnitOfWork, citizen_id: uuid.UUID, *, for_update: bool = False) -> list[NetworkMemberRow]:
    query = (select(NetworkMemberRow)
             .where(NetworkMemberRow.citizen_id == citizen_id, NetworkMemberRow.removed_at.is_(None))
             .order_by(NetworkMemberRow.added_at, NetworkMemberRow.staff_id))
    if for_update:
        query = query.with_for_update()
    return list((await uow.session.execute(query)).scalars())


def as_network(citizen_id: uuid.UUID, rows: list[NetworkMemberRow]) -> Network:
    return Network(citizen_id=str(citizen_id), members=tuple(
        NetworkMember(staff_id=r.staff_id, role=NetworkRole(r.role), added_at=r.added_at, basis=ChangeBasis(r.basis),
                      kind=MemberKind(r.kind or MemberKind.STAFF.value), name=r.name, organisation=r.organisation)
        for r in rows))


async def network_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> Network:
    return as_network(citizen_id, await network_rows(uow, citizen_id))


def add_member(uow: UnitOfWork, citizen_id: uuid.UUID, *, staff_id: str, role: str, basis: str, added_at: datetime,
               added_by: str, kind: str = MemberKind.STAFF.value, name: str | None = None,
               organisation: str | None = None) -> NetworkMemberRow:
    row = NetworkMemberRow(citizen_id=citizen_id, staff_id=staff_id, role=role, basis=basis, added_at=added_at,
                           added_by=added_by, kind=kind, name=name, organisation=organisation)
    uow.session.add(row)
    return row


def end_member(row: NetworkMemberRow, *, at: datetime, by: str) -> None:
    row.removed_at, row.removed_by = at, by


async def flush(uow: UnitOfWork) -> None:
    """Write pending changes before the next ones depend on them (one current row per staff member)."""
    await uow.session.flush()


# --- the staff directory -------------------------------------------------------------------------


def as_staff(row: StaffMemberRow) -> StaffMember:
    return StaffMember(staff_id=row.staff_id, role=row.role, botilbud_id=row.botilbud_id, name=row.name,
                       source=StaffSource(row.source), active=row.active)


async def staff_member(uow: UnitOfWork, staff_id: str) -> StaffMember | None:
    row = await uow.session.get(StaffMemberRow, staff_id)
    return as_staff(row) if row else None


async def staff_of(uow: UnitOfWork, staff_ids: list[str]) -> dict[str, StaffMember]:
    if not staff_ids:
        return {}
    rows = await uow.session.execute(select(StaffMemberRow).where(StaffMemberRow.staff_id.in_(staff_ids)))
    return {r.staff_id: as_staff(r) for r in rows.scalars()}


async def staff_at(uow: UnitOfWork, botilbud_id: str) -> list[StaffMember]:
    rows = await uow.session.execute(select(StaffMemberRow).where(StaffMemberRow.botilbud_id == botilbud_id,
                                                                  StaffMemberRow.active.is_(True))
                                     .order_by(StaffMemberRow.role, StaffMemberRow.staff_id))
    return [as_staff(r) for r in rows.scalars()]


async def remember_staff(uow: UnitOfWork, member: StaffMember) -> bool:
    """Insert or update one directory entry; a row that says the same is not touched (a token carries
    no name, so a name the directory has is kept), and neither is one the staff register provisioned:
    the register has the last word (domain/staff.py). Answers, in the same statement, whether the
    register has deactivated (or deleted) the member (``deactivated_by_register``)."""
    table = StaffMemberRow.__table__
    values = {"staff_id": member.staff_id, "role": member.role, "botilbud_id": member.botilbud_id,
              "source": member.source.value, **({"name": member.name} if member.name else {})}
    stmt = pg_insert(table).values(**values)
    changed = (table.c.role.is_distinct_from(stmt.excluded.role)
               | table.c.botilbud_id.is_distinct_from(stmt.excluded.botilbud_id))
    update = {"role": stmt.excluded.role, "botilbud_id": stmt.excluded.botilbud_id, "source": stmt.excluded.source,
              "updated_at": func.now()}
    if member.name:
        update["name"] = stmt.excluded.name
        changed = changed | table.c.name.is_distinct_from(stmt.excluded.name)
    learned = stmt.on_conflict_do_update(
        index_elements=[table.c.staff_id], set_=update,
        where=changed & (table.c.source != StaffSource.REGISTER.value)).returning(table.c.staff_id).cte("learned")
    # The outer SELECT sees the row as it stood before the statement (PostgreSQL: a WITH's writes are not
    # visible to its own query), which is all the register question needs: the upsert never touches a
    # register row, and a row it inserts is the token's, never deactivated.
    row = (await uow.session.execute(
        select(table.c.source, table.c.active).where(table.c.staff_id == member.staff_id).add_cte(learned))).first()
    return row is not None and row.source == StaffSource.REGISTER.value and not row.active


# --- the staff register (SCIM) -------------------------------------------------------------------


def _registered():
    return (StaffMemberRow.source == StaffSource.REGISTER.value) & StaffMemberRow.deleted_at.is_(None)


async def register_user(uow: UnitOfWork, scim_id: uuid.UUID) -> StaffMemberRow | None:
    """The register's user with this SCIM id (None: unknown or deleted)."""
    rows = await uow.session.execute(select(StaffMemberRow).where(StaffMemberRow.scim_id == scim_id, _registered()))
    return rows.scalar_one_or_none()


async def deactivated_by_register(uow: UnitOfWork, staff_id: str) -> bool:
    """Whether the municipality's staff register has deactivated (or deleted) this staff member."""
    row = await uow.session.get(StaffMemberRow, staff_id)
    return row is not None and row.source == StaffSource.REGISTER.value and not row.active


async def lock_user_name(uow: UnitOfWork, user_name: str) -> None:
    """Two creations of one userName (case-insensitive) take turns until the first commits, so the
    second finds the first's row and gets its 409 instead of a key violation."""
    await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(lower(:name), 7))"),
                              {"name": user_name})


async def staff_row_named(uow: UnitOfWork, user_name: str) -> StaffMemberRow | None:
    """The directory's row for a userName (case-insensitive, as SCIM's userName is); the exact id first."""
    exact = await uow.session.get(StaffMemberRow, user_name)
    if exact is not None:
        return exact
    rows = await uow.session.execute(select(StaffMemberRow).where(func.lower(StaffMemberRow.staff_id) == user_name.lower())
                                     .order_by(StaffMemberRow.staff_id).limit(1))
    return rows.scalar_one_or_none()


async def register_users(uow: UnitOfWork, *, user_name: str | None = None, external_id: str | None = None,
                         offset: int = 0, limit: int = 100) -> tuple[list[StaffMemberRow], int]:
    """The register's users (one page, oldest first) and how many there are in all."""
    where = [_registered()]
    if user_name is not None:
        where.append(func.lower(StaffMemberRow.staff_id) == user_name.lower())
    if external_id is not None:
        where.append(StaffMemberRow.external_id == external_id)
    total = (await uow.session.execute(select(func.count()).select_from(StaffMemberRow).where(*where))).scalar_one()
    rows = await uow.session.execute(select(StaffMemberRow).where(*where)
                                     .order_by(StaffMemberRow.first_seen_at, StaffMemberRow.staff_id)
                                     .offset(offset).limit(limit))
    return list(rows.scalars()), total


def add_staff_row(uow: UnitOfWork, row: StaffMemberRow) -> StaffMemberRow:
    uow.session.add(row)
    return row


# --- consent -------------------------------------------------------------------------------------


def as_consent(row: ConsentRow) -> ConsentRecord:
    return ConsentRecord(consent_id=row.id, recipient_kind=row.recipient_kind, recipient_id=row.recipient_id,
                         category=row.category, given_at=row.given_at, given_by=row.given_by,
                         revoked_at=row.revoked_at, revoked_by=row.revoked_by, recipient_name=row.recipient_name)


async def consents_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[ConsentRecord]:
    rows = (await uow.session.execute(
        select(ConsentRow).where(ConsentRow.citizen_id == citizen_id).order_by(ConsentRow.given_at)
    )).scalars()
    return [as_consent(r) for r in rows]


def add_consent(uow: UnitOfWork, citizen_id: uuid.UUID, record: ConsentRecord) -> None:
    uow.session.add(ConsentRow(id=record.consent_id, citizen_id=citizen_id, recipient_kind=record.recipient_kind,
                               recipient_id=record.recipient_id, recipient_name=record.recipient_name,
                               category=record.category, given_at=record.given_at, given_by=record.given_by))


async def consent_row(uow: UnitOfWork, citizen_id: uuid.UUID, consent_id: uuid.UUID) -> ConsentRow | None:
    """The citizen's consent, locked for a change; None if the citizen has no such consent."""
    row = await uow.session.get(ConsentRow, consent_id, with_for_update=True)
    return row if row is not None and row.citizen_id == citizen_id else None


def save_consent(row: ConsentRow, record: ConsentRecord) -> None:
    row.revoked_at, row.revoked_by = record.revoked_at, record.revoked_by


# --- follow-up schedules -------------------------------------------------------------------------


def as_schedule(row: FollowUpScheduleRow) -> FollowUpSchedule:
    return FollowUpSchedule(plan_id=row.plan_id, subject=SubjectKind(row.subject), subject_id=row.subject_id,
                            cadence=from_json(Cadence, row.cadence), anchor=row.anchor, due_on=row.due_on,
                            announced_for=row.announced_for)


def apply_schedule(row: FollowUpScheduleRow, current: FollowUpSchedule) -> None:
    row.cadence = to_json(current.cadence)
    row.anchor = current.anchor
    row.due_on = current.due_on
    row.announced_for = current.announced_for


async def schedule_row(uow: UnitOfWork, subject_id: uuid.UUID) -> FollowUpScheduleRow | None:
    """The follow-up schedule of the plan or a goal, locked for a change."""
    return await uow.session.get(FollowUpScheduleRow, subject_id, with_for_update=True)


async def set_schedule(uow: UnitOfWork, plan: Plan, *, subject: SubjectKind, subject_id: uuid.UUID,
                       cadence: Cadence | None, anchor: date, assignee: str | None) -> FollowUpScheduleRow | None:
    """Create, change or stop the follow-up schedule of the plan or a goal."""
    row = await schedule_row(uow, subject_id)
    if cadence is None:
        if row is not None:
            row.active = False
        return row
    if row is None:
        current = schedule(plan_id=plan.id, subject=subject, subject_id=subject_id, cadence=cadence, anchor=anchor)
        row = FollowUpScheduleRow(subject_id=subject_id, plan_id=plan.id, citizen_id=plan.citizen_id,
                                  subject=subject.value, active=True, assignee=assignee)
        apply_schedule(row, current)
        uow.session.add(row)
        return row
    old = as_schedule(row)
    if old.cadence != cadence:
        apply_schedule(row, change_cadence(old, cadence))
    row.active = True
    row.assignee = assignee
    return row


async def active_schedules(uow: UnitOfWork, plan: Plan) -> list[FollowUpScheduleRow]:
    return list((await uow.session.execute(
        select(FollowUpScheduleRow).where(FollowUpScheduleRow.plan_id == plan.id, FollowUpScheduleRow.active)
        .order_by(FollowUpScheduleRow.due_on))).scalars())


async def due_schedules(uow: UnitOfWork, *, today: date, limit: int) -> list[FollowUpScheduleRow]:
    """Due, not yet announced schedules, locked so that replicas share the work without announcing twice."""
    return list((await uow.session.execute(
        select(FollowUpScheduleRow)
        .where(FollowUpScheduleRow.active, FollowUpScheduleRow.due_on <= today)
        .where((FollowUpScheduleRow.announced_for.is_(None)) | (FollowUpScheduleRow.announced_for != FollowUpScheduleRow.due_on))
        .order_by(FollowUpScheduleRow.due_on)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )).scalars())


async def held_follow_ups(uow: UnitOfWork, plan: Plan) -> list[FollowUpRow]:
    return list((await uow.session.execute(
        select(FollowUpRow).where(FollowUpRow.plan_id == plan.id).order_by(FollowUpRow.held_on.desc()))).scalars())


def add_follow_up(uow: UnitOfWork, plan: Plan, record: FollowUp) -> None:
    uow.session.add(FollowUpRow(id=record.follow_up_id, plan_id=plan.id, subject=record.subject.value,
                                subject_id=record.subject_id, held_on=record.held_on, outcome=record.outcome,
                                next_due_on=record.next_due_on, recorded_by=record.recorded_by,
                                written_with_citizen=record.written_with_citizen))


# --- safety: tryghedsplan, LA2, learning plans, BVC ---------------------------------------------


async def tryghedsplan_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> safety_rules.Tryghedsplan | None:
    row = (await uow.session.execute(
        select(TryghedsplanRow).where(TryghedsplanRow.citizen_id == citizen_id)
        .order_by(TryghedsplanRow.version.desc()).limit(1))).scalar_one_or_none()
    return from_json(safety_rules.Tryghedsplan, row.content) if row else None


async def tryghedsplan_versions(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int = 100) -> list[safety_rules.Tryghedsplan]:
    """Every version of the citizen's tryghedsplan, newest first (at most ``limit``)."""
    rows = (await uow.session.execute(
        select(TryghedsplanRow).where(TryghedsplanRow.citizen_id == citizen_id)
        .order_by(TryghedsplanRow.version.desc()).limit(limit))).scalars()
    return [from_json(safety_rules.Tryghedsplan, row.content) for row in rows]


def add_tryghedsplan(uow: UnitOfWork, citizen_id: uuid.UUID, plan: safety_rules.Tryghedsplan, *, at: datetime,
                     by: str) -> None:
    uow.session.add(TryghedsplanRow(citizen_id=citizen_id, version=plan.version, content=to_json(plan),
                                    updated_at=at, updated_by=by))


async def current_rating(uow: UnitOfWork, citizen_id: uuid.UUID, *, lock: bool = False) -> SafetyRatingRow | None:
    query = (select(SafetyRatingRow).where(SafetyRatingRow.citizen_id == citizen_id)
             .order_by(SafetyRatingRow.rated_at.desc(), SafetyRatingRow.id).limit(1))
    if lock:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def rating_history(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int = 100) -> list[SafetyRatingRow]:
    """The citizen's LA2 ratings, newest first (at most ``limit``)."""
    return list((await uow.session.execute(
        select(SafetyRatingRow).where(SafetyRatingRow.citizen_id == citizen_id)
        .order_by(SafetyRatingRow.rated_at.desc(), SafetyRatingRow.id).limit(limit))).scalars())


async def rating_row(uow: UnitOfWork, citizen_id: uuid.UUID, rating_id: uuid.UUID) -> SafetyRatingRow | None:
    """The citizen's rating, locked for a change; None if the citizen has no such rating."""
    row = await uow.session.get(SafetyRatingRow, rating_id, with_for_update=True)
    return row if row is not None and row.citizen_id == citizen_id else None


def as_rating(row: SafetyRatingRow) -> safety_rules.SafetyRating:
    return safety_rules.SafetyRating(rating_id=row.id, level=safety_rules.La2Level(row.level), reason=row.reason,
                                     rated_at=row.rated_at, rated_by=row.rated_by, reassess_at=row.reassess_at,
                                     citizen_told_at=row.citizen_told_at, citizen_told_by=row.citizen_told_by,
                                     not_told_reason=row.not_told_reason)


def add_rating(uow: UnitOfWork, citizen_id: uuid.UUID, rating: safety_rules.SafetyRating) -> SafetyRatingRow:
    row = SafetyRatingRow(id=rating.rating_id, citizen_id=citizen_id, level=rating.level.value, reason=rating.reason,
                          rated_at=rating.rated_at, rated_by=rating.rated_by, reassess_at=rating.reassess_at,
                          citizen_told_at=rating.citizen_told_at, citizen_told_by=rating.citizen_told_by)
    uow.session.add(row)
    return row


def save_told(row: SafetyRatingRow, rating: safety_rules.SafetyRating) -> None:
    row.citizen_told_at, row.citizen_told_by, row.not_told_reason = (
        rating.citizen_told_at, rating.citizen_told_by, rating.not_told_reason)


async def recent_learning_plans(uow: UnitOfWork, citizen_id: uuid.UUID, *, limit: int = 20) -> list[LearningPlanRow]:
    return list((await uow.session.execute(
        select(LearningPlanRow).where(LearningPlanRow.citizen_id == citizen_id)
        .order_by(LearningPlanRow.episode_ended_at.desc()).limit(limit))).scalars())


def add_learning_plan(uow: UnitOfWork, citizen_id: uuid.UUID, lp: safety_rules.LearningPlan, *,
                      opened_by: str) -> LearningPlanRow:
    row = LearningPlanRow(id=lp.learning_plan_id, citizen_id=citizen_id, episode_started_at=lp.episode_started_at,
                          episode_ended_at=lp.episode_ended_at, looks_back_from=lp.looks_back_from, due_at=lp.due_at,
                          outcome=lp.outcome.value, written_with_staff_id=lp.written_with_staff_id, opened_by=opened_by)
    uow.session.add(row)
    return row


async def learning_plan_row(uow: UnitOfWork, citizen_id: uuid.UUID,
                            learning_plan_id: uuid.UUID) -> LearningPlanRow | None:
    """The citizen's learning plan, locked for a change; None if the citizen has no such learning plan."""
    row = await uow.session.get(LearningPlanRow, learning_plan_id, with_for_update=True)
    return row if row is not None and row.citizen_id == citizen_id else None


def as_learning_plan(row: LearningPlanRow) -> safety_rules.LearningPlan:
    return safety_rules.LearningPlan(
        learning_plan_id=row.id, episode_started_at=row.episode_started_at, episode_ended_at=row.episode_ended_at,
        looks_back_from=row.looks_back_from, due_at=row.due_at, outcome=safety_rules.EpisodeOutcome(row.outcome),
        written_with_staff_id=row.written_with_staff_id, completed_at=row.completed_at)


def save_learning_plan(row: LearningPlanRow, done: safety_rules.LearningPlan) -> None:
    for name in ("completed_at", "what_happened", "what_helped", "citizen_view", "staff_view", "citizen_took_part"):
        setattr(row, name, getattr(done, name))


async def latest_bvc(uow: UnitOfWork, citizen_id: uuid.UUID) -> BvcScoreRow | None:
    return (await uow.session.execute(
        select(BvcScoreRow).where(BvcScoreRow.citizen_id == citizen_id)
        .order_by(BvcScoreRow.scored_at.desc()).limit(1))).scalar_one_or_none()


async def add_bvc(uow: UnitOfWork, citizen_id: uuid.UUID, score: safety_rules.BvcScore) -> BvcScoreRow:
    row = BvcScoreRow(citizen_id=citizen_id, scored_at=score.scored_at, scored_by=score.scored_by,
                      items={"observed": list(score.items)}, total=score.total)
    uow.session.add(row)
    await uow.session.flush()  # the row's id
    return row


# --- FIT -----------------------------------------------------------------------------------------


async def fit_sessions(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[FitSession]:
    rows = (await uow.session.execute(
        select(FitSessionRow).where(FitSessionRow.citizen_id == citizen_id).order_by(FitSessionRow.held_at))).scalars()
    return [as_fit_session(r) for r in rows]


def _scale_score(total: float | None, items: list[float] | None, answered_with: str | None) -> ScaleScore | None:
    if total is None:
        return None
    return ScaleScore(total=total, items=tuple(items) if items is not None else None,
                      answered_with=AnsweredWith(answered_with or AnsweredWith.TOTAL.value))


def as_fit_session(row: FitSessionRow) -> FitSession:
    return FitSession(session_id=row.id, held_at=row.held_at, recorded_by=row.recorded_by,
                      ors=_scale_score(row.ors, row.ors_items, row.ors_answered_with),
                      srs=_scale_score(row.srs, row.srs_items, row.srs_answered_with),
                      shared_by_citizen=row.shared_by_citizen, scale=FitScale(row.scale))


def add_fit_session(uow: UnitOfWork, citizen_id: uuid.UUID, session: FitSession) -> None:
    def parts(score: ScaleScore | None) -> tuple[float | None, list[float] | None, str | None]:
        if score is None:
            return None, None, None
        return score.total, list(score.items) if score.items is not None else None, score.answered_with.value

    ors, ors_items, ors_with = parts(session.ors)
    srs, srs_items, srs_with = parts(session.srs)
    uow.session.add(FitSessionRow(id=session.session_id, citizen_id=citizen_id, held_at=session.held_at,
                                  recorded_by=session.recorded_by, ors=ors, srs=srs, scale=session.scale.value,
                                  ors_items=ors_items, srs_items=srs_items, ors_answered_with=ors_with,
                                  srs_answered_with=srs_with, shared_by_citizen=session.shared_by_citizen))


# --- proposals from the health check -------------------------------------------------------------


async def add_proposal(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Insert a proposal once (its id is the health check's decision id). Returns whether it was new."""
    result = await uow.session.execute(pg_insert(PlanProposalRow).values(**values).on_conflict_do_nothing(index_elements=["id"])
                                       .returning(PlanProposalRow.id))
    return result.scalar_one_or_none() is not None


async def proposals_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> list[PlanProposalRow]:
    return list((await uow.session.execute(select(PlanProposalRow).where(PlanProposalRow.citizen_id == citizen_id)
                                           .order_by(PlanProposalRow.held_at, PlanProposalRow.id))).scalars())


async def proposal(uow: UnitOfWork, citizen_id: uuid.UUID, proposal_id: uuid.UUID) -> PlanProposalRow | None:
    row = await uow.session.get(PlanProposalRow, proposal_id, with_for_update=True)
    return row if row is not None and row.citizen_id == citizen_id else None


# --- FHIR R4 read API (services/plans/fhir) --------------------------------------------------------


async def plan_with_goal(uow: UnitOfWork, goal_id: uuid.UUID) -> Plan | None:
    """The plan whose current version holds this goal (``Goal/{id}``)."""
    query = (select(Plan).join(PlanVersionRow, (PlanVersionRow.plan_id == Plan.id)
                               & (PlanVersionRow.number == Plan.current_version))
             .where(PlanVersionRow.content["goals"].contains([{"goal_id": str(goal_id)}])))
    return (await uow.session.execute(query)).scalars().first()


async def consent_citizen(uow: UnitOfWork, consent_id: uuid.UUID) -> uuid.UUID | None:
    row = await uow.session.get(ConsentRow, consent_id)
    return row.citizen_id if row is not None else None


# --- network meetings the citizen calls ----------------------------------------------------------


async def network_meetings(uow: UnitOfWork, citizen_id: uuid.UUID, *, for_update: bool = False) -> list[NetworkMeetingRow]:
    """The citizen's meeting requests, newest first."""
    query = (select(NetworkMeetingRow).where(NetworkMeetingRow.citizen_id == citizen_id)
             .order_by(NetworkMeetingRow.requested_at.desc()))
    if for_update:
        query = query.with_for_update()
    return list((await uow.session.execute(query)).scalars())


def add_network_meeting(uow: UnitOfWork, **values: Any) -> NetworkMeetingRow:
    row = NetworkMeetingRow(id=uuid.uuid4(), **values)
    uow.session.add(row)
    return row


async def network_meeting(uow: UnitOfWork, citizen_id: uuid.UUID, meeting_id: uuid.UUID) -> NetworkMeetingRow:
    """One of the citizen's meeting requests, locked for a change (404 when the citizen has no such one)."""
    row = await uow.session.get(NetworkMeetingRow, meeting_id, with_for_update=True)
    if row is None or row.citizen_id != citizen_id:
        raise NotFound("Borgeren har ikke bedt om det netværksmøde.")
    return row


async def fit_session_row(uow: UnitOfWork, citizen_id: uuid.UUID, session_id: uuid.UUID) -> FitSessionRow:
    row = await uow.session.get(FitSessionRow, session_id, with_for_update=True)
    if row is None or row.citizen_id != citizen_id:
        raise NotFound("Borgeren har ingen sådan FIT-måling.")
    return row
