"""Loading and saving the plans service's aggregates inside a unit of work. The rules live in
``services.plans.domain``; this module only moves them in and out of PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from contracts.plans import FollowUpDueV1, PlanVersionCreatedV1
from tovholder.errors import NotFound
from tovholder.uow import UnitOfWork
from services.plans.codec import from_json, to_json
from services.plans.domain.cadence import Cadence
from services.plans.domain.consent import ConsentRecord
from services.plans.domain.followup import FollowUpSchedule, SubjectKind, change_cadence, mark_announced, schedule
from services.plans.domain.network import ChangeBasis, Network, NetworkMember, NetworkRole
from services.plans.domain.plan import Author, AuthorRole, PlanVersion, first_version
from services.plans.models import ConsentRow, FollowUpScheduleRow, NetworkMemberRow, Plan, PlanVersionRow

# Follow-ups are due on calendar days where the botilbud are.
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
SYSTEM_AUTHOR = Author("system", AuthorRole.STAFF)


def now() -> datetime:
    return datetime.now(timezone.utc)


def local_today(at: datetime | None = None) -> date:
    return (at or now()).astimezone(LOCAL_ZONE).date()


NO_PLAN = "This citizen has no plan yet; it opens when a place is granted."


async def plan_of(uow: UnitOfWork, citizen_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    query = select(Plan).where(Plan.citizen_id == citizen_id)
    if for_update:
        # Serialises writers per citizen: each change reads the current version and writes the next.
        query = query.with_for_update()
    plan = (await uow.session.execute(query)).scalar_one_or_none()
    if plan is None:
        raise NotFound(NO_PLAN)
    return plan


def version_row(version: PlanVersion) -> PlanVersionRow:
    return PlanVersionRow(plan_id=version.plan_id, number=version.number, created_at=version.created_at,
                          created_by=version.created_by.id, change=version.change, content=to_json(version))


def opening_version(plan: Plan) -> PlanVersion:
    opened = plan.opened_at or now()
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
        raise NotFound(f"The plan has no version {number}; the newest is {plan.current_version}.")
    return from_json(PlanVersion, row.content)


def save_version(uow: UnitOfWork, plan: Plan, version: PlanVersion, *, goal_ids: list[uuid.UUID],
                 written_with_citizen: bool | None) -> None:
    uow.session.add(version_row(version))
    plan.current_version = version.number
    uow.emit(PlanVersionCreatedV1(
        citizen_id=plan.citizen_id, plan_id=plan.id, version=version.number, change=version.change,
        goal_ids=goal_ids, created_at=version.created_at, created_by=version.created_by.id,
        written_with_citizen=written_with_citizen,
    ))


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
        NetworkMember(staff_id=r.staff_id, role=NetworkRole(r.role), added_at=r.added_at, basis=ChangeBasis(r.basis))
        for r in rows))


async def network_of(uow: UnitOfWork, citizen_id: uuid.UUID) -> Network:
    return as_network(citizen_id, await network_rows(uow, citizen_id))


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


async def set_schedule(uow: UnitOfWork, plan: Plan, *, subject: SubjectKind, subject_id: uuid.UUID,
                       cadence: Cadence | None, anchor: date, assignee: str | None) -> FollowUpScheduleRow | None:
    """Create, change or stop the follow-up schedule of the plan or a goal."""
    row = await uow.session.get(FollowUpScheduleRow, subject_id, with_for_update=True)
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


def announce(uow: UnitOfWork, row: FollowUpScheduleRow, *, assignee: str | None, botilbud_id: str | None) -> None:
    current = as_schedule(row)
    uow.emit(FollowUpDueV1(
        citizen_id=row.citizen_id, plan_id=row.plan_id, subject=row.subject, subject_id=row.subject_id,
        due_on=current.due_on, late_after=current.late_after, cadence=current.cadence.label,
        assignee=assignee, botilbud_id=botilbud_id,
    ))
    apply_schedule(row, mark_announced(current))
    uow.audit(None, "follow-up.due", citizen_id=row.citizen_id, object_type=f"{row.subject}-follow-up",
              object_id=row.subject_id, detail={"due_on": current.due_on.isoformat(), "assignee": assignee})
