from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import tasks as t
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.scheduling import (
    EscalationPolicy,
    day_before_reminder,
    due_reminders,
    escalate_if_due,
    examination_reminders,
    should_escalate,
    sweep,
)
from services.notifications.domain.tasks import Pool, Priority, Role, TaskStatus
from services.notifications.main import NotificationsConfig

from .builders import BOTILBUD, NOW, NURSE, make_task

POLICY = EscalationPolicy.from_minutes(urgent=120, asap=30)


def local(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def test_examination_reminders_evening_before_and_morning_of():
    exam = local(2026, 11, 25, 10, 30)
    evening, morning = examination_reminders(exam)
    assert evening.at == local(2026, 11, 24, 19) and morning.at == local(2026, 11, 25, 8)
    assert "i morgen" in evening.label and "i dag" in morning.label


def test_examination_reminders_across_daylight_saving_change():
    # DST ends 25 Oct 2026: the evening before is 19:00 CEST (17:00 UTC), the morning 08:00 CET (07:00 UTC).
    evening, morning = examination_reminders(local(2026, 10, 25, 9))
    assert evening.at == datetime(2026, 10, 24, 17, tzinfo=UTC)
    assert morning.at == datetime(2026, 10, 25, 7, tzinfo=UTC)


def test_reminders_in_the_past_are_dropped_and_an_early_examination_is_reminded_an_hour_before():
    early = local(2026, 11, 25, 6, 30)
    evening, morning = examination_reminders(early)
    assert evening.at == local(2026, 11, 24, 19) and morning.at == local(2026, 11, 25, 5, 30)
    assert examination_reminders(local(2026, 11, 25, 10), now=local(2026, 11, 24, 20)) == (
        examination_reminders(local(2026, 11, 25, 10))[1],
    )
    assert day_before_reminder(local(2026, 11, 25, 10))[0].at == local(2026, 11, 24, 19)
    assert day_before_reminder(local(2026, 11, 25, 10), now=local(2026, 11, 25, 8)) == ()


def test_due_reminders_fire_once_and_not_after_the_due_time():
    exam = local(2026, 11, 25, 10)
    task = make_task(owner_sub=NURSE.sub, due_at=exam, reminders=examination_reminders(exam))
    assert due_reminders(task, local(2026, 11, 24, 18)) == ()
    (evening,) = due_reminders(task, local(2026, 11, 24, 19, 1))
    sent = t.mark_reminder_sent(task, evening, local(2026, 11, 24, 19, 1))
    assert sent.history[-1].action == "reminded"
    assert due_reminders(sent, local(2026, 11, 24, 23)) == ()
    assert due_reminders(sent, local(2026, 11, 25, 11)) == ()  # after the examination: pointless


def test_unclaimed_urgent_task_escalates_to_coordinators_after_the_delay():
    task = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.URGENT)
    assert not should_escalate(task, NOW + timedelta(minutes=119), POLICY)
    escalated = escalate_if_due(task, NOW + timedelta(minutes=120), POLICY)
    assert escalated.pool == Pool(Role.COORDINATOR, BOTILBUD) and escalated.escalated_at is not None
    assert "120 minutter" in escalated.history[-1].note
    assert escalate_if_due(escalated, NOW + timedelta(days=1), POLICY) is escalated  # only once


def test_named_tovholder_who_has_not_claimed_is_escalated_to_the_escalation_role():
    task = make_task(owner_sub=NURSE.sub, priority=Priority.URGENT)
    escalated = escalate_if_due(task, NOW + timedelta(hours=3), POLICY)
    assert escalated.owner_sub is None and escalated.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD)


def test_an_urgent_task_unclaimed_in_the_coordinators_pool_escalates_to_the_botilbuds_escalation_role():
    """Regression (issue 15): a red LA2 re-assessment nobody claimed in the coordinators' pool escalated to no one."""
    red = make_task(kind=t.TaskKind.RISK_REASSESSMENT, priority=Priority.URGENT)  # the coordinators' pool
    assert red.pool == Pool(Role.COORDINATOR, BOTILBUD)
    assert not should_escalate(red, NOW + timedelta(minutes=119), POLICY)
    escalated = escalate_if_due(red, NOW + timedelta(minutes=125), POLICY)
    assert escalated.pool == Pool(Role.NURSE_CONSULTANT, BOTILBUD) and escalated.escalated_at is not None
    entry = escalated.history[-1]
    assert entry.action == "escalated" and entry.actor == "system"
    assert entry.note == ("Ikke taget efter 125 minutter – sendt til Sygeplejekonsulenter – orion "
                          "(botilbuddets eskaleringsrolle)")
    # Each botilbud names its own role (a setting); visitation is the municipality's pool.
    named = EscalationPolicy.from_minutes(urgent=120, asap=30, roles={"orion": "visitation", "*": "coordinator"})
    assert escalate_if_due(red, NOW + timedelta(hours=3), named).pool == Pool(Role.VISITATION, None)
    elsewhere = make_task(kind=t.TaskKind.RISK_REASSESSMENT, priority=Priority.URGENT, botilbud_id="tangkaer",
                          pool=Pool(Role.NURSE_CONSULTANT, "tangkaer"))
    assert escalate_if_due(elsewhere, NOW + timedelta(hours=3), named).pool == Pool(Role.COORDINATOR, "tangkaer")


def test_a_task_already_with_the_escalation_role_goes_to_the_coordinators_and_from_there_to_the_nurses():
    in_nurse_pool = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.URGENT)
    went = escalate_if_due(in_nurse_pool, NOW + timedelta(hours=3), POLICY)
    assert went.pool == Pool(Role.COORDINATOR, BOTILBUD)
    assert "lå allerede hos botilbuddets eskaleringsrolle (Sygeplejekonsulenter – orion)" in went.history[-1].note
    coordinators_named = EscalationPolicy.from_minutes(urgent=120, asap=30, roles={"*": "coordinator"})
    in_coordinator_pool = make_task(priority=Priority.URGENT)
    assert escalate_if_due(in_coordinator_pool, NOW + timedelta(hours=3), coordinators_named).pool == \
        Pool(Role.NURSE_CONSULTANT, BOTILBUD)


def test_the_escalation_role_setting_refuses_roles_that_cannot_take_work():
    for bad in ("citizen", "partner", "admin", "boss"):
        with pytest.raises(ValueError, match="eskaleringsrollen"):
            EscalationPolicy.from_minutes(urgent=120, asap=30, roles={"orion": bad})
    with pytest.raises(ValueError, match="eskaleringsrollen"):
        NotificationsConfig(escalation_roles={"*": "citizen"})
    assert NotificationsConfig().escalation.escalation_role("any-botilbud") is Role.NURSE_CONSULTANT


def test_no_escalation_when_claimed_routine_or_no_botilbud():
    urgent = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.URGENT)
    later = NOW + timedelta(days=1)
    assert not should_escalate(t.claim(urgent, NURSE, NOW), later, POLICY)
    assert not should_escalate(make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD)), later, POLICY)
    assert not should_escalate(
        make_task(pool=Pool(Role.VISITATION, None), botilbud_id=None, priority=Priority.URGENT), later, POLICY
    )


def test_asap_escalates_sooner_and_policy_is_configurable():
    asap = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.ASAP)
    assert should_escalate(asap, NOW + timedelta(minutes=30), POLICY)
    never = EscalationPolicy.from_minutes(urgent=None, asap=None)
    assert not should_escalate(asap, NOW + timedelta(days=9), never)


def test_sweep_returns_only_changed_tasks_with_reasons():
    urgent = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.URGENT, due_at=NOW + timedelta(hours=1))
    quiet = make_task(due_at=NOW + timedelta(days=3))
    result = sweep([urgent, quiet], NOW + timedelta(hours=2), POLICY)
    (changed,) = result.changed
    assert changed.task_id == urgent.task_id
    assert result.escalated == [urgent.task_id] and result.flagged_overdue == [urgent.task_id]
    assert [h.action for h in changed.history][-2:] == ["escalated", "overdue"]
    assert changed.status is TaskStatus.OPEN


def test_sweep_sends_reminders_and_returns_the_final_task():
    exam = local(2026, 11, 25, 10)
    task = make_task(owner_sub=NURSE.sub, due_at=exam, reminders=examination_reminders(exam))
    result = sweep([task], local(2026, 11, 25, 8, 5), POLICY)
    assert [r.label for _, r in result.reminders] == ["Påmindelse: undersøgelse i morgen", "Påmindelse: undersøgelse i dag"]
    final = result.changed[0]
    assert all(r.sent_at is not None for r in final.reminders)
    assert result.reminders[-1][0] is final


def test_next_check_is_the_earliest_of_escalation_reminder_and_due_time():
    from services.notifications.domain.scheduling import next_check_at

    exam = local(2026, 11, 25, 10)
    task = make_task(owner_sub=NURSE.sub, due_at=exam, reminders=examination_reminders(exam))
    assert next_check_at(task, POLICY) == local(2026, 11, 24, 19)
    urgent = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD), priority=Priority.URGENT, due_at=NOW + timedelta(days=1))
    assert next_check_at(urgent, POLICY) == NOW + timedelta(minutes=120)
    escalated = escalate_if_due(urgent, NOW + timedelta(hours=3), POLICY)
    assert next_check_at(escalated, POLICY) == NOW + timedelta(days=1)
    flagged = t.flag_overdue(escalated, NOW + timedelta(days=2))
    assert next_check_at(flagged, POLICY) is None
    assert next_check_at(t.complete(t.claim(urgent, NURSE, NOW), NURSE, NOW), POLICY) is None
    assert next_check_at(make_task(), POLICY) is None


def test_a_late_promise_someone_took_stays_theirs_and_tells_the_escalation_role_once():
    from tovholder.access import Actor

    coordinator = Actor(sub="koordinator-1", role=Role.COORDINATOR, botilbud=BOTILBUD)
    due = NOW + timedelta(days=5)
    open_task = make_task(owner_sub="koordinator-1", kind=t.TaskKind.NETWORK_MEETING, due_at=due)
    taken = t.claim(open_task, coordinator, NOW + timedelta(hours=1))
    result = sweep([taken], due + timedelta(minutes=1), POLICY)
    [late] = result.changed
    assert result.escalated == [] and result.flagged_overdue == [late.task_id]
    assert (late.owner_sub, late.status, late.escalated_at) == ("koordinator-1", TaskStatus.CLAIMED, None)
    assert result.late_promises == [(late, Pool(Role.NURSE_CONSULTANT, BOTILBUD))]
    assert "har fået besked" in late.history[-1].note
    assert sweep([late], due + timedelta(hours=5), POLICY).late_promises == []  # once
    # Another kind taken late is only flagged overdue; the same kind untaken moves to the role instead.
    other = t.claim(make_task(owner_sub="koordinator-1", due_at=due), coordinator, NOW)
    assert sweep([other], due + timedelta(minutes=1), POLICY).late_promises == []
    untaken = sweep([open_task], due + timedelta(minutes=1), POLICY)
    assert untaken.escalated == [open_task.task_id] and untaken.late_promises == []
