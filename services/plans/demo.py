"""Load the demo staff directory and the demo citizens' plans and networks (idempotent): each
citizen's network holds the nurse consultant they chose as tovholder and a coordinator of their
botilbud, and the plan has one goal in the citizen's words with a 14-day follow-up. No events: like the other services' demo data, it is
state each service loads for itself."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from tovholder.uow import UnitOfWork
from services.plans.domain.cadence import FOURTEEN_DAYS
from services.plans.domain.followup import SubjectKind, schedule
from services.plans.domain.plan import Author, AuthorRole, add_goal, first_version, new_goal
from services.plans.models import FollowUpScheduleRow, NetworkMemberRow, Plan
from services.plans.domain.staff import BOTILBUD_STAFF_ROLES, Source, StaffMember
from services.plans.repository import any_plan, remember_staff, to_json, version_row

DEMO_GOALS = (
    "Jeg vil gerne lave mad selv to gange om ugen",
    "Ikke miste det jeg kan: handle ind selv",
    "Drikke mindre om aftenen",
    "Komme ud at gå en tur hver dag",
    "Sove bedre om natten",
)


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: Any = None) -> None:
    # The staff directory knows the demo staff of every botilbud (domain/staff.py, source "demo").
    for member in demo["staff"]:
        if member["role"] in BOTILBUD_STAFF_ROLES and member["botilbud"]:
            await remember_staff(uow, StaffMember(staff_id=member["sub"], role=member["role"],
                                                  botilbud_id=member["botilbud"], name=member.get("name"),
                                                  source=Source.DEMO))
    if await any_plan(uow):
        await uow.commit()
        return
    coordinators: dict[str, list[str]] = {}
    for member in demo["staff"]:
        if member["role"] == "coordinator" and member["botilbud"]:
            coordinators.setdefault(member["botilbud"], []).append(member["sub"])
    today = date.today()
    for n, c in enumerate(demo["citizens"]):
        citizen_id = uuid.UUID(c["citizen_id"])
        moved_in = datetime.combine(date.fromisoformat(c["moved_in_on"]), time(10), tzinfo=timezone.utc)
        plan = Plan(id=uuid.uuid5(citizen_id, "plan"), citizen_id=citizen_id, botilbud_id=c["botilbud"],
                    opened_at=moved_in, current_version=2)
        uow.session.add(plan)
        home_coordinators = coordinators.get(c["botilbud"], [])
        coordinator = home_coordinators[n % len(home_coordinators)] if home_coordinators else None
        members = [(c["tovholder_sub"], "nurse-consultant")] + ([(coordinator, "coordinator")] if coordinator else [])
        for staff_id, role in members:
            uow.session.add(NetworkMemberRow(citizen_id=citizen_id, staff_id=staff_id, role=role,
                                             basis="citizen-choice", added_at=moved_in, added_by="demo"))
        by = Author(coordinator or c["tovholder_sub"], AuthorRole.STAFF)
        v1 = first_version(plan_id=plan.id, citizen_id=citizen_id, created_at=moved_in,
                           created_by=Author("system", AuthorRole.STAFF))
        goal = new_goal(goal_id=uuid.uuid5(citizen_id, "goal-1"), text=DEMO_GOALS[n % len(DEMO_GOALS)],
                        written_with_citizen=True, cadence=FOURTEEN_DAYS)
        v2 = add_goal(v1, goal, by=by, at=moved_in + timedelta(days=1))
        await uow.session.flush()
        uow.session.add(version_row(v1))
        uow.session.add(version_row(v2))
        # Spread the demo follow-ups over the coming fortnight so the scheduler has work each day.
        due = schedule(plan_id=plan.id, subject=SubjectKind.GOAL, subject_id=goal.goal_id, cadence=FOURTEEN_DAYS,
                       anchor=today - timedelta(days=n % 14))
        uow.session.add(FollowUpScheduleRow(subject_id=goal.goal_id, plan_id=plan.id, citizen_id=citizen_id,
                                            subject=SubjectKind.GOAL.value, cadence=to_json(due.cadence),
                                            anchor=due.anchor, due_on=due.due_on, active=True))
    uow.audit(None, "demo.seed", detail={"plans": len(demo["citizens"])})
    await uow.commit()
