"""Referrals' use cases that more than one entry point runs (routes, the background job).

The beginning of the service shape: one async function per use case over a unit of work, with the
SQL in ``repository.py`` and the rules in ``domain/``. Routes and jobs call these, never each other.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contracts.referrals import FollowUpDueV1
from services.referrals import repository
from services.referrals.domain import lifecycle as lc
from services.referrals.domain import model as dm
from tovholder.uow import UnitOfWork

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
FOLLOW_UP_LEAD_DAYS = 14  # a follow-up becomes a task two weeks before it is due, so it can be planned


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


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
