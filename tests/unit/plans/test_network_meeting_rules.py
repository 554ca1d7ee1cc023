"""The network meeting the citizen calls: held within 5 working days (Danish holidays counted), one open
request at a time, and closed only once — as held, or cancelled with a reason the citizen can read."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from services.notifications.domain import scheduling
from services.notifications.domain import tasks as t
from services.plans.domain import meetings
from services.plans.domain.errors import PlanRuleViolation


@pytest.mark.parametrize("requested, due", [
    (datetime(2026, 12, 1, 9, tzinfo=timezone.utc), date(2026, 12, 8)),  # Tuesday → the next Tuesday
    # Called on 22 December: 23, 28, 29, 30 December and 4 January (24–26, 31 Dec and New Year are closed).
    (datetime(2026, 12, 22, 9, tzinfo=timezone.utc), date(2027, 1, 4)),
    # 23:30 UTC on a Friday is Saturday in Copenhagen: the count starts from Saturday.
    (datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc), date(2026, 12, 4)),
])
def test_the_deadline_is_five_working_days_on(requested, due):
    assert meetings.due_on(requested) == due


def test_one_open_request_at_a_time_and_words_are_checked():
    assert meetings.request(" Tale om flytning ", ["Mor", " Mor ", ""], open_statuses=["held", "cancelled"]) == (
        "Tale om flytning", ["Mor"])
    with pytest.raises(PlanRuleViolation, match="allerede"):
        meetings.request("Igen", [], open_statuses=["scheduled"])
    with pytest.raises(PlanRuleViolation):
        meetings.request("   ", [], open_statuses=[])
    with pytest.raises(PlanRuleViolation, match="højst 12"):
        meetings.request("Mange", [f"P{n}" for n in range(13)], open_statuses=[])


def test_closing_needs_an_open_meeting_and_a_cancellation_a_reason():
    assert meetings.close("scheduled", "held", None) is meetings.MeetingStatus.HELD
    with pytest.raises(PlanRuleViolation, match="aflyst"):
        meetings.close("requested", "cancelled", " ")
    with pytest.raises(PlanRuleViolation, match="lukket"):
        meetings.close("held", "held", None)
    with pytest.raises(PlanRuleViolation, match="lukket"):
        meetings.schedule("cancelled")


def test_a_network_meeting_task_escalates_at_its_due_time_other_routine_tasks_never():
    policy = scheduling.EscalationPolicy()
    now = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    due = datetime(2026, 12, 8, 22, 59, tzinfo=timezone.utc)

    def task(kind):
        spec = t.TaskSpec(kind=kind, title="Møde", due_at=due, owner_sub="orion-koordinator-1")
        return t.new_task(spec, task_id=uuid.uuid4(), citizen_id=None, botilbud_id="orion",
                          source_event_id="e", source_event_type="x", now=now)

    meeting, other = task(t.TaskKind.NETWORK_MEETING), task(t.TaskKind.OTHER)
    assert policy.escalation_due_at(meeting) == due and policy.escalation_due_at(other) is None
    assert scheduling.next_check_at(meeting, policy) == due
    late = scheduling.escalate_if_due(meeting, due, policy)
    assert late.escalated_at == due and late.owner_sub is None and late.pool.role is t.Role.NURSE_CONSULTANT
    assert scheduling.escalate_if_due(other, due, policy) is other
