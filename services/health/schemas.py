"""Health's request, response and partner-message models (Pydantic).

Request fields a person types use the kit's input types (``tovholder.inputs``): text without control
characters and never longer than its column, 32-bit integers, dates from 1900. Response models state
what each route answers, so the OpenAPI document is the truth; partner endpoints answer with the
kit's receipt (``tovholder.receipts.Receipt``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.health.domain.health_check import MAX_CHECKS_PER_DAY
from tovholder.inputs import DateSince1900, DateTimeSince1900, Int32, LocalTime, text_field
from tovholder.receipts import RECEIPT_RESPONSES, Receipt

# The partner endpoints' answers: the kit's receipt for every status code they return.
RECEIPT_RESPONSES_WITH_MODEL: dict[int | str, dict[str, Any]] = {
    code: {**response, "model": Receipt} for code, response in RECEIPT_RESPONSES.items()
}


# ==================================================================== partner messages


class Sender(BaseModel):
    org: text_field(min_length=1, max_length=200)
    name: text_field(max_length=200) | None = None


class HospitalNotification(BaseModel):
    """The body of section 1 of the external contract."""

    model_config = ConfigDict(extra="ignore")

    message_id: uuid.UUID
    sent_at: DateTimeSince1900
    sender: Sender
    code: text_field(max_length=10)
    cpr: text_field(max_length=20)
    hospital_episode_id: text_field(max_length=200)
    department: text_field(max_length=200)
    occurred_at: DateTimeSince1900
    replaces_message_id: uuid.UUID | None = None


class PartnerMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: uuid.UUID
    sent_at: DateTimeSince1900
    sender: Sender
    cpr: text_field(max_length=20)
    health_check_id: uuid.UUID | None = None


class LabValue(BaseModel):
    test: text_field(min_length=1, max_length=100)
    value: text_field(max_length=100)
    unit: text_field(max_length=30) | None = None
    reference_range: text_field(max_length=60) | None = None
    flag: Literal["low", "high", "abnormal"] | None = None


class LabResults(PartnerMessage):
    taken_at: DateTimeSince1900
    results: list[LabValue] = Field(default_factory=list, max_length=200)
    measurements: list[LabValue] = Field(default_factory=list, max_length=50)


class PharmacistReview(PartnerMessage):
    reviewed_at: DateTimeSince1900
    summary: text_field(min_length=1, max_length=10_000)
    recommendations: list[str] = Field(default_factory=list, max_length=100)
    hours_spent: float | None = Field(default=None, ge=0, le=24)


class PsychiatristNotes(PartnerMessage):
    written_at: DateTimeSince1900
    psychiatrist: text_field(min_length=1, max_length=200)
    notes: text_field(min_length=1, max_length=20_000)


class PartnerMedicationChange(PartnerMessage):
    fmk_reference: text_field(max_length=100)
    change_kind: Literal["started", "stopped", "dose-changed", "paused", "other"]
    changed_at: DateTimeSince1900
    note: text_field(max_length=500) | None = None


# ==================================================================== requests (staff and citizens)


class ShareBody(BaseModel):
    recipient_org: text_field(min_length=1, max_length=200)


class StaffMedicationChange(BaseModel):
    fmk_reference: text_field(max_length=100)
    change_kind: Literal["started", "stopped", "dose-changed", "paused", "other"]
    changed_at: DateTimeSince1900
    changed_by_org: text_field(max_length=200) | None = None
    note: text_field(max_length=500) | None = None
    source: Literal["staff", "health-check"] = "staff"


class TovholderBody(BaseModel):
    nurse_consultant_sub: text_field(min_length=1, max_length=200)


class ContactBody(BaseModel):
    kind: Literal["phone", "meeting", "letter", "court", "other"] = "phone"
    counterpart: text_field(min_length=1, max_length=50)
    org: text_field(min_length=1, max_length=200)
    who: text_field(max_length=200) | None = None
    what: text_field(min_length=1, max_length=500)
    occurred_at: DateTimeSince1900


class GpPracticeBody(BaseModel):
    gp_practice: text_field(min_length=1, max_length=200)


class ScheduleBody(BaseModel):
    starts_at: DateTimeSince1900
    gp_practice: text_field(max_length=200) | None = None


class ThemeBody(BaseModel):
    theme: Literal["teeth", "diet", "exercise", "sleep", "dependence", "pain", "nada"]
    citizens_words: text_field(max_length=2000)
    symptom_score: Int32 | None = None


class ThemeSkippedBody(BaseModel):
    theme: Literal["teeth", "diet", "exercise", "sleep", "dependence", "pain", "nada"]
    reason: text_field(max_length=500)  # why the theme was not talked about


class PreAssessmentBody(BaseModel):
    answers: list[ThemeBody] = Field(default_factory=list, max_length=7)
    wants_to_talk_about: text_field(max_length=2000) = ""
    done_on: DateSince1900
    setting: text_field(max_length=200) | None = None
    # The step is done only when every theme is answered or skipped with a reason.
    skipped: list[ThemeSkippedBody] = Field(default_factory=list, max_length=7)


class ExaminationBody(BaseModel):
    done_on: DateSince1900
    where: Literal["own-gp", "mobile-lab"]
    blood_tests: list[Literal["red-blood-count", "white-blood-count", "liver", "fluid", "b12", "vitamin-d", "cholesterol", "thyroid"]] = Field(default_factory=list)
    measurements: list[Literal["height", "weight", "waist", "blood-pressure", "pulse", "ecg", "spirometry"]] = Field(default_factory=list)


class DeclineBody(BaseModel):
    reason: text_field(max_length=500) | None = None


class ParticipantBody(BaseModel):
    role: Literal["citizen", "staff", "minute-taker", "gp", "psychiatrist", "pharmacist", "forensic-nurse"]
    name: text_field(min_length=1, max_length=200)
    org: text_field(max_length=200) | None = None
    sub: text_field(max_length=200) | None = None


class DecisionBody(BaseModel):
    kind: Literal["reduce-dose", "stop-drug", "start-drug", "book-examination", "watch-symptom", "lifestyle", "other"]
    title: text_field(max_length=200)
    due_at: DateTimeSince1900 | None = None
    responsible_sub: text_field(max_length=200) | None = None
    citizen_wants_reminders: bool = True
    review_on: DateSince1900 | None = None  # without due_at: when to look at it again (default ~3 months)


class HeldBody(BaseModel):
    held_at: DateTimeSince1900
    participants: list[ParticipantBody] = Field(min_length=1, max_length=20)
    minutes: text_field(max_length=20_000) = ""
    decisions: list[DecisionBody] = Field(default_factory=list, max_length=50)


class PlanDaysBody(BaseModel):
    days: list[DateSince1900] = Field(min_length=1, max_length=60)
    slot_minutes: Int32 = 15
    per_day: Int32 = MAX_CHECKS_PER_DAY
    first_slot: LocalTime = time(9, 0)
    one_practice_per_day: bool = False
    schedule: bool = False  # also schedule the planned checks (else: a proposal only)
    # Outside 8–10 checks a day, working hours or working days the plan comes with warnings; scheduling
    # it needs this set (the warnings were read and accepted).
    confirm_warnings: bool = False


class CadenceBody(BaseModel):
    every_years: Literal[1, 2]
    extended_every_years: Int32 | None = None  # e.g. 5 at Tangkær; none under the DSAM agreement


class TreatmentOrderBody(BaseModel):
    court: text_field(max_length=200)
    judgment_date: DateSince1900
    conditions: list[text_field(max_length=10_000)] = Field(max_length=30)
    valid_until: DateSince1900 | None = None
    forensic_team_org: text_field(max_length=200) | None = None


class DepotScheduleBody(BaseModel):
    weekday: int = Field(ge=0, le=6)
    at: LocalTime
    starts_on: DateSince1900
    ends_on: DateSince1900 | None = None
    interval_weeks: Int32 = 1
    grace_minutes: Int32 = 240
    forensic_team_org: text_field(max_length=200) | None = None


class DepotVisitBody(BaseModel):
    schedule_id: uuid.UUID
    visited_at: DateTimeSince1900
    outcome: Literal["given", "refused", "not-met"]


class CoercionBody(BaseModel):
    considered_at: DateTimeSince1900
    measure: Literal["compulsory-admission", "activate-treatment-order", "forced-medication", "other"]
    situation: text_field(max_length=5000)
    least_intrusive_alternative: text_field(max_length=5000)
    decision: Literal["not-used", "referred", "used"]
    decided_by_sub: text_field(max_length=200) | None = None
    decided_by_role: text_field(max_length=50) | None = None
    participants: list[text_field(max_length=200)] = Field(default_factory=list, max_length=20)
    citizen_informed: bool = False


class MatchBody(BaseModel):
    citizen_id: uuid.UUID
    # Required when the notice's CPR is not the citizen's (the hospital mistyped it): why it is theirs.
    override_reason: str | None = Field(default=None, max_length=500)


# ==================================================================== responses


class PartnerDocumentOut(BaseModel):
    document_id: str
    kind: str
    sender_org: str
    sender_name: str | None
    received_at: datetime
    health_check_id: str | None
    content: dict[str, Any]


class PartnerDocumentsOut(BaseModel):
    citizen_id: str
    documents: list[PartnerDocumentOut]


class SharedDocumentOut(PartnerDocumentOut):
    citizen_id: str
    shared_at: datetime


class SharedDocumentsOut(BaseModel):
    documents: list[SharedDocumentOut]


class ShareOut(BaseModel):
    document_id: str
    recipient_org: str
    shared_at: datetime


class MedicationChangeOut(BaseModel):
    change_id: str
    fmk_reference: str
    change_kind: str
    changed_at: datetime
    source: str
    changed_by_org: str | None
    note: str | None
    during_admission: bool
    recorded_by: str


class MedicationAlertOut(BaseModel):
    alert_id: str
    change_id: str
    hospital_episode_ids: list[str]
    reason: str
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class MedicationOut(BaseModel):
    fmk: str
    changes: list[MedicationChangeOut]
    alerts: list[MedicationAlertOut]


class AlertAcknowledgedOut(BaseModel):
    alert_id: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class AdmissionOut(BaseModel):
    state: str
    open_episodes: list[str]
    since: datetime | None


class HealthRecordOut(BaseModel):
    health_record_id: str
    citizen_id: str
    botilbud_id: str
    tovholder_sub: str | None
    opened_at: datetime
    gp_practice: str | None
    deceased_at: datetime | None
    admission: AdmissionOut


class TimelineEntryOut(BaseModel):
    entry_id: str
    kind: str
    counterpart: str | None
    org: str | None
    who: str | None
    what: str
    occurred_at: datetime
    recorded_by: str
    recorded_at: datetime
    object_type: str | None
    object_id: str | None


class TimelineOut(BaseModel):
    citizen_id: str
    entries: list[TimelineEntryOut]


class HospitalNoticeOut(BaseModel):
    notice_id: str
    message_id: str
    action: str
    code: str
    kind: str
    status: str
    hospital_episode_id: str
    department: str
    sender_org: str
    sender_name: str | None
    occurred_at: datetime
    received_at: datetime
    replaces_notice_id: str | None
    replaced_by_message_id: str | None
    legal_basis: str


class HospitalNoticesOut(BaseModel):
    citizen_id: str
    notices: list[HospitalNoticeOut]


class TovholderOut(BaseModel):
    citizen_id: str
    tovholder_sub: str | None
    changed: bool


class NurseConsultantOut(BaseModel):
    sub: str
    name: str | None


class NurseConsultantsOut(BaseModel):
    botilbud_id: str
    nurse_consultants: list[NurseConsultantOut]


class EntryCreatedOut(BaseModel):
    entry_id: str


class GpPracticeOut(BaseModel):
    citizen_id: str
    gp_practice: str | None


class StepOut(BaseModel):
    step: str
    status: str
    target: date
    deadline: date
    role: str


class HealthCheckOut(BaseModel):
    health_check_id: str
    citizen_id: str
    year: int
    extended: bool
    starts_at: datetime
    gp_practice: str | None
    status: str
    steps: list[StepOut]
    pre_assessment: dict[str, Any] | None
    examination: dict[str, Any] | None
    participants: list[dict[str, Any]] | None
    minutes: str | None
    declined_at: datetime | None
    decline_reason: str | None
    held_at: datetime | None
    pre_assessment_question: str


class HealthCheckDecisionOut(BaseModel):
    decision_id: str
    kind: str
    title: str
    due_at: datetime | None
    responsible_sub: str | None
    reminders_at: list[str]
    review_on: date | None = None


class HealthCheckDetailOut(HealthCheckOut):
    decisions: list[HealthCheckDecisionOut]


class HealthChecksOut(BaseModel):
    citizen_id: str
    health_checks: list[HealthCheckOut]


class HealthCheckOverviewItem(BaseModel):
    health_check_id: str
    citizen_id: str
    year: int
    extended: bool
    starts_at: datetime
    gp_practice: str | None
    status: str
    steps: list[StepOut]


class BotilbudHealthChecksOut(BaseModel):
    botilbud_id: str
    year: int
    health_checks: list[HealthCheckOverviewItem]
    late_steps: int


class SlotOut(BaseModel):
    citizen_id: str
    gp_practice: str
    starts_at: datetime
    ends_at: datetime


class DayPlanOut(BaseModel):
    day: date
    gp_practices: list[str]
    slots: list[SlotOut]


class CheckDayPlanOut(BaseModel):
    botilbud_id: str
    days: list[DayPlanOut]
    not_planned: list[str]
    declined: list[str]
    scheduled_health_check_ids: list[str]
    not_due: list[str] = []  # checked recently enough for the botilbud's cadence
    cadence: str
    warnings: list[str]


class CadenceOut(BaseModel):
    botilbud_id: str
    every_years: int
    extended_every_years: int | None
    description: str  # Danish, e.g. "hvert år, udvidet hvert 5. år"
    default: bool  # no setting for this botilbud: the GP agreement's default


class TreatmentOrderRecordedOut(BaseModel):
    treatment_order_id: str
    conditions: list[str]


class ScheduleCreatedOut(BaseModel):
    schedule_id: str


class VisitRecordedOut(BaseModel):
    visit_id: str


class TreatmentOrderOut(BaseModel):
    treatment_order_id: str
    court: str
    judgment_date: date
    valid_until: date | None
    conditions: list[str]
    current: bool
    forensic_team_org: str | None


class DepotScheduleOut(BaseModel):
    schedule_id: str
    weekday: int
    at: LocalTime
    starts_on: date
    ends_on: date | None
    interval_weeks: int
    grace_minutes: int


class DepotVisitOut(BaseModel):
    visit_id: str
    schedule_id: str
    visited_at: datetime
    outcome: str


class MissedDepotVisitOut(BaseModel):
    schedule_id: str
    scheduled_for: datetime
    reason: str


class CoercionLogEntryOut(BaseModel):
    entry_id: str
    considered_at: datetime
    measure: str
    situation: str
    least_intrusive_alternative: str
    decision: str
    decided_by_sub: str
    decided_by_role: str
    participants: list[str]
    citizen_informed: bool


class ForensicOut(BaseModel):
    treatment_orders: list[TreatmentOrderOut]
    depot_schedules: list[DepotScheduleOut]
    depot_visits: list[DepotVisitOut]
    missed_depot_visits: list[MissedDepotVisitOut]
    coercion_log: list[CoercionLogEntryOut]


class UnmatchedNoticeOut(BaseModel):
    unmatched_id: str
    message_id: str
    code: str
    cpr: str | None
    hospital_episode_id: str
    department: str
    sender_org: str
    sender_name: str | None
    occurred_at: datetime
    received_at: datetime
    replaces_message_id: str | None
    legal_basis: str
    status: str
    resolution: str | None
    matched_citizen_id: str | None
    resolved_by: str | None
    resolved_at: datetime | None


class UnmatchedNoticesOut(BaseModel):
    notices: list[UnmatchedNoticeOut]


class MatchedOut(BaseModel):
    matched: int
    rejected: int
    citizen_id: str


class DismissedOut(BaseModel):
    unmatched_id: str
    status: str


# ==================================================================== portal: who is admitted now (issue 12)


class AdmittedNowItem(BaseModel):
    citizen_id: str
    state: str  # "admitted" or "on-leave"
    since: datetime | None
    open_episodes: list[str]
    departments: list[str]  # of the open episodes' newest notices
    tovholder_sub: str | None


class AdmittedNowOut(BaseModel):
    botilbud_id: str
    admitted: list[AdmittedNowItem]
