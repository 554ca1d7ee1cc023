"""Referrals' request, response and partner-message models (Pydantic).

Requests use the kit's input rules (``tovholder.inputs``): text without control characters and never
longer than the column that stores it, 32-bit integers, dates from 1900. Responses describe exactly
what the routes return, so the OpenAPI document is the truth; a response model forbids keys it does
not name, so one that drifts from its route fails loudly instead of dropping a field.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field

from contracts.referrals import LegalBasis
from services.referrals.domain.lifecycle import RECOMMENDED_PHASE_OUT_VISITS
from tovholder.inputs import (
    DateSince1900,
    DateTimeSince1900,
    Int32,
    NonNegativeInt32,
    text_field,
)
from tovholder.receipts import Receipt

Step = Annotated[int, Interval(ge=1, le=7)]  # the indsatstrappe's steps
OfferId = text_field(max_length=100)
Name = text_field(min_length=1, max_length=200)
Org = text_field(min_length=1, max_length=100)
Municipality = text_field(max_length=100)
LongText = text_field(max_length=10_000)
NoteText = text_field(max_length=5000)
TraitName = text_field(max_length=100)
CprText = text_field(max_length=64)  # normalize_cpr says what is wrong with it; this only bounds it



class Out(BaseModel):
    """A response body: exactly the named keys."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------
# Partner messages and their answers (integration)


class Sender(BaseModel):
    org: Org
    name: Name


class PartnerReferral(BaseModel):
    message_id: uuid.UUID
    sent_at: DateTimeSince1900
    sender: Sender
    cpr: CprText
    citizen_name: Name
    reason: text_field(min_length=1, max_length=10_000)
    requested_step: Step | None = None
    requested_offer: LegalBasis | None = None


class ReferralReceipt(Receipt):
    """The receipt for a partner's referral; ``referral_id`` once it is registered."""

    referral_id: str | None = None


class StatusAt(Out):
    status: str
    at: datetime


class ReferrerView(Out):
    """What the referring partner sees: the status and its history, nothing of the case work."""

    referral_id: str
    status: str
    history: list[StatusAt]


# ---------------------------------------------------------------------------------------------
# Intake and reading cases (staff, citizen)


class StaffReferral(BaseModel):
    cpr: CprText
    citizen_name: Name
    reason: text_field(min_length=1, max_length=10_000)
    citizen_wishes: LongText | None = Field(default=None, description="The citizen's own words")
    requested_step: Step | None = None
    requested_offer: LegalBasis | None = None
    requested_offer_id: OfferId | None = None
    municipality: Municipality | None = None


class ReferralCreated(Out):
    """The case the referral is part of: a new one, or the citizen's open case it joined."""

    referral_id: str
    citizen_id: str
    status: str
    added_to_open_case: bool = Field(description="True: the citizen had an open case; the referral joined it "
                                                 "as an addition instead of opening a parallel case")


class DeadlineOut(Out):
    """A deadline the law or the municipality sets, with the working days left (Danish holidays skipped)."""

    kind: Literal["decision", "complaint", "follow-up", "temporary-stay-end"]
    title: str
    due_on: date
    working_days_left: int = Field(description="Negative: working days overdue")
    time_left: str
    overdue: bool


class AdditionOut(Out):
    """A further referral that joined the case."""

    addition_id: str
    received_at: datetime
    channel: str
    referrer_org: str | None
    referrer_name: str | None
    reason: str
    citizen_wishes: str | None
    requested_step: int | None
    requested_offer: str | None
    requested_offer_id: str | None


class CaseHistoryEntry(Out):
    at: datetime
    action: str | None
    title: str | None
    from_status: str | None
    status: str
    note: str | None
    by: str | None = Field(default=None, description="Visitation's view only")
    internal_note: str | None = Field(default=None, description="Visitation's view only")


class AssessmentOut(Out):
    scores: dict[str, Any]
    wishes: str
    needs: str
    resources: str
    traits: list[str]
    assessed_by: str
    assessed_at: str


class MoveOutPlanOut(Out):
    destination: str
    planned_on: str
    receiving_offer_id: str | None
    receiving_step: int | None
    phase_out_visits_planned: int
    phase_out_visits_done: list[str]
    planned_by: str
    planned_at: str


class CaseOut(Out):
    """A case as visitation (everything) or a coordinator (the placement) sees it. Keys marked as
    belonging to a view or a status are left out of the others."""

    referral_id: str
    citizen_id: str
    status: str
    status_text: str
    received_at: datetime
    channel: str
    referrer_org: str | None
    requested_step: int | None
    requested_offer: str | None
    requested_offer_id: str | None
    decision: str | None
    legal_basis: str | None
    step: int | None
    offer_id: str | None
    botilbud_id: str | None
    start_date: date | None
    follow_up_date: date | None
    waitlisted: bool | None
    moved_in_on: date | None
    move_out_plan: MoveOutPlanOut | None
    ended_on: date | None
    end_cause: str | None
    end_destination: str | None
    receiving_offer_id: str | None
    to_step: int | None
    # refused cases only
    refusal_reason: str | None = None
    complaint_guidance: str | None = None
    # visitation and coordinators
    citizen_name: str | None = None
    reason: str | None = None
    citizen_wishes: str | None = None
    assessment: AssessmentOut | None = None
    decision_reason: str | None = None
    # visitation only
    referrer_name: str | None = None
    municipality: str | None = None
    decided_by: str | None = None
    target_group_override: str | None = None
    follow_ups_held: list[str] | None = None
    withdrawn_reason: str | None = None
    cpr_masked: str | None = None
    # visitation and coordinators: the cases before and after a move to another offer
    continued_from_referral_id: str | None = None
    continued_in_referral_id: str | None = None
    additions: list[AdditionOut] | None = Field(default=None, description="Further referrals that joined the case")
    warnings: list[str] | None = Field(default=None, description="Danish warnings for visitation, e.g. the drift "
                                                                 "of a temporary (§ 107) stay")
    deadlines: list[DeadlineOut] | None = Field(default=None, description="Running deadlines in working days")
    history: list[CaseHistoryEntry]


class CitizenHistoryEntry(Out):
    at: datetime
    title: str | None
    text: str | None


class CitizenCase(Out):
    """The citizen's own case in plain Danish: no internal notes, no staff names."""

    referral_id: str
    status: str
    status_text: str
    received_on: date
    offer_id: str | None
    start_date: date | None
    moved_in_on: date | None
    next_follow_up: date | None
    refusal_reason: str | None
    complaint_guidance: str | None
    decision: str | None = Field(None, description="granted or refused; null before the decision")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(None, description="Why, as visitation wrote it to the citizen")
    legal_basis: str | None = Field(None, description="The law the decision was made under, e.g. SEL §108")
    history: list[CitizenHistoryEntry]


class CprRevealed(Out):
    citizen_id: str
    cpr: str


class CaseListItem(Out):
    referral_id: str
    citizen_id: str
    citizen_name: str
    status: str
    received_at: datetime
    referrer_org: str | None
    requested_step: int | None
    offer_id: str | None
    botilbud_id: str | None
    step: int | None
    follow_up_date: date | None
    moved_in_on: date | None
    additions: int = Field(description="Further referrals that joined the case (one case per citizen)")


# ---------------------------------------------------------------------------------------------
# Changing cases (visitation)


class Note(BaseModel):
    note: NoteText | None = None


class AssessmentIn(BaseModel):
    scores: dict[str, Any] = Field(description="VUM themes scored 0–4, e.g. {\"egenomsorg\": 3}")
    wishes: LongText = Field(description="The citizen's own wishes, in their own words")
    needs: LongText | None = None
    resources: LongText | None = None
    traits: list[TraitName] = Field(default_factory=list, description="e.g. tilbagetrukket, misbrug, dobbeltdiagnose")


class Decision(BaseModel):
    decision: Literal["granted", "refused"]
    legal_basis: LegalBasis
    offer_id: OfferId | None = None
    step: Int32 | None = None
    start_date: DateSince1900 | None = None
    follow_up_date: DateSince1900 | None = None
    reason: NoteText | None = None
    join_waitlist: bool = False
    target_group_override: NoteText | None = None
    complaint_guidance: NoteText | None = None
    internal_note: NoteText | None = None


class Reason(BaseModel):
    reason: NoteText


class MoveIn(BaseModel):
    moved_in_on: DateSince1900 | None = None
    follow_up_date: DateSince1900 | None = None


class FollowUpIn(BaseModel):
    held_on: DateSince1900 | None = None
    next_follow_up_date: DateSince1900
    note: NoteText | None = None


class MoveOutPlanIn(BaseModel):
    destination: Literal["own_home", "offer", "other"]
    planned_on: DateSince1900
    receiving_offer_id: OfferId | None = None
    receiving_step: Int32 | None = None
    phase_out_visits_planned: Int32 = RECOMMENDED_PHASE_OUT_VISITS
    reason: NoteText | None = None


class VisitIn(BaseModel):
    visited_on: DateSince1900


class EndIn(BaseModel):
    ended_on: DateSince1900 | None = None
    cause: Literal["stepped_down", "moved_out", "transferred", "died", "other"] | None = None
    destination: Literal["own_home", "offer", "other"] | None = None
    receiving_offer_id: OfferId | None = None
    to_step: Int32 | None = None
    reason: NoteText | None = None
    internal_note: NoteText | None = None
    target_group_override: NoteText | None = Field(
        default=None, description="Why the case continues at the receiving offer although its target group "
                                  "excludes the citizen (the professional reason)")


class CaseSummary(Out):
    """A case after a change: where it stands now."""

    referral_id: str
    status: str
    offer_id: str | None
    botilbud_id: str | None


class AssessmentRecorded(CaseSummary):
    assessment: AssessmentOut | None


class Decided(CaseSummary):
    decision: str | None
    waitlisted: bool | None
    start_date: date | None
    follow_up_date: date | None


class MovedIn(CaseSummary):
    moved_in_on: date | None
    follow_up_date: date | None


class FollowUpRecorded(CaseSummary):
    follow_up_date: date | None
    follow_ups_held: list[str] | None


class MoveOutPlanned(CaseSummary):
    move_out_plan: MoveOutPlanOut | None
    warnings: list[str]


class PhaseOutVisitRecorded(CaseSummary):
    move_out_plan: MoveOutPlanOut | None


class ContinuedIn(Out):
    """The case opened at the receiving offer: ``placed`` with a free place, else ``waiting``."""

    referral_id: str
    status: str
    offer_id: str | None


class PlacementEnded(CaseSummary):
    ended_on: date | None
    end_cause: str | None
    end_destination: str | None
    to_step: int | None
    stepped_down: bool
    continued_in: ContinuedIn | None = None


class Considered(Out):
    step: int | None
    legal_basis: str | None
    age: int | None
    traits: list[str]


class OfferMatchOut(Out):
    offer_id: str
    name: str
    botilbud_id: str | None
    legal_basis: str
    step: int
    fits: bool
    free_places: int
    exclusions: list[str]
    warnings: list[str]
    requested: bool


class Matches(Out):
    referral_id: str
    considered: Considered
    offers: list[OfferMatchOut]


# ---------------------------------------------------------------------------------------------
# Offers and waitlists


class TargetGroupIn(BaseModel):
    description: text_field(max_length=2000) | None = None
    min_age: Int32 | None = None
    max_age: Int32 | None = None
    requires: list[TraitName] = Field(default_factory=list)
    excludes: list[TraitName] = Field(default_factory=list)


class OfferIn(BaseModel):
    """An offer as visitation registers it. The resident mix is not typed in: it is counted from the
    placements (``resident_mix`` in the answer); a body that names it is refused (unknown keys are)."""

    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: Name
    botilbud_id: OfferId | None = None
    municipality: Municipality | None = None
    legal_basis: LegalBasis
    step: Int32
    approved_places: Int32
    occupied_places: NonNegativeInt32 | None = Field(
        default=None, description="Residents living there now; only when registering the offer or correcting "
        "the count (never above approved_places, never below the citizens visitation has moved in). "
        "Left out, move-ins and move-outs keep it.")
    target_group: TargetGroupIn = Field(default_factory=TargetGroupIn)
    active: bool = True


class TargetGroupOut(Out):
    description: str | None
    min_age: int | None
    max_age: int | None
    requires: list[str]
    excludes: list[str]


class ResidentMixOut(Out):
    """Counted from the citizens visitation has placed in the offer and their screening."""

    residents: int
    outward_reacting: int | None
    drug_using: int | None
    withdrawn: int | None


class OfferOut(Out):
    offer_id: str
    botilbud_id: str | None
    name: str
    municipality: str | None
    legal_basis: str
    step: int
    approved_places: int
    occupied_places: int | None
    reserved_places: int | None
    free_places: int
    active: bool
    target_group: TargetGroupOut
    resident_mix: ResidentMixOut


class WaitlistEntryOut(Out):
    referral_id: str
    citizen_id: str
    status: str
    queue_position: int | None
    place_reserved: bool
    granted_at: datetime
    start_date: date
    days_since_referral: int
    days_since_grant: int


class WaitlistOut(Out):
    offer_id: str
    name: str
    free_places: int
    # The offer's whole queue, across municipalities (``entries`` lists only the cases the caller may open).
    waiting: int = Field(description="Granted and not yet moved in: reserved places and the queue")
    reserved: int = Field(description="Of those, with a place reserved (about to move in)")
    median_days_waiting: float | None
    longest_days_waiting: int | None
    entries: list[WaitlistEntryOut]


# ---------------------------------------------------------------------------------------------
# Follow-ups and the flow report


class DueFollowUp(Out):
    referral_id: str
    citizen_id: str
    offer_id: str | None
    botilbud_id: str | None
    legal_basis: str | None
    follow_up_date: date
    overdue: bool


class ScanResult(Out):
    signalled: int
    drifting: int = Field(description="Temporary stays newly signalled as drifting")


class OfferFlowOut(Out):
    decisions_granted: int
    placements_started: int
    move_outs: int
    step_downs: int


class MonthFlowOut(Out):
    referrals_received: int
    decisions_granted: int
    decisions_refused: int
    placements_started: int
    move_outs: int


class FlowReportOut(Out):
    period_from: date
    period_to: date
    referrals_received: int
    referrals_from_partners: int
    referrals_from_staff: int
    decisions_granted: int
    decisions_refused: int
    placements_started: int
    waiting_days_median: float | None
    waiting_days_p90: float | None
    move_outs: int
    move_outs_to_own_home: int
    move_outs_to_other_offer: int
    move_outs_elsewhere: int
    step_downs: int
    ended_by_cause: dict[str, int]
    citizens_referred: int = Field(description="Distinct citizens among the referrals received")
    citizens_decided: int = Field(description="Distinct citizens with a decision in the period (decisions are "
                                              "counted apart: a refusal reassessed and refused again is two)")
    citizens_granted: int
    citizens_refused: int
    by_offer: dict[str, OfferFlowOut] = Field(description="Per offer: grants, move-ins, move-outs, step-downs")
    by_month: dict[str, MonthFlowOut] = Field(description="Per calendar month (YYYY-MM) of the period")
    temporary_stays_drifting: int = Field(description="§ 107 stays running at the end of the period that drift: past "
                                                      "their planned period, or follow-ups without movement")
