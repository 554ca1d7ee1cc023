"""Events published by the plans service (Borgerens Plan, network, safety, FIT, consent).

Bodies carry ids, kinds, times and numbers; never the citizen's own words (goal texts, entries,
safety-plan content): consumers fetch those through the plans API, where access is checked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import PLANS

# Kept equal to the enums in services/plans/domain (checked by tests/unit/plans/test_contracts.py).
NetworkRole = Literal["coordinator", "makker", "nurse-consultant", "rehabilitation-leader", "medication-partner", "other"]
FollowUpSubject = Literal["plan", "goal"]
La2Level = Literal["green", "yellow", "red"]
RecipientKind = Literal["organisation", "group"]
ConsentCategory = Literal["plan", "health", "safety-plan", "fit"]


@event("plan-opened", version=1, topic=PLANS)
class PlanOpenedV1(EventBody):
    plan_id: UUID
    botilbud_id: str
    opened_at: datetime


@event("plan-version-created", version=1, topic=PLANS)
class PlanVersionCreatedV1(EventBody):
    """A goal was added or changed, or anything else in the plan: every change is a new version."""

    plan_id: UUID
    version: int
    change: str  # e.g. "goal-added", "goal-changed", "sub-goal-added", "action-added", "comment-added"
    goal_ids: list[UUID] = []
    created_at: datetime
    created_by: str
    written_with_citizen: bool | None = None


@event("follow-up-due", version=1, topic=PLANS)
class FollowUpDueV1(EventBody):
    """A plan or goal follow-up is due: becomes a task for ``assignee`` (the goal's owner, else the
    network coordinator, else the tovholder)."""

    plan_id: UUID
    subject: FollowUpSubject
    subject_id: UUID
    due_on: date
    late_after: date
    cadence: str
    assignee: str | None = None
    botilbud_id: str | None = None


@event("follow-up-recorded", version=1, topic=PLANS)
class FollowUpRecordedV1(EventBody):
    plan_id: UUID
    follow_up_id: UUID
    subject: FollowUpSubject
    subject_id: UUID
    held_on: date
    next_due_on: date
    recorded_by: str
    botilbud_id: str | None = None


@event("network-member-added", version=1, topic=PLANS)
class NetworkMemberAddedV1(EventBody):
    """The citizen chose a staff member (role ``nurse-consultant`` is the citizen's tovholder). A role
    change is published as removed + added."""

    staff_id: str
    role: NetworkRole
    added_at: datetime
    basis: Literal["citizen-choice", "initial-assignment"]
    botilbud_id: str | None = None


@event("network-member-removed", version=1, topic=PLANS)
class NetworkMemberRemovedV1(EventBody):
    staff_id: str
    role: NetworkRole
    removed_at: datetime
    botilbud_id: str | None = None


@event("safety-rating-changed", version=1, topic=PLANS)
class SafetyRatingChangedV1(EventBody):
    """An LA2 rating. The reason stays in plans (staff read it there); the event carries what routing
    and shift handover need."""

    rating_id: UUID
    level: La2Level
    previous_level: La2Level | None = None
    rated_at: datetime
    reassess_at: datetime | None = None
    citizen_told: bool = False
    rated_by: str | None = None
    botilbud_id: str | None = None


@event("tryghedsplan-revised", version=1, topic=PLANS)
class TryghedsplanRevisedV1(EventBody):
    version: int
    revised_at: datetime
    revised_by: str
    written_with_citizen: bool


@event("learning-plan-due", version=1, topic=PLANS)
class LearningPlanDueV1(EventBody):
    """An episode happened: a learning plan is due within 24 hours (a task; late when past due_at)."""

    learning_plan_id: UUID
    episode_ended_at: datetime
    due_at: datetime
    assignee: str | None = None
    botilbud_id: str | None = None


@event("learning-plan-completed", version=1, topic=PLANS)
class LearningPlanCompletedV1(EventBody):
    learning_plan_id: UUID
    completed_at: datetime
    late: bool = False


@event("fit-recorded", version=1, topic=PLANS)
class FitRecordedV1(EventBody):
    """A FIT session was held. Scores travel only when the citizen chose to share them.
    Superseded by ``FitRecordedV2`` (the real 0–40 scales); kept so that v1 events still read."""

    session_id: UUID
    held_at: datetime
    shared: bool
    ors: float | None = None
    srs: float | None = None


@event("fit-recorded", version=2, topic=PLANS)
class FitRecordedV2(EventBody):
    """A FIT session was held, scored on the instruments' real scales: ORS and SRS are four items of
    0–10 each, so a total is 0–40 (one decimal). Clinical cut-offs: ORS below 25, SRS below 36.
    Scores (and whether they are below the cut-off) travel only when the citizen chose to share them.
    Replaces v1, whose scores were on 1–10; plans publishes only v2 from here on."""

    session_id: UUID
    held_at: datetime
    shared: bool
    ors: float | None = None  # total 0–40
    srs: float | None = None  # total 0–40
    ors_below_cutoff: bool | None = None  # ORS < 25
    srs_below_cutoff: bool | None = None  # SRS < 36


@event("consent-given", version=1, topic=PLANS)
class ConsentGivenV1(EventBody):
    """Enough for any service to keep a read model and call ``may_receive`` on it."""

    consent_id: UUID
    recipient_kind: RecipientKind
    recipient_id: str  # e.g. "SOR:1234567" or the group "relatives"
    recipient_name: str | None = None
    category: ConsentCategory
    given_at: datetime
    recorded_by: str


@event("consent-revoked", version=1, topic=PLANS)
class ConsentRevokedV1(EventBody):
    """Applies to everything shared at or after ``revoked_at``; never to what was shared before."""

    consent_id: UUID
    recipient_kind: RecipientKind
    recipient_id: str
    category: ConsentCategory
    given_at: datetime
    revoked_at: datetime
    recorded_by: str


@event("network-meeting-requested", version=1, topic=PLANS)
class NetworkMeetingRequestedV1(EventBody):
    """The citizen called a network meeting (Region Hovedstaden: held within 5 working days). Becomes a
    task for the citizen's coordinator (``assignee``; else the botilbud's coordinators) due at the end of
    ``due_on`` (5 working days on, Danish holidays counted). The reason and whom the citizen wants there
    stay in plans (the citizen's own words)."""

    meeting_id: UUID
    plan_id: UUID
    requested_at: datetime
    due_on: date
    wanted_count: int = 0  # how many people the citizen asked for
    assignee: str | None = None
    botilbud_id: str | None = None


@event("network-meeting-scheduled", version=1, topic=PLANS)
class NetworkMeetingScheduledV1(EventBody):
    """The coordinator set (or moved) the meeting's time (``due_on``: the deadline, unchanged)."""

    meeting_id: UUID
    meeting_at: datetime
    due_on: date
    scheduled_by: str
    botilbud_id: str | None = None


@event("network-meeting-closed", version=1, topic=PLANS)
class NetworkMeetingClosedV1(EventBody):
    """The meeting was held, or called off with a reason (which stays in plans)."""

    meeting_id: UUID
    outcome: Literal["held", "cancelled"]
    closed_at: datetime
    closed_by: str
    botilbud_id: str | None = None
