"""Events published by the health service (the tovholder role).

No CPR and no clinical free text travel here: events say *that* something happened, to whom (citizen
id), when and who should act; the details stay in the health service behind its access rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from contracts.base import EventBody, UnattributedEventBody, event
from contracts.topics import HEALTH

HospitalNoticeKind = Literal["admission", "leave-started", "leave-ended", "discharge", "death"]
HospitalNoticeCode = Literal["STAA", "STIN", "STOR", "SLOR", "SLHJ", "MORS"]
HospitalEpisodeState = Literal["admitted", "on-leave", "discharged", "deceased"]
HospitalFollowUp = Literal["usual", "none", "verify"]
HealthCheckStep = Literal["pre-assessment", "examination", "medication-reconciliation", "medication-review"]
PartnerDocumentKind = Literal["pharmacist-review", "lab-results", "psychiatrist-notes"]


@event("health-record-opened", version=1, topic=HEALTH)
class HealthRecordOpenedV1(EventBody):
    health_record_id: UUID
    botilbud_id: str
    opened_at: datetime


@event("tovholder-chosen", version=1, topic=HEALTH)
class TovholderChosenV1(EventBody):
    """The citizen chose (or changed) their nurse consultant as tovholder."""

    nurse_consultant_sub: str
    botilbud_id: str
    previous_nurse_consultant_sub: str | None = None
    # The chosen nurse consultant's name as the botilbud's roster has it (None: the roster names no one);
    # a staff member's name, never the citizen's.
    nurse_consultant_name: str | None = None


# --- hospital notices (MedCom hospital notification, legal basis retssikkerhedsloven § 12 c) -----


@event("hospital-notice-registered", version=1, topic=HEALTH)
class HospitalNoticeRegisteredV1(EventBody):
    """A new hospital notice for a known citizen. ``code`` is the MedCom base code."""

    notice_id: UUID
    message_id: UUID
    code: HospitalNoticeCode
    kind: HospitalNoticeKind
    hospital_episode_id: str
    department: str
    sender_org: str
    occurred_at: datetime
    legal_basis: str
    tovholder_sub: str | None
    botilbud_id: str | None
    # Added (optional, so v1 stays compatible): the episode's true state after the notice is folded in
    # with the citizen's others by ``occurred_at``, and what the notice asks of the tovholder. ``usual``:
    # the notice's own follow-up; ``none``: recorded, no task (the stay is already over, or the notice is
    # historic); ``verify``: a historic admission of a still-open episode, check with the ward (routine).
    # Absent (older producers): the notice's own follow-up.
    received_at: datetime | None = None
    episode_state: HospitalEpisodeState | None = None
    follow_up: HospitalFollowUp | None = None


@event("hospital-notice-corrected", version=1, topic=HEALTH)
class HospitalNoticeCorrectedV1(EventBody):
    """A ``RE_<code>`` notice: ``notice_id`` is the correcting notice, the other fields are the corrected
    content (``code`` is the base code, e.g. ``STIN`` for ``RE_STIN``); ``corrects_notice_id`` is the
    notice it replaces, which is kept as history."""

    notice_id: UUID
    corrects_notice_id: UUID
    message_id: UUID
    code: HospitalNoticeCode
    kind: HospitalNoticeKind
    hospital_episode_id: str
    department: str
    sender_org: str
    occurred_at: datetime
    legal_basis: str
    tovholder_sub: str | None
    botilbud_id: str | None
    received_at: datetime | None = None  # these three as in HospitalNoticeRegisteredV1
    episode_state: HospitalEpisodeState | None = None
    follow_up: HospitalFollowUp | None = None


@event("hospital-notice-cancelled", version=1, topic=HEALTH)
class HospitalNoticeCancelledV1(EventBody):
    """An ``AN_<code>`` notice withdrew ``cancels_notice_id`` (kept as history, marked cancelled)."""

    notice_id: UUID
    cancels_notice_id: UUID


# --- medication (a reference into FMK, never a copy) ------------------------------------------


@event("medication-changed", version=1, topic=HEALTH)
class MedicationChangedV1(EventBody):
    change_id: UUID
    fmk_reference: str
    change_kind: Literal["started", "stopped", "dose-changed", "paused", "other"]
    changed_at: datetime
    source: Literal["partner", "staff", "health-check"]
    changed_by_org: str | None
    during_admission: bool
    tovholder_sub: str | None
    botilbud_id: str | None


@event("medication-alert-raised", version=1, topic=HEALTH)
class MedicationAlertRaisedV1(EventBody):
    """A medication change during an admission (or a leave from one): the tovholder checks FMK."""

    alert_id: UUID
    change_id: UUID
    hospital_episode_ids: list[str]
    raised_at: datetime
    tovholder_sub: str | None
    botilbud_id: str | None


@event("medication-alert-acknowledged", version=1, topic=HEALTH)
class MedicationAlertAcknowledgedV1(EventBody):
    """The tovholder (or a colleague) acknowledged a medication alert: its urgent task is done."""

    alert_id: UUID
    change_id: UUID
    acknowledged_at: datetime
    acknowledged_by: str


# --- the annual health check (sundhedstjek) ----------------------------------------------------


@event("health-check-scheduled", version=1, topic=HEALTH)
class HealthCheckScheduledV1(EventBody):
    health_check_id: UUID
    year: int
    extended: bool
    starts_at: datetime
    gp_practice: str | None
    pre_assessment_due: date
    preparation_due: date  # examination, medication reconciliation and the pharmacist's review
    reminders_at: list[datetime]  # for the citizen: the evening before and the morning of the day
    tovholder_sub: str | None
    botilbud_id: str | None


@event("health-check-step-due", version=1, topic=HEALTH)
class HealthCheckStepDueV1(EventBody):
    """One preparation step and its deadline (``target`` to plan for, ``deadline`` after which it is late)."""

    health_check_id: UUID
    step: HealthCheckStep
    target: date
    deadline: date
    assignee_role: str
    tovholder_sub: str | None
    botilbud_id: str | None


@event("health-check-step-completed", version=1, topic=HEALTH)
class HealthCheckStepCompletedV1(EventBody):
    health_check_id: UUID
    step: HealthCheckStep
    completed_at: datetime


@event("health-check-declined", version=1, topic=HEALTH)
class HealthCheckDeclinedV1(EventBody):
    """The citizen declined (voluntary; no reason required, nobody is asked to persuade them)."""

    health_check_id: UUID
    declined_at: datetime


@event("health-check-cancelled", version=1, topic=HEALTH)
class HealthCheckCancelledV1(EventBody):
    """The check will not take place as scheduled (declined, rescheduled or the citizen died): open
    preparation tasks and reminders for it are withdrawn."""

    health_check_id: UUID
    reason: Literal["declined", "rescheduled", "deceased", "other"]
    cancelled_at: datetime


@event("health-check-held", version=1, topic=HEALTH)
class HealthCheckHeldV1(EventBody):
    health_check_id: UUID
    held_at: datetime
    participant_roles: list[str]
    decisions: int
    tovholder_sub: str | None = None
    botilbud_id: str | None = None


@event("health-check-decision-recorded", version=1, topic=HEALTH)
class HealthCheckDecisionRecordedV1(EventBody):
    """A decision in the minutes: it updates the citizen's plan and, with a date, becomes a task with
    reminders. ``title`` is the short agreed action (e.g. "ECG at the GP")."""

    decision_id: UUID
    health_check_id: UUID
    kind: Literal["reduce-dose", "stop-drug", "start-drug", "book-examination", "watch-symptom", "lifestyle", "other"]
    title: str
    due_at: datetime | None
    reminders_at: list[datetime]
    responsible_sub: str | None
    plan_update: bool
    tovholder_sub: str | None
    botilbud_id: str | None
    # Added (optional): a decision without a date is watched and looked at again on this day.
    review_on: date | None = None


@event("health-check-plan-entry-proposed", version=1, topic=HEALTH)
class HealthCheckPlanEntryProposedV1(EventBody):
    """A decision from the health check's minutes, proposed as an entry in the citizen's plan (Borgerens
    Plan). Plans lists it for the coordinator, who confirms it with the citizen; nothing enters the plan
    before. ``proposal_id`` is the decision's id (one proposal per decision)."""

    proposal_id: UUID
    health_check_id: UUID
    decision_kind: Literal["reduce-dose", "stop-drug", "start-drug", "book-examination", "watch-symptom", "lifestyle", "other"]
    title: str
    held_at: datetime
    due_at: datetime | None
    review_on: date | None
    responsible_sub: str | None
    botilbud_id: str | None


# --- partner documents ---------------------------------------------------------------------------


@event("partner-document-received", version=1, topic=HEALTH)
class PartnerDocumentReceivedV1(EventBody):
    """The pharmacist's review, lab results or the psychiatrist's notes arrived (content stays in health)."""

    document_id: UUID
    kind: PartnerDocumentKind
    sender_org: str
    received_at: datetime
    health_check_id: UUID | None
    tovholder_sub: str | None
    botilbud_id: str | None


# --- forensic psychiatry ------------------------------------------------------------------------


@event("treatment-order-recorded", version=1, topic=HEALTH)
class TreatmentOrderRecordedV1(EventBody):
    """A behandlingsdom was recorded or changed (its conditions stay in health)."""

    treatment_order_id: UUID
    judgment_date: date
    valid_until: date | None
    conditions_count: int


@event("depot-visit-missed", version=1, topic=HEALTH)
class DepotVisitMissedV1(EventBody):
    schedule_id: UUID
    scheduled_for: datetime
    reason: Literal["not-recorded", "refused", "not-met"]
    tovholder_sub: str | None
    botilbud_id: str | None


@event("coercion-considered", version=1, topic=HEALTH)
class CoercionConsideredV1(EventBody):
    """An entry in the coercion-considered log (the situation and alternatives stay in health)."""

    entry_id: UUID
    measure: Literal["compulsory-admission", "activate-treatment-order", "forced-medication", "other"]
    decision: Literal["not-used", "referred", "used"]
    considered_at: datetime
    decided_by_sub: str
    tovholder_sub: str | None
    botilbud_id: str | None


# --- timeline -----------------------------------------------------------------------------------


@event("external-contact-recorded", version=1, topic=HEALTH)
class ExternalContactRecordedV1(EventBody):
    """A contact with an external actor went on the health timeline (who/what stays in health)."""

    contact_id: UUID
    kind: str
    counterpart: str
    occurred_at: datetime


@event("hospital-notice-parked", version=1, topic=HEALTH)
class HospitalNoticeParkedV1(UnattributedEventBody):
    """A hospital notice whose CPR matched no citizen known to the municipality was accepted and parked
    for visitation staff. ``subject_id`` is the parked notice's id; no citizen, no CPR."""

    unmatched_notice_id: UUID
    code: str
    sender_org: str
    department: str | None = None
    occurred_at: datetime
    received_at: datetime
    legal_basis: str


@event("hospital-notice-unparked", version=1, topic=HEALTH)
class HospitalNoticeUnparkedV1(UnattributedEventBody):
    """A parked notice left the unmatched queue: matched to a citizen, rejected, or dismissed."""

    unmatched_notice_id: UUID
    resolution: Literal["matched", "rejected", "dismissed"]
    resolved_by: str
    resolved_at: datetime
