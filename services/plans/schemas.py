"""Plans' request and response models (Pydantic).

Request fields that a person types use the kit's input rules (``tovholder.inputs``): text without
control characters and bounded by the column that stores it, 32-bit integers, dates from 1900.
Response models describe exactly what the routes return, so the OpenAPI document is the truth.
Parts of a plan version (goals, entries, cadence) are returned as stored (JSON) and described loosely.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tovholder.inputs import DateSince1900, DateTimeSince1900, Int32, ShortText, Text
from services.plans.domain import fit as fit_rules
from services.plans.domain import network as network_rules
from services.plans.domain import plan as plan_rules
from services.plans.domain import safety as safety_rules
from services.plans.domain.cadence import Cadence, preset
from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.followup import SubjectKind
from services.plans.domain.plan import EntryKind, GoalKind, GoalStatus, SubGoalKind

# --- requests ------------------------------------------------------------------------------------


class CadenceIn(BaseModel):
    preset: ShortText | None = Field(None, description="14-days, 8-weeks, 2-3-months, sel-103, sel-104")
    days: Int32 | None = None
    weeks: Int32 | None = None
    months: Int32 | None = None
    latest_months: Int32 | None = None
    label: ShortText = ""

    def to_cadence(self) -> Cadence:
        if self.preset is not None:
            if any(v is not None for v in (self.days, self.weeks, self.months, self.latest_months)):
                raise PlanRuleViolation("angiv en kadence som en forudindstilling eller som dage/uger/måneder, ikke begge", field="cadence")
            return preset(self.preset)
        return Cadence.from_parts(days=self.days, weeks=self.weeks, months=self.months,
                                  latest_months=self.latest_months, label=self.label)


class GoalIn(BaseModel):
    text: Text = Field(description="The goal in the citizen's own words")
    written_with_citizen: bool
    kind: GoalKind = GoalKind.DEVELOP
    cadence: CadenceIn | None = None
    follow_up_from: DateSince1900 | None = Field(None, description="Count the cadence from this day (default: today)")
    follow_up_owner: ShortText | None = None


class GoalChangeIn(BaseModel):
    text: Text | None = None
    written_with_citizen: bool | None = None
    kind: GoalKind | None = None
    status: GoalStatus | None = None
    cadence: CadenceIn | None = None
    clear_cadence: bool = False
    follow_up_owner: ShortText | None = None


class SmartIn(BaseModel):
    specific: Text | None = None
    measurable: Text | None = None
    achievable: Text | None = None
    relevant: Text | None = None
    time_bound: DateSince1900 | None = None


class SubGoalIn(BaseModel):
    text: Text
    written_with_citizen: bool
    kind: SubGoalKind = SubGoalKind.ORDINARY
    smart: SmartIn | None = None


class ActorIn(BaseModel):
    kind: plan_rules.ActorKind
    ref: ShortText = ""


class ActionIn(BaseModel):
    text: Text
    responsible: ActorIn
    due_on: DateSince1900
    written_with_citizen: bool


class ActionDoneIn(BaseModel):
    done_on: DateSince1900 | None = None


class EntryIn(BaseModel):
    kind: EntryKind
    text: Text
    written_with_citizen: bool = False
    goal_id: uuid.UUID | None = None
    replies_to: uuid.UUID | None = None


class PlanCadenceIn(BaseModel):
    cadence: CadenceIn | None = None
    follow_up_from: DateSince1900 | None = None


class FollowUpIn(BaseModel):
    subject: SubjectKind
    goal_id: uuid.UUID | None = None
    held_on: DateSince1900
    outcome: Text
    written_with_citizen: bool
    next_due_on: DateSince1900 | None = None


class ExternalPartnerIn(BaseModel):
    """A named partner outside the botilbud (GP, psychiatrist, housing-support worker, …)."""

    name: ShortText
    organisation: ShortText


class MemberIn(BaseModel):
    """Either ``staff_id`` (staff of the citizen's botilbud whom plans knows, see
    ``GET …/network/candidates``) or ``external`` (name and organisation; role ``other``)."""

    staff_id: ShortText | None = None
    external: ExternalPartnerIn | None = None
    role: network_rules.NetworkRole
    basis: network_rules.ChangeBasis = network_rules.ChangeBasis.CITIZEN_CHOICE

    @model_validator(mode="after")
    def _staff_or_external(self) -> "MemberIn":
        if (self.staff_id is None) == (self.external is None):
            raise ValueError("angiv enten staff_id (en medarbejder på borgerens botilbud) eller external "
                             "(en ekstern samarbejdspartner med navn og organisation)")
        return self


class RoleIn(BaseModel):
    role: network_rules.NetworkRole
    previous_holder_role: network_rules.NetworkRole | None = Field(
        None, description="Hand over a role only one member holds (coordinator, nurse-consultant): what the "
                          "previous holder becomes")


class TryghedsplanIn(BaseModel):
    triggers: list[Text] = []
    early_signs: list[Text] = []
    what_helps: list[Text] = []
    staff_should_do: list[Text] = []
    staff_should_avoid: list[Text] = []
    as_needed_medication_note: Text | None = None
    written_with_citizen: bool


class RatingIn(BaseModel):
    level: ShortText
    reason: Text | None = None
    reassess_at: DateTimeSince1900 | None = None
    citizen_told: bool = False


class ToldIn(BaseModel):
    told_at: DateTimeSince1900 | None = None
    not_told_reason: Text | None = None


class LearningPlanIn(BaseModel):
    episode_started_at: DateTimeSince1900
    episode_ended_at: DateTimeSince1900
    outcome: safety_rules.EpisodeOutcome = safety_rules.EpisodeOutcome.DIFFICULT
    looks_back_from: DateTimeSince1900 | None = None
    written_with_staff_id: ShortText | None = None


class LearningPlanDoneIn(BaseModel):
    what_happened: Text
    citizen_took_part: bool
    what_helped: Text | None = None
    citizen_view: Text | None = None
    staff_view: Text | None = None


class BvcIn(BaseModel):
    observed: dict[ShortText, bool]
    scored_at: DateTimeSince1900 | None = None


FitMark = Annotated[float, Field(allow_inf_nan=False)]


class FitScaleIn(BaseModel):
    """One instrument answered in one of three ways (see services/plans/domain/fit.py):
    the four item marks (0–10, one decimal), smileys (1–5 per item, mapped onto the same line:
    face k = (k − 1) × 2.5) or only the total (0–40, one decimal; with items it must be their sum)."""

    model_config = ConfigDict(extra="forbid")

    items: dict[ShortText, FitMark] | None = Field(
        None, description="ORS: individual, interpersonal, social, overall; SRS: relationship, goals_and_topics, "
                          "approach_or_method, overall")
    smileys: dict[ShortText, Int32] | None = Field(None, description="1 (saddest) … 5 (happiest) per item")
    total: FitMark | None = None

    def to_answer(self) -> fit_rules.ScaleAnswer:
        return fit_rules.ScaleAnswer(items=self.items, smileys=self.smileys, total=self.total)


def _fit_answer(value: FitMark | FitScaleIn | None) -> fit_rules.ScaleAnswer | None:
    if value is None:
        return None
    if isinstance(value, FitScaleIn):
        return value.to_answer()
    return fit_rules.ScaleAnswer(total=value)


class FitIn(BaseModel):
    held_at: DateTimeSince1900
    ors: FitMark | FitScaleIn | None = Field(None, description="A number is the total (0–40); or the items or smileys")
    srs: FitMark | FitScaleIn | None = Field(None, description="A number is the total (0–40); or the items or smileys")
    shared_by_citizen: bool

    def answers(self) -> tuple[fit_rules.ScaleAnswer | None, fit_rules.ScaleAnswer | None]:
        return _fit_answer(self.ors), _fit_answer(self.srs)


class ConsentIn(BaseModel):
    recipient_kind: ShortText
    recipient_id: ShortText
    recipient_name: ShortText | None = None
    category: ShortText


# --- responses: Borgerens Plan -------------------------------------------------------------------


class PlanOut(BaseModel):
    plan_id: str
    citizen_id: str
    botilbud_id: str
    status: str
    opened_at: datetime | None
    version: int
    updated_at: datetime
    updated_by: str
    change: str
    cadence: dict[str, Any] | None = Field(description="The plan's own follow-up cadence, as stored")
    goals: list[dict[str, Any]] = Field(description="Goals with sub-goals and actions, as stored in the version")
    entries: list[dict[str, Any]] = Field(description="Entries not tied to a goal, as stored in the version")


class GoalAddedOut(PlanOut):
    goal_id: str


class SubGoalAddedOut(PlanOut):
    sub_goal_id: str


class ActionAddedOut(PlanOut):
    action_id: str


class EntryAddedOut(PlanOut):
    entry_id: str


class VersionOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    change: str


class ChangeOut(BaseModel):
    path: str
    kind: str
    before: Any
    after: Any


class DiffOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    changes: list[ChangeOut]


# --- responses: follow-ups -----------------------------------------------------------------------


class ScheduleOut(BaseModel):
    subject: str
    subject_id: str
    cadence: str
    anchor: date
    due_on: date
    late_after: date
    due: bool
    late: bool
    assignee: str | None


class HeldFollowUpOut(BaseModel):
    follow_up_id: str
    subject: str
    subject_id: str
    held_on: date
    outcome: str
    next_due_on: date
    recorded_by: str
    written_with_citizen: bool


class FollowUpsOut(BaseModel):
    schedules: list[ScheduleOut]
    held: list[HeldFollowUpOut]


class FollowUpRecordedOut(BaseModel):
    follow_up_id: str
    next_due_on: date
    schedule: ScheduleOut


# --- responses: network --------------------------------------------------------------------------


class MemberOut(BaseModel):
    staff_id: str = Field(description="The staff member's id, or ekstern:<uuid> for an external partner")
    role: str
    basis: str
    added_at: datetime
    added_by: str
    kind: network_rules.MemberKind
    name: str | None = Field(description="The staff member's name where plans knows it; an external partner's name")
    organisation: str | None = Field(description="External partners only")
    active: bool = Field(True, description="False: the staff member left (deactivated in the municipality's staff "
                                           "register, shown as fratrådt); the membership stays until removed")


class NetworkOut(BaseModel):
    citizen_id: str
    members: list[MemberOut]
    tovholder: str | None
    coordinator: str | None
    missing_fixed_roles: list[str]
    size: int = Field(description="Staff in the network (external partners do not count)")
    max_size: int


class CandidateOut(BaseModel):
    staff_id: str
    role: str
    name: str | None


class NetworkCandidatesOut(BaseModel):
    citizen_id: str
    botilbud_id: str
    staff: list[CandidateOut]


# --- responses: safety ---------------------------------------------------------------------------


class TryghedsplanOut(BaseModel):
    version: int
    triggers: list[str]
    early_signs: list[str]
    what_helps: list[str]
    staff_should_do: list[str]
    staff_should_avoid: list[str]
    as_needed_medication_note: str | None
    written_with_citizen: bool
    updated_at: str = Field(description="ISO 8601, as stored with the version")
    updated_by: str


class RatingOut(BaseModel):
    rating_id: str
    level: str
    reason: str | None
    rated_at: datetime
    rated_by: str
    reassess_at: datetime | None
    reassessment_overdue: bool
    citizen_told_at: datetime | None
    citizen_told_by: str | None
    not_told_reason: str | None


class LearningPlanOut(BaseModel):
    learning_plan_id: str
    episode_started_at: datetime
    episode_ended_at: datetime
    looks_back_from: datetime
    due_at: datetime
    late: bool
    outcome: str
    written_with_staff_id: str | None
    completed_at: datetime | None
    what_happened: str | None
    what_helped: str | None
    citizen_view: str | None
    staff_view: str | None
    citizen_took_part: bool | None


class BvcOut(BaseModel):
    scored_at: datetime
    total: int
    observed: list[str]
    band: str


class SafetyOut(BaseModel):
    """A partner (on consent to the safety plan) gets the tryghedsplan only; the other fields are left out."""

    citizen_id: str
    tryghedsplan: TryghedsplanOut | None
    rating: RatingOut | None = None
    learning_plans: list[LearningPlanOut] | None = None
    bvc: BvcOut | None = None


class BvcRecordedOut(BaseModel):
    bvc_id: str
    total: int
    band: str
    observed: list[str]


# --- responses: FIT ------------------------------------------------------------------------------


class FitItemOut(BaseModel):
    key: str
    label: str  # Danish, as on the form
    score: float


class FitSessionOut(BaseModel):
    session_id: str
    held_at: datetime
    recorded_by: str
    scale: fit_rules.Scale = Field(description="0-40: the real scales; 1-10: recorded before them, not in the trend")
    ors: float | None = Field(description="ORS total (0–40, or 1–10 on the old scale); null when not shared with you")
    srs: float | None = Field(description="SRS total (0–40, or 1–10 on the old scale); null when not shared with you")
    ors_items: list[FitItemOut] | None
    srs_items: list[FitItemOut] | None
    ors_answered_with: fit_rules.AnsweredWith | None
    srs_answered_with: fit_rules.AnsweredWith | None
    ors_below_cutoff: bool | None
    srs_below_cutoff: bool | None
    shared_by_citizen: bool


class TrendOut(BaseModel):
    direction: str
    slope_per_14_days: float | None
    scale_max: float = Field(description="The highest total (40)")
    cutoff: float = Field(description="Clinical cut-off: ORS 25, SRS 36")
    cutoff_meaning: str  # Danish
    latest: float | None
    latest_below_cutoff: bool | None


class FitTrendsOut(BaseModel):
    ors: TrendOut
    srs: TrendOut


class FitOut(BaseModel):
    citizen_id: str
    sessions: list[FitSessionOut]
    trend: FitTrendsOut
    next_session_due: date


class FitRecordedOut(FitSessionOut):
    pass


# --- responses: consent --------------------------------------------------------------------------


class ConsentOut(BaseModel):
    consent_id: str
    recipient_kind: str
    recipient_id: str
    recipient_name: str | None
    category: str
    given_at: datetime
    given_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    in_force: bool


class WithoutConsentOut(BaseModel):
    category: str
    legal_basis: str
    recipients: list[str]
    description: str


class ConsentsOut(BaseModel):
    citizen_id: str
    consents: list[ConsentOut]
    categories: list[str]
    without_consent: list[WithoutConsentOut] = Field(
        description="What flows without consent, and to whom beyond the municipality (a basis may name nobody)")


class ConsentDecisionOut(BaseModel):
    allowed: bool
    basis: str
    reason: str = Field(description="Why, in Danish (the citizen and staff read it)")
    consent_id: str | None
    legal_reference: str | None
    at: datetime


# --- proposals from the health check -------------------------------------------------------------


class ProposalAnswerIn(BaseModel):
    accepted: bool  # true: enter it in the plan; false: the citizen does not want it there (give the reason)
    with_citizen: bool = Field(description="The proposal was gone through with the citizen (required)")
    text: Text | None = Field(None, description="The entry's wording, if the citizen wants it said otherwise")
    goal_id: uuid.UUID | None = None  # the goal the entry belongs to, if any
    reason: Text | None = None


class ProposalOut(BaseModel):
    proposal_id: str
    citizen_id: str
    health_check_id: str
    decision_kind: str
    title: str
    held_at: datetime
    due_at: datetime | None
    review_on: date | None
    responsible_sub: str | None
    status: str
    proposed_text: str  # Danish: the entry it would become
    answered_by: str | None
    answered_at: datetime | None
    reason: str | None
    entry_id: str | None


class ProposalsOut(BaseModel):
    citizen_id: str
    proposals: list[ProposalOut]


class ProposalAnswerOut(BaseModel):
    plan: PlanOut | None  # the plan with the new entry (None when declined)
    proposal: ProposalOut


# --- the network meeting the citizen calls, and FIT sharing ---------------------------------------


class NetworkMeetingIn(BaseModel):
    reason: Text = Field(description="Why the citizen wants the meeting, in their own words")
    wanted: list[ShortText] = Field(default_factory=list, max_length=12,
                                    description="Whom the citizen wants there: names or roles, in their own words")


class NetworkMeetingScheduleIn(BaseModel):
    meeting_at: DateTimeSince1900
    place: ShortText | None = None


class NetworkMeetingCloseIn(BaseModel):
    outcome: str = Field(description="held or cancelled", pattern="^(held|cancelled)$")
    note: Text | None = Field(None, description="Required when cancelled: why (the citizen reads it)")


class NetworkMeetingOut(BaseModel):
    meeting_id: str
    citizen_id: str
    reason: str
    wanted: list[str]
    requested_at: datetime
    requested_by: str
    due_on: date = Field(description="The last day it may be held: 5 working days after it was called")
    late: bool = Field(description="Still open after due_on")
    assignee: str | None = Field(description="The coordinator it was given to (else the botilbud's coordinators)")
    status: str = Field(description="requested, scheduled, held or cancelled")
    meeting_at: datetime | None
    place: str | None
    scheduled_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    note: str | None


class NetworkMeetingsOut(BaseModel):
    citizen_id: str
    meetings: list[NetworkMeetingOut] = Field(description="Newest first")


class FitSharingIn(BaseModel):
    shared_by_citizen: bool
