from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.notifications.domain import tasks as t
from services.notifications.domain.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from services.notifications.domain.tasks import Actor, Link, Pool, Priority, Role, TaskKind, TaskSpec, TaskStatus

from .builders import BOTILBUD, COORDINATOR, NOW, NURSE, NURSE_ELSEWHERE, OTHER_COORDINATOR, make_task

LATER = NOW + timedelta(minutes=5)


def test_new_task_is_open_with_a_created_entry():
    task = make_task()
    assert task.status is TaskStatus.OPEN
    assert task.is_claimable
    assert [h.action for h in task.history] == ["created"]
    assert task.history[0].actor == t.SYSTEM_ACTOR


def test_spec_needs_exactly_one_of_owner_or_pool():
    with pytest.raises(InvalidInput):
        TaskSpec(kind=TaskKind.OTHER, title="x")
    with pytest.raises(InvalidInput):
        TaskSpec(kind=TaskKind.OTHER, title="x", owner_sub="a", pool=Pool(Role.COORDINATOR, "b"))
    with pytest.raises(InvalidInput):
        TaskSpec(kind=TaskKind.OTHER, title="  ", owner_sub="a")


def test_naive_datetimes_are_refused():
    with pytest.raises(InvalidInput):
        make_task(now=datetime(2026, 1, 1))


def test_claim_from_pool_records_who_and_when():
    task = t.claim(make_task(), COORDINATOR, LATER)
    assert task.status is TaskStatus.CLAIMED
    assert task.owner_sub == COORDINATOR.sub
    assert task.pool == Pool(Role.COORDINATOR, BOTILBUD)  # kept, so it can be released
    last = task.history[-1]
    assert (last.action, last.actor, last.at) == ("claimed", COORDINATOR.sub, LATER)
    assert {c.field: (c.old, c.new) for c in last.changes} == {
        "status": (TaskStatus.OPEN, TaskStatus.CLAIMED),
        "owner_sub": (None, COORDINATOR.sub),
    }


def test_claim_is_idempotent_for_the_same_person():
    task = t.claim(make_task(), COORDINATOR, LATER)
    assert t.claim(task, COORDINATOR, LATER) is task


def test_second_claimer_gets_a_conflict():
    task = t.claim(make_task(), COORDINATOR, LATER)
    with pytest.raises(TransitionNotAllowed):
        t.claim(task, OTHER_COORDINATOR, LATER)


def test_claim_needs_matching_role_and_botilbud():
    task = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD))
    with pytest.raises(NotAllowed):
        t.claim(task, COORDINATOR, LATER)
    with pytest.raises(NotAllowed):
        t.claim(task, NURSE_ELSEWHERE, LATER)
    assert t.claim(task, NURSE, LATER).owner_sub == NURSE.sub


def test_municipality_wide_pool_admits_the_role_anywhere():
    task = make_task(pool=Pool(Role.VISITATION, None), botilbud_id=None)
    assert t.claim(task, Actor("v-1", Role.VISITATION, None), LATER).status is TaskStatus.CLAIMED


def test_a_named_owners_task_cannot_be_claimed_by_others():
    task = make_task(owner_sub=NURSE.sub)
    with pytest.raises(NotAllowed):
        t.claim(task, Actor("nurse-2", Role.NURSE_CONSULTANT, BOTILBUD), LATER)
    assert t.claim(task, NURSE, LATER).status is TaskStatus.CLAIMED


def test_full_path_open_claim_start_complete():
    task = t.claim(make_task(), COORDINATOR, LATER)
    task = t.start(task, COORDINATOR, LATER)
    assert task.status is TaskStatus.IN_PROGRESS
    task = t.complete(task, COORDINATOR, LATER, note="Mødet er holdt")
    assert task.status is TaskStatus.DONE
    assert [h.action for h in task.history] == ["created", "claimed", "started", "completed"]
    assert task.history[-1].note == "Mødet er holdt"


def test_complete_requires_claim_first_for_pool_tasks():
    with pytest.raises(TransitionNotAllowed, match="Tag opgaven først"):
        t.complete(make_task(), COORDINATOR, LATER)


def test_named_owner_can_complete_directly():
    task = t.complete(make_task(owner_sub=NURSE.sub), NURSE, LATER)
    assert task.status is TaskStatus.DONE


def test_only_the_owner_completes():
    task = t.claim(make_task(), COORDINATOR, LATER)
    with pytest.raises(NotAllowed):
        t.complete(task, OTHER_COORDINATOR, LATER)


def test_complete_twice_is_harmless_but_cancelled_cannot_be_completed():
    done = t.complete(t.claim(make_task(), COORDINATOR, LATER), COORDINATOR, LATER)
    assert t.complete(done, COORDINATOR, LATER) is done
    cancelled = t.cancel(make_task(), Actor.system(), LATER, "trukket tilbage")
    with pytest.raises(TransitionNotAllowed, match="annulleret"):
        t.complete(cancelled, COORDINATOR, LATER)


def test_release_returns_task_to_pool():
    task = t.release(t.claim(make_task(), COORDINATOR, LATER), COORDINATOR, LATER)
    assert task.status is TaskStatus.OPEN and task.owner_sub is None and task.is_claimable


def test_release_needs_a_pool():
    task = t.claim(make_task(owner_sub=NURSE.sub), NURSE, LATER)
    with pytest.raises(TransitionNotAllowed):
        t.release(task, NURSE, LATER)


def test_cancel_needs_reason_and_keeps_history():
    with pytest.raises(InvalidInput):
        t.cancel(make_task(), Actor.system(), LATER, " ")
    task = t.cancel(make_task(), Actor.system(), LATER, "Advis annulleret", cancelled_by="hospital-notice:n1")
    assert task.status is TaskStatus.CANCELLED
    assert task.cancelled_by == "hospital-notice:n1"
    assert task.history[-1].note == "Advis annulleret"
    assert t.cancel(task, Actor.system(), LATER, "igen") is task


def test_final_tasks_cannot_be_cancelled_or_claimed():
    done = t.complete(make_task(owner_sub=NURSE.sub), NURSE, LATER)
    with pytest.raises(TransitionNotAllowed):
        t.cancel(done, Actor.system(), LATER, "x")
    with pytest.raises(TransitionNotAllowed):
        t.claim(done, NURSE, LATER)


def test_reopen_only_from_cancelled():
    cancelled = t.cancel(make_task(), Actor.system(), LATER, "x", cancelled_by="a:b")
    reopened = t.reopen(cancelled, Actor.system(), LATER, "fejlmelding")
    assert reopened.status is TaskStatus.OPEN and reopened.cancelled_by is None
    with pytest.raises(TransitionNotAllowed):
        t.reopen(reopened, Actor.system(), LATER, "x")


def test_escalate_moves_to_pool_and_releases_named_owner():
    task = make_task(owner_sub=NURSE.sub, priority=Priority.URGENT)
    target = Pool(Role.COORDINATOR, BOTILBUD)
    escalated = t.escalate(task, target, LATER, "ikke taget")
    assert escalated.pool == target and escalated.owner_sub is None and escalated.escalated_at == LATER
    assert escalated.history[-1].action == "escalated"


def test_revise_changes_fields_and_records_old_values():
    task = make_task(due_at=NOW + timedelta(days=1))
    new_due = NOW + timedelta(days=2)
    revised = t.revise(task, Actor.system(), LATER, "rettet", due_at=new_due, title="Ny titel")
    assert revised.due_at == new_due and revised.title == "Ny titel"
    changes = {c.field: (c.old, c.new) for c in revised.history[-1].changes}
    assert changes["due_at"] == (task.due_at, new_due)
    with pytest.raises(InvalidInput):
        t.revise(task, Actor.system(), LATER, "x", status=TaskStatus.DONE)


def test_revise_of_a_finished_task_only_notes_it():
    done = t.complete(make_task(owner_sub=NURSE.sub), NURSE, LATER)
    revised = t.revise(done, Actor.system(), LATER, "rettet", title="Ny")
    assert revised.title == done.title and revised.status is TaskStatus.DONE
    assert revised.history[-1].action == "noted" and "rettet" in revised.history[-1].note


def test_business_status_is_tracked_in_history():
    task = t.set_business_status(t.claim(make_task(), COORDINATOR, LATER), COORDINATOR, LATER, "afventer borgerens svar")
    assert task.business_status == "afventer borgerens svar"
    assert task.history[-1].action == "business-status"


def test_reassign_to_new_owner_reopens():
    task = t.claim(make_task(), COORDINATOR, LATER)
    moved = t.reassign(task, COORDINATOR, LATER, owner_sub="coord-2", pool=None)
    assert moved.owner_sub == "coord-2" and moved.status is TaskStatus.OPEN and moved.pool is None


def test_overdue_is_flagged_once():
    task = make_task(due_at=NOW + timedelta(hours=1))
    assert t.flag_overdue(task, NOW) is task
    flagged = t.flag_overdue(task, NOW + timedelta(hours=2))
    assert flagged.overdue_since == NOW + timedelta(hours=2)
    assert t.flag_overdue(flagged, NOW + timedelta(hours=3)) is flagged
    done = t.complete(make_task(owner_sub="a", due_at=NOW), Actor("a"), NOW)
    assert not done.is_overdue(NOW + timedelta(days=1))


def test_link_round_trips_and_rejects_garbage():
    assert Link.parse("hospital-notice:abc:def") == Link("hospital-notice", "abc:def")
    assert str(Link("referral", "r1")) == "referral:r1"
    with pytest.raises(InvalidInput):
        Link.parse("no-colon")


def test_labels_are_danish():
    assert TaskStatus.IN_PROGRESS.label_da == "I gang"
    assert Priority.URGENT.label_da == "Haster"
    assert TaskKind.FIRST_NETWORK_MEETING.label_da == "Første netværksmøde"
    assert all(kind in t.KIND_LABELS_DA for kind in TaskKind)
    assert Priority.ROUTINE.rank < Priority.URGENT.rank < Priority.ASAP.rank


def test_business_status_by_people_needs_ownership_and_sane_text():
    task = t.claim(make_task(), COORDINATOR, LATER)
    with pytest.raises(NotAllowed):
        t.set_business_status(task, OTHER_COORDINATOR, LATER, "x")
    with pytest.raises(InvalidInput):
        t.set_business_status(task, COORDINATOR, LATER, "x" * 101)
    with pytest.raises(TransitionNotAllowed, match="Tag opgaven først"):
        t.set_business_status(make_task(), COORDINATOR, LATER, "afventer")
    assert t.set_business_status(make_task(), Actor.system(), LATER, "indlagt").business_status == "indlagt"
