from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from contracts.referrals import (
    FollowUpDueV1,
    FollowUpHeldV1,
    MoveOutPlannedV1,
    PlacementEndedV1,
    PlacementStartedV1,
    ReferralWithdrawnV1,
    VisitationDecidedV1,
)
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.rules import IncomingEvent
from services.notifications.domain.tasks import Pool, Role, TaskKind, TaskStatus

from .builders import BOTILBUD, CITIZEN, NOW, apply_rules

REFERRAL = UUID(int=0xA1)


def run(body, existing=None):
    evt = IncomingEvent.from_body(event_id=str(uuid4()), time=NOW, body=body)
    applied = apply_rules(evt, existing)
    return applied.created, applied.changed


def local_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LOCAL_TZ).astimezone(UTC)


def granted(waitlisted=None):
    return VisitationDecidedV1(citizen_id=CITIZEN, referral_id=REFERRAL, decision="granted", decided_at=NOW, decided_by="v",
                               legal_basis="SEL §107", step=6, botilbud_id=BOTILBUD, start_date=date(2026, 12, 1),
                               waitlisted=waitlisted)


def started():
    return PlacementStartedV1(citizen_id=CITIZEN, referral_id=REFERRAL, offer_id="orion-107", botilbud_id=BOTILBUD,
                              legal_basis="SEL §107", step=6, moved_in_on=date(2026, 12, 10), follow_up_date=date(2027, 3, 1))


def test_waitlisted_grant_waits_for_move_in():
    assert run(granted(waitlisted=True)) == ([], [])
    (task,) = run(started())[0]
    assert task.kind is TaskKind.FIRST_NETWORK_MEETING and task.due_at == local_end(date(2026, 12, 24))


def test_move_in_moves_the_due_date_of_the_existing_meeting_task():
    (task,) = run(granted())[0]
    created, (revised,) = run(started(), [task])
    assert created == [] and revised.task_id == task.task_id and revised.due_at == local_end(date(2026, 12, 24))


def test_withdrawn_and_ended_referrals_withdraw_tasks():
    (task,) = run(granted())[0]
    _, (withdrawn,) = run(ReferralWithdrawnV1(citizen_id=CITIZEN, referral_id=REFERRAL, withdrawn_at=NOW,
                                              previous_status="granted"), [task])
    assert withdrawn.status is TaskStatus.CANCELLED
    ended = PlacementEndedV1(citizen_id=CITIZEN, referral_id=REFERRAL, offer_id="o", botilbud_id=BOTILBUD,
                             ended_on=date(2027, 1, 1), cause="moved_out", destination="own_home", from_step=6,
                             stepped_down=True)
    _, (closed,) = run(ended, [task])
    assert closed.status is TaskStatus.CANCELLED and "afsluttet" in closed.history[-1].note


def test_move_out_planned_gives_a_transition_task():
    body = MoveOutPlannedV1(citizen_id=CITIZEN, referral_id=REFERRAL, botilbud_id=BOTILBUD, planned_on=date(2027, 2, 1),
                            destination="own_home", current_step=6, phase_out_visits_planned=5)
    (task,) = run(body)[0]
    assert task.kind is TaskKind.MOVE_OUT and "Planlæg 5 udslusningsbesøg" in task.checklist
    assert task.pool == Pool(Role.COORDINATOR, BOTILBUD)


def test_visitation_follow_up_due_and_held():
    due = FollowUpDueV1(citizen_id=CITIZEN, referral_id=REFERRAL, offer_id="o", botilbud_id=BOTILBUD,
                        legal_basis="SEL §107", step=6, follow_up_date=date(2027, 3, 1), temporary=True)
    (task,) = run(due)[0]
    assert task.pool == Pool(Role.VISITATION, None) and "§ 107" in task.title
    held = FollowUpHeldV1(citizen_id=CITIZEN, referral_id=REFERRAL, held_on=date(2027, 3, 1),
                          next_follow_up_date=date(2027, 6, 1))
    _, (done,) = run(held, [task])
    assert done.status is TaskStatus.DONE


def drifting(reason="past-planned-period"):
    from contracts.referrals import TemporaryStayDriftingV1
    return TemporaryStayDriftingV1(citizen_id=CITIZEN, referral_id=REFERRAL, offer_id="cirklen", botilbud_id="cirklen",
                                   reason=reason, since=date(2026, 11, 1), moved_in_on=date(2024, 11, 1),
                                   follow_ups_held=4, planned_years=2)


def test_a_drifting_temporary_stay_gives_visitation_one_task_per_reason_ever():
    created, _ = run(drifting())
    [task] = created
    assert task.kind is TaskKind.VISITATION_FOLLOW_UP and task.pool == Pool(Role.VISITATION, None)
    assert "over den planlagte periode på 2 år" in task.title
    # 10 working days after Sunday 22 November 2026: Friday 4 December, 23:59 Copenhagen time
    assert task.due_at == local_end(date(2026, 12, 4))
    again, _ = run(drifting(), existing=[task])  # redelivered or rescanned: no second task
    assert again == []
    from dataclasses import replace
    again, _ = run(drifting(), existing=[replace(task, status=TaskStatus.DONE)])  # not even once it is done
    assert again == []
    other, _ = run(drifting("no-movement"), existing=[task])
    assert len(other) == 1 and "4 opfølgninger uden plan for udflytning" in other[0].title
