"""Plans' HTTP routes: Borgerens Plan, follow-ups, the network, safety, FIT and consent.

Thin routes: each parses the request, calls one use case in ``services.plans.services`` and returns
what it answers, described by a response model from ``services.plans.schemas``. Authorisation, rules,
SQL, events and audit live behind the use case. A broken domain rule (``PlanRuleViolation``, the kit's
``DomainError``) is answered by the kit's exception handler: 422 ``rule-violation``, nothing changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from tovholder.auth import CurrentUser
from tovholder.inputs import PositiveInt32
from tovholder.service import UoW
from services.plans import services
from services.plans.fhir.api import router as fhir_router
from services.plans.scim.api import router as scim_router
from services.plans.schemas import (
    ActionAddedOut, ActionDoneIn, ActionIn, BvcIn, BvcRecordedOut, ConsentDecisionOut, ConsentIn, ConsentOut,
    ConsentsOut, DiffOut, EntryAddedOut, EntryIn, FitIn, FitOut, FitRecordedOut, FollowUpIn, FollowUpRecordedOut,
    FollowUpsOut, GoalAddedOut, GoalChangeIn, GoalIn, LearningPlanDoneIn, LearningPlanIn, LearningPlanOut, MemberIn,
    NetworkCandidatesOut, NetworkMeetingCloseIn, NetworkMeetingIn, NetworkMeetingOut, NetworkMeetingScheduleIn,
    NetworkMeetingsOut, NetworkOut, FitSharingIn, PlanCadenceIn, PlanOut, ProposalAnswerIn, ProposalAnswerOut, ProposalsOut,
    RatingIn, RatingOut, RoleIn, SafetyOut, SubGoalAddedOut, SubGoalIn, ToldIn,
    TryghedsplanIn, TryghedsplanOut, VersionOut,
)


router = APIRouter(prefix="/api/v1/citizens/{citizen_id}", tags=["plans"])


# --- Borgerens Plan ------------------------------------------------------------------------------


@router.get("/plan", response_model=PlanOut, summary="The citizen's plan (current version)")
async def get_plan(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.get_plan(uow, user, citizen_id)


@router.get("/plan/versions", response_model=list[VersionOut], summary="Every version of the plan, newest first")
async def list_versions(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> list[dict[str, Any]]:
    return await services.list_versions(uow, user, citizen_id)


@router.get("/plan/versions/{number}", response_model=PlanOut, summary="One version of the plan, as it was")
async def get_version(citizen_id: uuid.UUID, number: PositiveInt32, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.get_version(uow, user, citizen_id, number)


@router.get("/plan/diff", response_model=DiffOut, summary="What changed between two versions")
async def diff(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, from_version: Annotated[PositiveInt32, Query(alias="from")],
               to_version: Annotated[PositiveInt32 | None, Query(alias="to")] = None) -> dict[str, Any]:
    return await services.diff(uow, user, citizen_id, from_version=from_version, to_version=to_version)


@router.post("/plan/goals", status_code=201, response_model=GoalAddedOut, summary="Add a goal in the citizen's own words")
async def add_goal(citizen_id: uuid.UUID, body: GoalIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_goal(uow, user, citizen_id, body)


@router.patch("/plan/goals/{goal_id}", response_model=PlanOut, summary="Change a goal (text, kind, status, cadence)")
async def change_goal(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: GoalChangeIn, user: CurrentUser,
                      uow: UoW) -> dict[str, Any]:
    return await services.change_goal(uow, user, citizen_id, goal_id, body)


@router.post("/plan/goals/{goal_id}/sub-goals", status_code=201, response_model=SubGoalAddedOut,
             summary="Add a sub-goal (SMART fields optional)")
async def add_sub_goal(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: SubGoalIn, user: CurrentUser,
                       uow: UoW) -> dict[str, Any]:
    return await services.add_sub_goal(uow, user, citizen_id, goal_id, body)


@router.post("/plan/goals/{goal_id}/actions", status_code=201, response_model=ActionAddedOut,
             summary="Add an action with who and by when")
async def add_action(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: ActionIn, user: CurrentUser,
                     uow: UoW) -> dict[str, Any]:
    return await services.add_action(uow, user, citizen_id, goal_id, body)


@router.post("/plan/goals/{goal_id}/actions/{action_id}/done", response_model=PlanOut, summary="Mark an action done")
async def action_done(citizen_id: uuid.UUID, goal_id: uuid.UUID, action_id: uuid.UUID, body: ActionDoneIn,
                      user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.action_done(uow, user, citizen_id, goal_id, action_id, body)


@router.post("/plan/entries", status_code=201, response_model=EntryAddedOut,
             summary="The citizen's perspective, a staff observation or the citizen's comment")
async def add_entry(citizen_id: uuid.UUID, body: EntryIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_entry(uow, user, citizen_id, body)


@router.get("/plan/proposals", response_model=ProposalsOut,
            summary="Decisions from the health check proposed for the plan")
async def list_proposals(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_plan_proposals(uow, user, citizen_id)


@router.post("/plan/proposals/{proposal_id}/answer", response_model=ProposalAnswerOut,
             summary="Confirm a proposal with the citizen (it becomes a plan entry), or record why not")
async def answer_proposal(citizen_id: uuid.UUID, proposal_id: uuid.UUID, body: ProposalAnswerIn, user: CurrentUser,
                          uow: UoW) -> dict[str, Any]:
    return await services.answer_plan_proposal(uow, user, citizen_id, proposal_id, body)


@router.put("/plan/cadence", response_model=PlanOut, summary="Set or clear the plan's own follow-up cadence")
async def set_plan_cadence(citizen_id: uuid.UUID, body: PlanCadenceIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.set_plan_cadence(uow, user, citizen_id, body)


# --- follow-ups ----------------------------------------------------------------------------------


@router.get("/plan/follow-ups", response_model=FollowUpsOut,
            summary="When the plan and each goal are next due, and the follow-ups held")
async def list_follow_ups(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_follow_ups(uow, user, citizen_id)


@router.post("/plan/follow-ups", status_code=201, response_model=FollowUpRecordedOut,
             summary="Record a follow-up: the outcome and the next date")
async def add_follow_up(citizen_id: uuid.UUID, body: FollowUpIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_follow_up(uow, user, citizen_id, body)


# --- network -------------------------------------------------------------------------------------


@router.get("/network", response_model=NetworkOut, summary="The staff the citizen has chosen")
async def get_network(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.get_network(uow, user, citizen_id)


@router.get("/network/candidates", response_model=NetworkCandidatesOut,
            summary="Staff of the citizen's botilbud not in the network yet: whom the citizen can choose")
async def network_candidates(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.network_candidates(uow, user, citizen_id)


@router.post("/network/members", status_code=201, response_model=NetworkOut,
             summary="Add a staff member of the citizen's botilbud, or a named external partner, the citizen has chosen")
async def add_member(citizen_id: uuid.UUID, body: MemberIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_member(uow, user, citizen_id, body)


@router.delete("/network/members/{staff_id}", response_model=NetworkOut,
               summary="Remove a staff member from the citizen's network")
async def remove_member(citizen_id: uuid.UUID, staff_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.remove_member(uow, user, citizen_id, staff_id)


@router.put("/network/members/{staff_id}/role", response_model=NetworkOut, summary="Change a member's role")
async def change_member_role(citizen_id: uuid.UUID, staff_id: str, body: RoleIn, user: CurrentUser,
                             uow: UoW) -> dict[str, Any]:
    return await services.change_member_role(uow, user, citizen_id, staff_id, body)


@router.get("/network/meetings", response_model=NetworkMeetingsOut,
            summary="The network meetings the citizen has called, newest first, with their status and time")
async def list_network_meetings(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_network_meetings(uow, user, citizen_id)


@router.post("/network/meetings", status_code=201, response_model=NetworkMeetingOut,
             summary="The citizen calls a network meeting (held within 5 working days; a task for the coordinator)")
async def call_network_meeting(citizen_id: uuid.UUID, body: NetworkMeetingIn, user: CurrentUser,
                               uow: UoW) -> dict[str, Any]:
    return await services.call_network_meeting(uow, user, citizen_id, body)


@router.post("/network/meetings/{meeting_id}/schedule", response_model=NetworkMeetingOut,
             summary="Staff in the network set (or move) the meeting's time and place")
async def schedule_network_meeting(citizen_id: uuid.UUID, meeting_id: uuid.UUID, body: NetworkMeetingScheduleIn,
                                   user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.schedule_network_meeting(uow, user, citizen_id, meeting_id, body)


@router.post("/network/meetings/{meeting_id}/close", response_model=NetworkMeetingOut,
             summary="Staff in the network record the meeting as held, or cancelled with a reason")
async def close_network_meeting(citizen_id: uuid.UUID, meeting_id: uuid.UUID, body: NetworkMeetingCloseIn,
                                user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.close_network_meeting(uow, user, citizen_id, meeting_id, body)


# --- safety: tryghedsplan, LA2, learning plans, BVC ---------------------------------------------


# A partner's answer leaves out what their consent does not cover (the keys are absent, not null).
@router.get("/safety", response_model=SafetyOut, response_model_exclude_unset=True,
            summary="Tryghedsplan, current LA2 rating, learning plans and BVC")
async def get_safety(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.get_safety(uow, user, citizen_id)


@router.get("/safety/tryghedsplan/versions", response_model=list[TryghedsplanOut],
            summary="Every version of the tryghedsplan, newest first")
async def list_tryghedsplan_versions(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> list[dict[str, Any]]:
    return await services.list_tryghedsplan_versions(uow, user, citizen_id)


@router.get("/safety/ratings", response_model=list[RatingOut], summary="The LA2 ratings, newest first (staff only)")
async def list_ratings(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> list[dict[str, Any]]:
    return await services.list_ratings(uow, user, citizen_id)


@router.put("/safety/tryghedsplan", response_model=TryghedsplanOut,
            summary="Revise the tryghedsplan (a new version; old ones stay)")
async def revise_tryghedsplan(citizen_id: uuid.UUID, body: TryghedsplanIn, user: CurrentUser,
                              uow: UoW) -> dict[str, Any]:
    return await services.revise_tryghedsplan(uow, user, citizen_id, body)


@router.post("/safety/ratings", status_code=201, response_model=RatingOut,
             summary="Rate green, yellow or red (LA2), with a reason")
async def add_rating(citizen_id: uuid.UUID, body: RatingIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_rating(uow, user, citizen_id, body)


@router.post("/safety/ratings/{rating_id}/citizen-told", response_model=RatingOut,
             summary="Record that the citizen was told (or why not)")
async def rating_told(citizen_id: uuid.UUID, rating_id: uuid.UUID, body: ToldIn, user: CurrentUser,
                      uow: UoW) -> dict[str, Any]:
    return await services.rating_told(uow, user, citizen_id, rating_id, body)


@router.post("/safety/learning-plans", status_code=201, response_model=LearningPlanOut,
             summary="Open a learning plan after an episode")
async def open_learning_plan(citizen_id: uuid.UUID, body: LearningPlanIn, user: CurrentUser,
                             uow: UoW) -> dict[str, Any]:
    return await services.open_learning_plan(uow, user, citizen_id, body)


@router.post("/safety/learning-plans/{learning_plan_id}/complete", response_model=LearningPlanOut,
             summary="Write the learning plan")
async def complete_learning_plan(citizen_id: uuid.UUID, learning_plan_id: uuid.UUID, body: LearningPlanDoneIn,
                                 user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.complete_learning_plan(uow, user, citizen_id, learning_plan_id, body)


@router.post("/safety/bvc", status_code=201, response_model=BvcRecordedOut, summary="Record a BVC score (optional)")
async def add_bvc(citizen_id: uuid.UUID, body: BvcIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_bvc(uow, user, citizen_id, body)


# --- FIT -----------------------------------------------------------------------------------------


@router.get("/fit", response_model=FitOut,
            summary="FIT sessions and the ORS/SRS trend with the clinical cut-offs (scores only where the citizen shares)")
async def get_fit(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.get_fit(uow, user, citizen_id)


@router.post("/fit", status_code=201, response_model=FitRecordedOut,
             summary="Record a FIT session (ORS and/or SRS: four items 0–10 each, totals 0–40; or smileys)")
async def add_fit(citizen_id: uuid.UUID, body: FitIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.add_fit(uow, user, citizen_id, body)


@router.put("/fit/{session_id}/sharing", response_model=FitRecordedOut,
            summary="The citizen shares a FIT session's scores with their staff, or stops sharing them")
async def share_fit(citizen_id: uuid.UUID, session_id: uuid.UUID, body: FitSharingIn, user: CurrentUser,
                    uow: UoW) -> dict[str, Any]:
    return await services.share_fit_session(uow, user, citizen_id, session_id, body)


# --- consent -------------------------------------------------------------------------------------


@router.get("/consents", response_model=ConsentsOut, summary="The citizen's consents, and what flows without consent")
async def list_consents(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.list_consents(uow, user, citizen_id)


@router.post("/consents", status_code=201, response_model=ConsentOut, summary="Record a consent the citizen has given")
async def give_consent(citizen_id: uuid.UUID, body: ConsentIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.give_consent(uow, user, citizen_id, body)


@router.post("/consents/{consent_id}/revoke", response_model=ConsentOut,
             summary="Record that the citizen revoked a consent")
async def revoke_consent(citizen_id: uuid.UUID, consent_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    return await services.revoke_consent(uow, user, citizen_id, consent_id)


@router.get("/consents/decision", response_model=ConsentDecisionOut,
            summary="May this recipient receive this category now (or at a time)?")
async def consent_decision(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, recipient_kind: str,
                           recipient_id: str, category: str, at: datetime | None = None) -> dict[str, Any]:
    return await services.consent_decision(uow, user, citizen_id, recipient_kind=recipient_kind,
                                           recipient_id=recipient_id, category=category, at=at)


routers = [router, fhir_router, scim_router]
