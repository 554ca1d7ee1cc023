"""Rules for the health service's events, fed with the real contract models (catches contract drift)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from contracts.health import (
    DepotVisitMissedV1,
    HealthCheckCancelledV1,
    HealthCheckDecisionRecordedV1,
    HealthCheckHeldV1,
    HealthCheckScheduledV1,
    HealthCheckStepCompletedV1,
    HealthCheckStepDueV1,
    HospitalNoticeCancelledV1,
    HospitalNoticeCorrectedV1,
    HospitalNoticeRegisteredV1,
    MedicationAlertRaisedV1,
    MedicationChangedV1,
    PartnerDocumentReceivedV1,
    TovholderChosenV1,
)
from services.notifications.domain import tasks as t
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.rules import IncomingEvent
from services.notifications.domain.tasks import Pool, Priority, Role, Task, TaskKind, TaskStatus

from .builders import BOTILBUD, CITIZEN, NOW, NURSE, apply_rules

CHECK = UUID(int=77)


def run(body, existing: list[Task] | None = None):
    evt = IncomingEvent.from_body(event_id=str(uuid4()), time=NOW, body=body)
    applied = apply_rules(evt, existing)
    return applied.created, applied.changed


def local_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LOCAL_TZ).astimezone(UTC)


def registered(kind="admission", notice_id=UUID(int=1), tovholder="nurse-1"):
    return HospitalNoticeRegisteredV1(
        citizen_id=CITIZEN, notice_id=notice_id, message_id=uuid4(), code="STIN", kind=kind,
        hospital_episode_id="EPJ-778812", department="Afsnit P2", sender_org="SOR:1234567", occurred_at=NOW,
        legal_basis="retssikkerhedsloven § 12 c", tovholder_sub=tovholder, botilbud_id=BOTILBUD,
    )


def test_registered_corrected_cancelled_with_contract_models():
    (task,) = run(registered())[0]
    assert task.owner_sub == "nurse-1" and task.kind is TaskKind.ACCOMPANY_ADMISSION
    correction = HospitalNoticeCorrectedV1(
        citizen_id=CITIZEN, notice_id=UUID(int=2), corrects_notice_id=UUID(int=1), message_id=uuid4(), code="STIN",
        kind="admission", hospital_episode_id="EPJ-778812", department="Afsnit P7", sender_org="SOR:1234567",
        occurred_at=NOW, legal_basis="retssikkerhedsloven § 12 c", tovholder_sub="nurse-1", botilbud_id=BOTILBUD,
    )
    _, (revised,) = run(correction, [task])
    assert "Afsnit P7" in revised.title
    _, (withdrawn,) = run(HospitalNoticeCancelledV1(citizen_id=CITIZEN, notice_id=UUID(int=3), cancels_notice_id=UUID(int=2)), [revised])
    assert withdrawn.status is TaskStatus.CANCELLED


def test_medication_alert_is_urgent_fmk_check():
    body = MedicationAlertRaisedV1(citizen_id=CITIZEN, alert_id=uuid4(), change_id=uuid4(), hospital_episode_ids=["EPJ-1"],
                                   raised_at=NOW, tovholder_sub=None, botilbud_id=BOTILBUD)
    (task,) = run(body)[0]
    assert task.kind is TaskKind.MEDICATION_CHANGE and task.priority is Priority.URGENT
    assert task.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD)
    assert t.Link("hospital-episode", "EPJ-1") in task.links


def medication_changed(source, during_admission=False):
    return MedicationChangedV1(citizen_id=CITIZEN, change_id=uuid4(), fmk_reference="FMK-1", change_kind="dose-changed",
                               changed_at=NOW, source=source, changed_by_org="Lægehuset", during_admission=during_admission,
                               tovholder_sub="nurse-1", botilbud_id=BOTILBUD)


def test_medication_change_from_partner_only():
    (task,) = run(medication_changed("partner"))[0]
    assert "Lægehuset" in task.title
    assert run(medication_changed("staff")) == ([], [])
    assert run(medication_changed("partner", during_admission=True)) == ([], [])


def test_health_check_scheduled_carries_the_reminders():
    starts = datetime(2026, 12, 3, 9, 0, tzinfo=LOCAL_TZ)
    reminders = [datetime(2026, 12, 2, 18, tzinfo=LOCAL_TZ), datetime(2026, 12, 3, 7, tzinfo=LOCAL_TZ)]
    body = HealthCheckScheduledV1(citizen_id=CITIZEN, health_check_id=CHECK, year=2026, extended=False, starts_at=starts,
                                  gp_practice="Lægehuset", pre_assessment_due=date(2026, 11, 5),
                                  preparation_due=date(2026, 11, 28), reminders_at=reminders, tovholder_sub="nurse-1",
                                  botilbud_id=BOTILBUD)
    (task,) = run(body)[0]
    assert task.kind is TaskKind.EXAMINATION_REMINDER and task.due_at == starts
    assert [r.at for r in task.reminders] == reminders
    assert "03.12.2026 kl. 09:00" in task.title


def step_due(step="medication-reconciliation", role="nurse-consultant"):
    return HealthCheckStepDueV1(citizen_id=CITIZEN, health_check_id=CHECK, step=step, target=date(2026, 11, 25),
                                deadline=date(2026, 11, 28), assignee_role=role, tovholder_sub="nurse-1", botilbud_id=BOTILBUD)


def test_health_check_steps_become_tasks_and_close_when_recorded():
    (task,) = run(step_due())[0]
    assert task.kind is TaskKind.HEALTH_CHECK_PREPARATION and task.title.startswith("Medicinafstemning")
    assert task.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD) and task.due_at == local_end(date(2026, 11, 28))
    (other_role,) = run(step_due("pre-assessment", role="medication-responsible"))[0]
    assert other_role.owner_sub == "nurse-1"  # an unknown role falls back to the tovholder
    done_evt = HealthCheckStepCompletedV1(citizen_id=CITIZEN, health_check_id=CHECK, step="medication-reconciliation",
                                          completed_at=NOW)
    _, (done,) = run(done_evt, [task, other_role])
    assert done.task_id == task.task_id and done.status is TaskStatus.DONE


def test_health_check_cancelled_withdraws_its_tasks():
    (task,) = run(step_due())[0]
    body = HealthCheckCancelledV1(citizen_id=CITIZEN, health_check_id=CHECK, reason="declined", cancelled_at=NOW)
    _, (withdrawn,) = run(body, [task])
    assert withdrawn.status is TaskStatus.CANCELLED and "frivilligt" in withdrawn.history[-1].note


def test_held_and_decision_with_date():
    held = HealthCheckHeldV1(citizen_id=CITIZEN, health_check_id=CHECK, held_at=NOW, participant_roles=["gp"], decisions=1)
    (follow,) = run(held)[0]
    assert follow.kind is TaskKind.HEALTH_CHECK_FOLLOW_UP and len(follow.checklist) == 3
    decision = HealthCheckDecisionRecordedV1(
        citizen_id=CITIZEN, decision_id=uuid4(), health_check_id=CHECK, kind="book-examination", title="EKG hos egen læge",
        due_at=NOW + timedelta(days=10), reminders_at=[NOW + timedelta(days=9)], responsible_sub="kontakt-1",
        plan_update=True, tovholder_sub="nurse-1", botilbud_id=BOTILBUD,
    )
    (task,) = run(decision)[0]
    assert task.owner_sub == "kontakt-1" and task.title.endswith("EKG hos egen læge") and len(task.reminders) == 1
    undated = decision.model_copy(update={"due_at": None})
    assert run(undated) == ([], [])


def test_partner_document_and_depot_visit_missed():
    doc = PartnerDocumentReceivedV1(citizen_id=CITIZEN, document_id=uuid4(), kind="pharmacist-review",
                                    sender_org="Apoteket", received_at=NOW, health_check_id=CHECK,
                                    tovholder_sub="nurse-1", botilbud_id=BOTILBUD)
    (task,) = run(doc)[0]
    assert "medicingennemgang" in task.title and t.Link("health-check", str(CHECK)) in task.links
    missed = DepotVisitMissedV1(citizen_id=CITIZEN, schedule_id=uuid4(), scheduled_for=NOW, reason="refused",
                                tovholder_sub=None, botilbud_id=BOTILBUD)
    (depot,) = run(missed)[0]
    assert depot.kind is TaskKind.DEPOT_VISIT_MISSED and depot.priority is Priority.URGENT
    assert "borgeren sagde nej" in depot.title and depot.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD)
    again_created, again_changed = run(missed, [depot])
    assert again_created == [] and again_changed[0].task_id == depot.task_id  # the same miss twice is one task


def test_new_tovholder_takes_over_unclaimed_tasks():
    (open_task,) = run(registered())[0]
    (claimed,) = run(registered(kind="discharge", notice_id=UUID(int=9)))[0]
    claimed = t.claim(claimed, NURSE, NOW)
    body = TovholderChosenV1(citizen_id=CITIZEN, nurse_consultant_sub="nurse-2", botilbud_id=BOTILBUD,
                             previous_nurse_consultant_sub="nurse-1")
    _, (moved,) = run(body, [open_task, claimed])
    assert moved.task_id == open_task.task_id and moved.owner_sub == "nurse-2"
    assert moved.history[-1].note == "Borgeren har valgt en ny tovholder"
    first_choice = body.model_copy(update={"previous_nurse_consultant_sub": None})
    assert run(first_choice, [open_task]) == ([], [])


def test_parked_notice_without_citizen_goes_to_visitation_and_closes_when_resolved():
    from contracts.health import HospitalNoticeParkedV1, HospitalNoticeUnparkedV1

    notice_id = uuid4()
    parked = HospitalNoticeParkedV1(subject_id=notice_id, unmatched_notice_id=notice_id, code="STAA",
                                    sender_org="SOR:1234567", department="Afsnit P2", occurred_at=NOW, received_at=NOW,
                                    legal_basis="retssikkerhedsloven § 12 c")
    (task,) = run(parked)[0]
    assert task.citizen_id is None and task.kind is TaskKind.UNMATCHED_HOSPITAL_NOTICE
    assert task.pool == Pool(Role.VISITATION, None) and task.priority is Priority.URGENT
    assert "akut indlæggelse" in task.title
    unparked = HospitalNoticeUnparkedV1(subject_id=notice_id, unmatched_notice_id=notice_id, resolution="matched",
                                        resolved_by="visitation-1", resolved_at=NOW)
    _, (done,) = run(unparked, [task])
    assert done.status is TaskStatus.DONE and "fundet" in done.history[-1].note


# --- issue 15: hospital stays in order (health says what a notice asks for; the rules obey) ---------


def notice(kind, *, code="STIN", follow_up=None, episode_state=None, occurred_at=NOW, received_at=None, notice_id=None):
    return HospitalNoticeRegisteredV1(
        citizen_id=CITIZEN, notice_id=notice_id or uuid4(), message_id=uuid4(), code=code, kind=kind,
        hospital_episode_id="EPJ-778812", department="Afsnit P2", sender_org="SOR:1234567", occurred_at=occurred_at,
        legal_basis="retssikkerhedsloven § 12 c", tovholder_sub="nurse-1", botilbud_id=BOTILBUD,
        received_at=received_at, episode_state=episode_state, follow_up=follow_up,
    )


def test_discharge_then_its_admission_makes_no_accompany_task():
    (discharge_task,) = run(notice("discharge", code="SLHJ", follow_up="usual", episode_state="discharged"))[0]
    assert discharge_task.kind is TaskKind.DISCHARGE_FOLLOW_UP
    created, changed = run(notice("admission", follow_up="none", episode_state="discharged",
                                  occurred_at=NOW - timedelta(days=2)), [discharge_task])
    assert created == [] and changed == []


def test_a_discharge_closes_the_admissions_accompany_task():
    (accompany,) = run(notice("admission", follow_up="usual", episode_state="admitted"))[0]
    assert accompany.status is TaskStatus.OPEN
    created, changed = run(notice("discharge", code="SLHJ", follow_up="usual", episode_state="discharged"), [accompany])
    assert [c.kind for c in created] == [TaskKind.DISCHARGE_FOLLOW_UP]
    (closed,) = changed
    assert closed.task_id == accompany.task_id and closed.status is TaskStatus.DONE


def test_cancelling_the_discharge_reopens_the_accompany_task_it_closed():
    (accompany,) = run(notice("admission", follow_up="usual", episode_state="admitted"))[0]
    discharge_id = uuid4()
    created, (closed,) = run(notice("discharge", code="SLHJ", notice_id=discharge_id, follow_up="usual",
                                    episode_state="discharged"), [accompany])
    assert closed.status is TaskStatus.DONE
    (follow_up,) = created
    cancellation = HospitalNoticeCancelledV1(citizen_id=CITIZEN, notice_id=uuid4(), cancels_notice_id=discharge_id)
    _, changed = run(cancellation, [closed, follow_up])
    by_kind = {task.kind: task for task in changed}
    assert by_kind[TaskKind.ACCOMPANY_ADMISSION].status is TaskStatus.OPEN  # the stay goes on
    assert by_kind[TaskKind.ACCOMPANY_ADMISSION].history[-1].action == "reopened"
    assert by_kind[TaskKind.DISCHARGE_FOLLOW_UP].status is TaskStatus.CANCELLED  # no discharge to follow up


def test_cancelling_a_discharge_leaves_work_a_person_completed_done():
    (accompany,) = run(notice("admission", follow_up="usual", episode_state="admitted"))[0]
    done = t.complete(accompany if accompany.owner_sub else t.claim(accompany, NURSE, NOW), NURSE, NOW)
    discharge_id = uuid4()
    run(notice("discharge", code="SLHJ", notice_id=discharge_id, follow_up="usual", episode_state="discharged"), [done])
    cancellation = HospitalNoticeCancelledV1(citizen_id=CITIZEN, notice_id=uuid4(), cancels_notice_id=discharge_id)
    _, changed = run(cancellation, [done])
    assert all(task.task_id != done.task_id or task.status is TaskStatus.DONE for task in changed)


def test_an_admission_dated_1970_is_not_overdue_since_1970():
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    (task,) = run(notice("admission", code="STAA", follow_up="verify", episode_state="admitted", occurred_at=epoch,
                         received_at=NOW))[0]
    assert task.priority is Priority.ROUTINE and task.due_at > NOW
    assert "01.01.1970" in task.title and task.title.startswith("Gammel indlæggelsesadvis")


def test_a_late_notice_is_due_from_its_arrival():
    (task,) = run(notice("admission", code="STAA", follow_up="usual", occurred_at=NOW - timedelta(days=3), received_at=NOW))[0]
    assert task.due_at >= NOW


def test_events_from_older_producers_still_make_the_usual_task():
    (task,) = run(notice("admission"))[0]
    assert task.kind is TaskKind.ACCOMPANY_ADMISSION and task.priority is Priority.URGENT


# --- issue 15: the health check's tasks close themselves -------------------------------------------


def scheduled_check():
    starts = NOW + timedelta(days=30)
    body = HealthCheckScheduledV1(citizen_id=CITIZEN, health_check_id=CHECK, year=2026, extended=False, starts_at=starts,
                                  gp_practice="Lægehuset", pre_assessment_due=date(2026, 11, 5),
                                  preparation_due=date(2026, 11, 28), reminders_at=[starts - timedelta(hours=14)],
                                  tovholder_sub="nurse-1", botilbud_id=BOTILBUD)
    (reminder,) = run(body)[0]
    step = HealthCheckStepDueV1(citizen_id=CITIZEN, health_check_id=CHECK, step="medication-reconciliation",
                                target=date(2026, 11, 28), deadline=date(2026, 11, 29), assignee_role="staff",
                                tovholder_sub="nurse-1", botilbud_id=BOTILBUD)
    (preparation,) = run(step)[0]
    return reminder, preparation


def test_a_held_check_closes_its_examination_reminder_and_preparation():
    reminder, preparation = scheduled_check()
    assert reminder.kind is TaskKind.EXAMINATION_REMINDER and reminder.status is TaskStatus.OPEN
    held = HealthCheckHeldV1(citizen_id=CITIZEN, health_check_id=CHECK, held_at=NOW, participant_roles=["gp"], decisions=0,
                             tovholder_sub="nurse-1", botilbud_id=BOTILBUD)
    created, changed = run(held, [reminder, preparation])
    assert [c.kind for c in created] == [TaskKind.HEALTH_CHECK_FOLLOW_UP]
    assert {c.task_id: c.status for c in changed} == {reminder.task_id: TaskStatus.DONE, preparation.task_id: TaskStatus.DONE}
    assert changed[0].history[-1].note == "Sundhedstjekket er holdt"


def test_a_decision_without_a_date_becomes_a_watch_task_on_its_review_date():
    decision = HealthCheckDecisionRecordedV1(
        citizen_id=CITIZEN, decision_id=uuid4(), health_check_id=CHECK, kind="watch-symptom",
        title="Blodsukker efter prøverne", due_at=None, reminders_at=[], responsible_sub=None, plan_update=True,
        tovholder_sub="nurse-1", botilbud_id=BOTILBUD, review_on=date(2027, 2, 24),
    )
    (task,) = run(decision)[0]
    assert task.title == "Hold øje: Blodsukker efter prøverne (revurderes 24.02.2027)"
    assert task.owner_sub == "nurse-1" and task.due_at == local_end(date(2027, 2, 24))
    assert task.priority is Priority.ROUTINE and task.business_status == "hold øje"


def test_acknowledging_a_medication_alert_closes_its_urgent_task():
    from contracts.health import MedicationAlertAcknowledgedV1
    alert_id, change_id = uuid4(), uuid4()
    raised = MedicationAlertRaisedV1(citizen_id=CITIZEN, alert_id=alert_id, change_id=change_id, hospital_episode_ids=["EPJ-1"],
                                     raised_at=NOW, tovholder_sub="nurse-1", botilbud_id=BOTILBUD)
    (task,) = run(raised)[0]
    assert task.priority is Priority.URGENT
    ack = MedicationAlertAcknowledgedV1(citizen_id=CITIZEN, alert_id=alert_id, change_id=change_id, acknowledged_at=NOW,
                                        acknowledged_by="nurse-1")
    _, (done,) = run(ack, [task])
    assert done.status is TaskStatus.DONE and "kvitteret" in done.history[-1].note
