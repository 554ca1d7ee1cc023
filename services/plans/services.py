"""Plans' use cases: one async function per use case over a unit of work.

Each one authorises, loads through ``repository``, asks ``domain``, saves, emits its events, audits
and commits. Routes (``api.py``), event handlers (``handlers.py``) and the background job
(``jobs.py``) call these, never each other.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from contracts.plans import FollowUpDueV1
from tovholder.uow import UnitOfWork
from services.plans import repository
from services.plans.domain.followup import mark_announced, to_announce
from services.plans.models import FollowUpScheduleRow

# Follow-ups are due on calendar days where the botilbud are.
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
ANNOUNCE_BATCH = 200


def now() -> datetime:
    return datetime.now(timezone.utc)


def local_today(at: datetime | None = None) -> date:
    return (at or now()).astimezone(LOCAL_ZONE).date()


# --- follow-ups due ------------------------------------------------------------------------------


def announce(uow: UnitOfWork, row: FollowUpScheduleRow, *, assignee: str | None, botilbud_id: str | None) -> None:
    """Emit FollowUpDueV1 for the schedule's due date and remember that it was announced."""
    current = repository.as_schedule(row)
    uow.emit(FollowUpDueV1(
        citizen_id=row.citizen_id, plan_id=row.plan_id, subject=row.subject, subject_id=row.subject_id,
        due_on=current.due_on, late_after=current.late_after, cadence=current.cadence.label,
        assignee=assignee, botilbud_id=botilbud_id,
    ))
    repository.apply_schedule(row, mark_announced(current))
    uow.audit(None, "follow-up.due", citizen_id=row.citizen_id, object_type=f"{row.subject}-follow-up",
              object_id=row.subject_id, detail={"due_on": current.due_on.isoformat(), "assignee": assignee})


async def announce_due_follow_ups(uow: UnitOfWork, *, today: date, limit: int = ANNOUNCE_BATCH) -> int:
    """Emit FollowUpDueV1 for every due, not yet announced follow-up (up to ``limit``). Commits.

    ``FOR UPDATE SKIP LOCKED`` lets replicas share the work without announcing twice, and
    ``announced_for`` makes a rerun after a crash harmless."""
    rows = await repository.due_schedules(uow, today=today, limit=limit)
    by_subject = {r.subject_id: r for r in rows}
    due = to_announce([repository.as_schedule(r) for r in rows], today)
    botilbud: dict = {}
    owners: dict = {}  # one network lookup per citizen per round
    for item in due:
        row = by_subject[item.subject_id]
        if row.plan_id not in botilbud:
            plan = await repository.plan_by_id(uow, row.plan_id)
            botilbud[row.plan_id] = plan.botilbud_id if plan else None
        if row.assignee is None and row.citizen_id not in owners:
            owners[row.citizen_id] = (await repository.network_of(uow, row.citizen_id)).follow_up_owner()
        announce(uow, row, assignee=row.assignee or owners.get(row.citizen_id), botilbud_id=botilbud[row.plan_id])
    await uow.commit()
    return len(due)
