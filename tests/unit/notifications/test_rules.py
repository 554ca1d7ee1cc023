"""The event → task rules, applied over a citizen's tasks as the handler does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.plans import FollowUpDueV1, LearningPlanDueV1, SafetyRatingChangedV1
from contracts.referrals import VisitationDecidedV1
from services.notifications.domain import tasks as t
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.rules import (
    FOLLOW_UP_RECORDED,
    HOSPITAL_NOTICE_CANCELLED,
    HOSPITAL_NOTICE_CORRECTED,
    HOSPITAL_NOTICE_REGISTERED,
    LEARNING_PLAN_COMPLETED,
    RULES,
    VISITATION_DECIDED,
    IncomingEvent,
    evaluate,
    handled_event_types,
)
from services.notifications.domain.tasks import Actor, Pool, Priority, Role, Task, TaskKind, TaskStatus

from .builders import BOTILBUD, CITIZEN, NOW, NURSE, apply_rules, event, make_task

REFERRAL = UUID("00000000-0000-0000-0000-00000000a001")


def run(evt: IncomingEvent, existing: list[Task] | None = None) -> tuple[list[Task], list[Task]]:
    applied = apply_rules(evt, existing)
    return applied.created, applied.changed


def notice(kind: str, *, notice_id: str = "n1", tovholder_sub: str | None = "nurse-1", botilbud_id: str | None = BOTILBUD,
           occurred_at: datetime = NOW, event_type: str = HOSPITAL_NOTICE_REGISTERED, **extra) -> IncomingEvent:
    data = {
        "notice_id": notice_id,
        "message_id": str(uuid4()),
        "code": {"admission": "STIN", "discharge": "SLHJ", "death": "MORS"}.get(kind, "STOR"),
        "kind": kind,
        "hospital_episode_id": "EPJ-1",
        "department": "Afsnit P2",
        "sender_org": "SOR:1234567",
        "occurred_at": occurred_at,
        "legal_basis": "retssikkerhedsloven § 12 c",
        "tovholder_sub": tovholder_sub,
        "botilbud_id": botilbud_id,
        **extra,
    }
    return event(event_type, data)


def local_end_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LOCAL_TZ).astimezone(UTC)


# ---------------------------------------------------------------- the table itself


def test_every_rule_is_described_in_danish_and_known():
    assert {VISITATION_DECIDED, HOSPITAL_NOTICE_REGISTERED, HOSPITAL_NOTICE_CORRECTED, HOSPITAL_NOTICE_CANCELLED} <= handled_event_types()
    for rule in RULES:
        assert rule.description and rule.event_type.startswith("tovholder.")
        assert any(ch in rule.description for ch in "æøå→")


def test_unknown_event_type_creates_nothing():
    assert evaluate(event("tovholder.plans.fit-recorded.v1", {})) == []


# ---------------------------------------------------------------- referrals


def visitation(decision: str = "granted", botilbud_id: str | None = BOTILBUD, start_date: date | None = date(2026, 12, 1)):
    body = VisitationDecidedV1(
        citizen_id=CITIZEN, referral_id=REFERRAL, decision=decision, decided_at=NOW, decided_by="v-1",
        legal_basis="SEL §108", step=7, botilbud_id=botilbud_id, start_date=start_date,
    )
    return IncomingEvent.from_body(event_id="e-visit", time=NOW, body=body)


def test_granted_visitation_gives_first_network_meeting_in_coordinator_pool():
    created, changed = run(visitation())
    assert changed == []
    (task,) = created
    assert task.kind is TaskKind.FIRST_NETWORK_MEETING and task.title == "Første netværksmøde"
    assert task.pool == Pool(Role.COORDINATOR, BOTILBUD) and task.owner_sub is None
    assert task.botilbud_id == BOTILBUD
    assert task.due_at == local_end_of_day(date(2026, 12, 15))
    assert t.Link("referral", str(REFERRAL)) in task.links
    assert task.source_event_id == "e-visit" and task.source_event_type == VISITATION_DECIDED


def test_refused_visitation_gives_no_task():
    assert run(visitation("refused")) == ([], [])


def test_granted_without_botilbud_goes_to_visitation():
    (task,) = run(visitation(botilbud_id=None, start_date=None))[0]
    assert task.pool == Pool(Role.VISITATION, None)
    assert "botilbud" in task.title
    assert task.due_at == local_end_of_day(date(2026, 12, 6))


# ---------------------------------------------------------------- hospital notices


def test_admission_is_urgent_for_the_tovholder_due_the_same_day():
    late_evening = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)  # 22:30 in Copenhagen
    (task,) = run(notice("admission", occurred_at=late_evening))[0]
    assert task.kind is TaskKind.ACCOMPANY_ADMISSION
    assert task.owner_sub == "nurse-1" and task.pool is None
    assert task.priority is Priority.URGENT
    assert task.due_at == local_end_of_day(date(2026, 11, 22))
    assert "Afsnit P2" in task.title
    assert t.Link("hospital-notice", "n1") in task.links and t.Link("hospital-episode", "EPJ-1") in task.links


def test_admission_after_local_midnight_is_due_that_local_day():
    just_after_midnight_local = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # 00:30 on the 23rd in Copenhagen
    (task,) = run(notice("admission", occurred_at=just_after_midnight_local))[0]
    assert task.due_at == local_end_of_day(date(2026, 11, 23))


def test_admission_without_tovholder_goes_to_the_nurse_pool_of_the_botilbud():
    (task,) = run(notice("admission", tovholder_sub=None))[0]
    assert task.owner_sub is None and task.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD)


def test_admission_without_tovholder_or_botilbud_goes_to_visitation():
    (task,) = run(notice("admission", tovholder_sub=None, botilbud_id=None))[0]
    assert task.pool == Pool(Role.VISITATION, None)


def test_discharge_follow_up_checks_medication_by_next_day():
    (task,) = run(notice("discharge"))[0]
    assert task.kind is TaskKind.DISCHARGE_FOLLOW_UP
    assert any("medicin" in item.lower() and "FMK" in item for item in task.checklist)
    assert task.due_at == local_end_of_day(date(2026, 11, 23))


def test_death_tells_network_and_closes_other_open_tasks_but_not_finished_ones():
    open_task = make_task(kind=TaskKind.PLAN_FOLLOW_UP)
    done_task = t.complete(make_task(owner_sub="x"), Actor("x"), NOW)
    created, changed = run(notice("death", notice_id="d1"), [open_task, done_task])
    (inform,) = created
    assert inform.kind is TaskKind.INFORM_NETWORK_OF_DEATH and inform.status is TaskStatus.OPEN
    (cancelled,) = changed
    assert cancelled.task_id == open_task.task_id and cancelled.status is TaskStatus.CANCELLED
    assert cancelled.cancelled_by == "hospital-notice:d1"
    assert cancelled.history[-1].note == "Borgeren er meldt død"


def test_leave_started_then_ended():
    (leave,) = run(notice("leave-started"))[0]
    assert leave.kind is TaskKind.HOSPITAL_LEAVE_CONTACT and leave.priority is Priority.ROUTINE
    created, changed = run(notice("leave-ended", notice_id="n2"), [leave])
    assert created == []
    assert changed[0].status is TaskStatus.CANCELLED and "Orloven" in changed[0].history[-1].note


def test_unknown_notice_kind_is_refused():
    with pytest.raises(InvalidInput):
        run(notice("teleported"))


def test_correction_updates_the_task_in_place_and_keeps_history():
    (task,) = run(notice("admission"))[0]
    task = t.claim(task, NURSE, NOW)
    correction = notice("admission", notice_id="n2", event_type=HOSPITAL_NOTICE_CORRECTED, corrects_notice_id="n1",
                        department="Afsnit P7")
    created, (revised,) = run(correction, [task])
    assert created == []
    assert revised.task_id == task.task_id and revised.status is TaskStatus.CLAIMED
    assert "Afsnit P7" in revised.title
    assert t.Link("hospital-notice", "n1") in revised.links and t.Link("hospital-notice", "n2") in revised.links
    assert [h.action for h in revised.history] == ["created", "claimed", "revised"]
    assert any(c.field == "title" for c in revised.history[-1].changes)


def test_correction_to_another_kind_withdraws_and_creates():
    (admission,) = run(notice("admission"))[0]
    correction = notice("discharge", notice_id="n2", event_type=HOSPITAL_NOTICE_CORRECTED, corrects_notice_id="n1")
    (discharge,), (withdrawn,) = run(correction, [admission])
    assert discharge.kind is TaskKind.DISCHARGE_FOLLOW_UP
    assert withdrawn.status is TaskStatus.CANCELLED and withdrawn.history[-1].note == "Hospitalsadvisen er rettet"


def test_correction_after_the_task_is_done_is_only_noted():
    (task,) = run(notice("admission"))[0]
    done = t.complete(task, NURSE, NOW)
    correction = notice("admission", notice_id="n2", event_type=HOSPITAL_NOTICE_CORRECTED, corrects_notice_id="n1",
                        department="Afsnit P7")
    _, (noted,) = run(correction, [done])
    assert noted.status is TaskStatus.DONE and noted.title == done.title
    assert noted.history[-1].action == "noted"


def test_cancellation_withdraws_tasks_from_that_notice_only():
    (admission,) = run(notice("admission"))[0]
    other = make_task(kind=TaskKind.PLAN_FOLLOW_UP)
    cancellation = event(HOSPITAL_NOTICE_CANCELLED, {"notice_id": "n9", "cancels_notice_id": "n1"})
    created, (withdrawn,) = run(cancellation, [admission, other])
    assert created == []
    assert withdrawn.task_id == admission.task_id and withdrawn.status is TaskStatus.CANCELLED
    assert withdrawn.history[0].action == "created"  # nothing is deleted


def test_cancelling_a_death_notice_reopens_what_it_closed():
    follow_up = make_task(kind=TaskKind.PLAN_FOLLOW_UP)
    created, changed = run(notice("death", notice_id="d1"), [follow_up])
    tasks = created + changed
    cancellation = event(HOSPITAL_NOTICE_CANCELLED, {"notice_id": "d2", "cancels_notice_id": "d1"})
    _, after = run(cancellation, tasks)
    by_kind = {task.kind: task for task in after}
    assert by_kind[TaskKind.PLAN_FOLLOW_UP].status is TaskStatus.OPEN
    assert by_kind[TaskKind.PLAN_FOLLOW_UP].history[-1].action == "reopened"
    assert by_kind[TaskKind.INFORM_NETWORK_OF_DEATH].status is TaskStatus.CANCELLED


def test_correcting_a_death_into_an_admission_reopens_and_withdraws():
    follow_up = make_task(kind=TaskKind.PLAN_FOLLOW_UP)
    created, changed = run(notice("death", notice_id="d1"), [follow_up])
    correction = notice("admission", notice_id="d2", event_type=HOSPITAL_NOTICE_CORRECTED, corrects_notice_id="d1")
    new, after = run(correction, created + changed)
    assert [task.kind for task in new] == [TaskKind.ACCOMPANY_ADMISSION]
    states = {task.kind: task.status for task in after}
    assert states == {TaskKind.PLAN_FOLLOW_UP: TaskStatus.OPEN, TaskKind.INFORM_NETWORK_OF_DEATH: TaskStatus.CANCELLED}


def test_correcting_an_admission_into_a_death_closes_everything_else():
    (admission,) = run(notice("admission"))[0]
    follow_up = make_task(kind=TaskKind.PLAN_FOLLOW_UP)
    correction = notice("death", notice_id="n2", event_type=HOSPITAL_NOTICE_CORRECTED, corrects_notice_id="n1")
    (inform,), changed = run(correction, [admission, follow_up])
    assert inform.kind is TaskKind.INFORM_NETWORK_OF_DEATH and inform.status is TaskStatus.OPEN
    assert {task.status for task in changed} == {TaskStatus.CANCELLED}


# ---------------------------------------------------------------- plans


def follow_up(assignee: str | None = None, due_on: date = date(2026, 12, 1)) -> IncomingEvent:
    body = FollowUpDueV1(
        citizen_id=CITIZEN, plan_id=UUID(int=7), subject="goal", subject_id=UUID(int=8), due_on=due_on,
        late_after=due_on + timedelta(days=3), cadence="14 dage", assignee=assignee, botilbud_id=BOTILBUD,
    )
    return IncomingEvent.from_body(event_id=str(uuid4()), time=NOW, body=body)


def test_follow_up_due_goes_to_the_assignee_else_coordinators_and_is_not_duplicated():
    (mine,) = run(follow_up(assignee="kontakt-1"))[0]
    assert mine.owner_sub == "kontakt-1" and mine.kind is TaskKind.PLAN_FOLLOW_UP
    assert mine.due_at == local_end_of_day(date(2026, 12, 4))
    (pooled,) = run(follow_up())[0]
    assert pooled.pool == Pool(Role.COORDINATOR, BOTILBUD)
    created, (revised,) = run(follow_up(assignee="kontakt-1", due_on=date(2026, 12, 8)), [mine])
    assert created == [] and revised.task_id == mine.task_id
    assert revised.due_at == local_end_of_day(date(2026, 12, 11))


def test_follow_up_recorded_completes_the_task():
    (task,) = run(follow_up(assignee="kontakt-1"))[0]
    recorded = event(FOLLOW_UP_RECORDED, {"plan_id": str(UUID(int=7)), "subject": "goal", "subject_id": str(UUID(int=8))})
    _, (done,) = run(recorded, [task])
    assert done.status is TaskStatus.DONE and done.history[-1].actor == t.SYSTEM_ACTOR


def test_learning_plan_due_and_completed():
    body = LearningPlanDueV1(citizen_id=CITIZEN, learning_plan_id=UUID(int=5), episode_ended_at=NOW,
                             due_at=NOW + timedelta(hours=24))
    evt = IncomingEvent.from_body(event_id="e-lp", time=NOW, body=body, citizen_botilbud_id=BOTILBUD)
    (task,) = run(evt)[0]
    assert task.kind is TaskKind.LEARNING_PLAN and task.priority is Priority.URGENT
    assert task.due_at == NOW + timedelta(hours=24)
    assert task.pool == Pool(Role.COORDINATOR, BOTILBUD)  # botilbud from the citizen read model
    _, (done,) = run(event(LEARNING_PLAN_COMPLETED, {"learning_plan_id": str(UUID(int=5))}), [task])
    assert done.status is TaskStatus.DONE


def safety(level: str, reassess_at: datetime | None = NOW + timedelta(hours=8), told: bool = False) -> IncomingEvent:
    body = SafetyRatingChangedV1(citizen_id=CITIZEN, rating_id=uuid4(), level=level, rated_at=NOW,
                                 reassess_at=reassess_at, citizen_told=told)
    return IncomingEvent.from_body(event_id=str(uuid4()), time=NOW, body=body, citizen_botilbud_id=BOTILBUD)


def test_red_rating_asks_for_urgent_reassessment_and_telling_the_citizen():
    (task,) = run(safety("red"))[0]
    assert task.kind is TaskKind.RISK_REASSESSMENT and task.priority is Priority.URGENT
    assert task.checklist[0].startswith("Fortæl borgeren")
    (told,) = run(safety("yellow", told=True))[0]
    assert told.priority is Priority.ROUTINE and not told.checklist[0].startswith("Fortæl")


def test_new_rating_revises_and_green_closes_the_reassessment():
    (task,) = run(safety("yellow"))[0]
    created, (revised,) = run(safety("red"), [task])
    assert created == [] and revised.priority is Priority.URGENT
    _, (closed,) = run(safety("green", reassess_at=None), [revised])
    assert closed.status is TaskStatus.DONE


def test_rating_without_reassessment_time_gives_no_task():
    assert run(safety("yellow", reassess_at=None)) == ([], [])


def test_missing_required_field_is_a_clear_error():
    with pytest.raises(InvalidInput, match="referral_id"):
        run(event(VISITATION_DECIDED, {"decision": "granted", "decided_at": NOW, "botilbud_id": BOTILBUD}))
