"""Plans' HTTP routes: Borgerens Plan, follow-ups, the network, safety, FIT and consent.

Every route loads the citizen's facts, asks ``services.plans.access`` whether the caller may do
this, applies a rule from ``services.plans.domain`` and writes state, events and an audit entry in one
unit of work. A refusal is audited too. Rule violations answer 422 and change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import select

from contracts.plans import (
    ConsentGivenV1, ConsentRevokedV1, FitRecordedV1, FollowUpRecordedV1, LearningPlanCompletedV1,
    LearningPlanDueV1, NetworkMemberAddedV1, NetworkMemberRemovedV1, SafetyRatingChangedV1, TryghedsplanRevisedV1,
)
from tovholder.auth import CurrentUser, Principal
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.inputs import DateTimeSince1900, PositiveInt32
from tovholder.service import UoW
from tovholder.uow import UnitOfWork
from services.plans.domain import access
from services.plans.domain.access import Action as Can
from services.plans.repository import from_json, to_json
from services.plans.domain import consent as consent_rules
from tovholder import consent as kit_consent
from services.plans.domain import fit as fit_rules
from services.plans.domain import network as network_rules
from services.plans.domain import plan as plan_rules
from services.plans.domain import safety as safety_rules
from services.plans.domain.cadence import Cadence, preset
from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.followup import SubjectKind, record_follow_up
from services.plans.domain.plan import Author, AuthorRole, EntryKind, GoalKind, GoalStatus, SubGoalKind
from services.plans.models import (
    BvcScoreRow, ConsentRow, FitSessionRow, FollowUpRow, FollowUpScheduleRow, LearningPlanRow, NetworkMemberRow,
    Plan, PlanVersionRow, SafetyRatingRow, TryghedsplanRow,
)
from contracts.plans import PlanVersionCreatedV1
from services.plans.repository import (
    as_consent, as_network, as_schedule, apply_schedule, consents_of, current_version, network_rows, plan_of,
    save_version, set_schedule, version_number,
)
from services.plans.services import announce, local_today, now


class RuleRoute(APIRoute):
    """Turns a broken domain rule into a 422 with the rule's reason; the unit of work is not committed,
    so nothing changed."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request):
            try:
                return await handler(request)
            except PlanRuleViolation as exc:
                raise DomainError(exc.message) from exc

        return route


router = APIRouter(prefix="/api/v1/citizens/{citizen_id}", tags=["plans"], route_class=RuleRoute)


# --- access ---------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What a route knows about the citizen once the caller is let in."""

    plan: Plan
    user: Principal
    decision: access.AccessDecision
    network_rows: list[NetworkMemberRow]

    @property
    def citizen_id(self) -> uuid.UUID:
        return self.plan.citizen_id

    @property
    def author(self) -> Author:
        role = AuthorRole.CITIZEN if self.decision.relation == access.Relation.CITIZEN else AuthorRole.STAFF
        return Author(self.user.sub, role)

    @property
    def is_citizen(self) -> bool:
        return self.decision.relation == access.Relation.CITIZEN


async def enter(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, can: Can, *, lock: bool = False) -> Scope:
    """Load the citizen's plan and network and check access; a refusal is audited and answered 403."""
    plan = await plan_of(uow, citizen_id, for_update=lock)
    rows = await network_rows(uow, citizen_id, for_update=lock and can == Can.CHANGE_NETWORK)
    consents = await consents_of(uow, citizen_id) if user.role == "partner" else []
    viewer = access.Viewer(sub=user.sub, role=user.role, org=user.org, botilbud=user.botilbud)
    decision = access.decide(viewer, can, citizen_id=str(citizen_id), network=[r.staff_id for r in rows],
                             botilbud_id=plan.botilbud_id, consents=consents, at=now(),
                             network_is_empty=not rows)
    if not decision.allowed:
        uow.audit(user, f"{can.value}.denied", citizen_id=citizen_id, object_type="plan", object_id=plan.id,
                  detail={"relation": decision.relation.value, "reason": decision.reason})
        await uow.commit()
        raise Forbidden(f"Not allowed: {decision.reason}.")
    return Scope(plan=plan, user=user, decision=decision, network_rows=rows)


def audit(uow: UnitOfWork, scope: Scope, action: str, object_type: str, object_id: Any, **detail: Any) -> None:
    detail = {"relation": scope.decision.relation.value, **detail}
    if scope.decision.consent is not None:
        detail["basis"] = scope.decision.consent.basis.value
        if scope.decision.consent.consent_id:
            detail["consent_id"] = str(scope.decision.consent.consent_id)
        if scope.decision.consent.legal_reference:
            detail["legal_reference"] = scope.decision.consent.legal_reference
    uow.audit(scope.user, action, citizen_id=scope.citizen_id, object_type=object_type, object_id=object_id,
              detail=detail)


# --- request bodies -------------------------------------------------------------------------------


class CadenceIn(BaseModel):
    preset: str | None = Field(None, description="14-days, 8-weeks, 2-3-months, sel-103, sel-104")
    days: int | None = None
    weeks: int | None = None
    months: int | None = None
    latest_months: int | None = None
    label: str = ""

    def to_cadence(self) -> Cadence:
        if self.preset is not None:
            if any(v is not None for v in (self.days, self.weeks, self.months, self.latest_months)):
                raise PlanRuleViolation("give a cadence as a preset or as days/weeks/months, not both", field="cadence")
            return preset(self.preset)
        return Cadence.from_parts(days=self.days, weeks=self.weeks, months=self.months,
                                  latest_months=self.latest_months, label=self.label)


class GoalIn(BaseModel):
    text: str = Field(description="The goal in the citizen's own words")
    written_with_citizen: bool
    kind: GoalKind = GoalKind.DEVELOP
    cadence: CadenceIn | None = None
    follow_up_from: date | None = Field(None, description="Count the cadence from this day (default: today)")
    follow_up_owner: str | None = None


class GoalChangeIn(BaseModel):
    text: str | None = None
    written_with_citizen: bool | None = None
    kind: GoalKind | None = None
    status: GoalStatus | None = None
    cadence: CadenceIn | None = None
    clear_cadence: bool = False
    follow_up_owner: str | None = None


class SmartIn(BaseModel):
    specific: str | None = None
    measurable: str | None = None
    achievable: str | None = None
    relevant: str | None = None
    time_bound: date | None = None


class SubGoalIn(BaseModel):
    text: str
    written_with_citizen: bool
    kind: SubGoalKind = SubGoalKind.ORDINARY
    smart: SmartIn | None = None


class ActorIn(BaseModel):
    kind: plan_rules.ActorKind
    ref: str = ""


class ActionIn(BaseModel):
    text: str
    responsible: ActorIn
    due_on: date
    written_with_citizen: bool


class ActionDoneIn(BaseModel):
    done_on: date | None = None


class EntryIn(BaseModel):
    kind: EntryKind
    text: str
    written_with_citizen: bool = False
    goal_id: uuid.UUID | None = None
    replies_to: uuid.UUID | None = None


class PlanCadenceIn(BaseModel):
    cadence: CadenceIn | None = None
    follow_up_from: date | None = None


class FollowUpIn(BaseModel):
    subject: SubjectKind
    goal_id: uuid.UUID | None = None
    held_on: date
    outcome: str
    written_with_citizen: bool
    next_due_on: date | None = None


class MemberIn(BaseModel):
    staff_id: str
    role: network_rules.NetworkRole
    basis: network_rules.ChangeBasis = network_rules.ChangeBasis.CITIZEN_CHOICE


class RoleIn(BaseModel):
    role: network_rules.NetworkRole


class TryghedsplanIn(BaseModel):
    triggers: list[str] = []
    early_signs: list[str] = []
    what_helps: list[str] = []
    staff_should_do: list[str] = []
    staff_should_avoid: list[str] = []
    as_needed_medication_note: str | None = None
    written_with_citizen: bool


class RatingIn(BaseModel):
    level: str
    reason: str | None = None
    reassess_at: datetime | None = None
    citizen_told: bool = False


class ToldIn(BaseModel):
    told_at: datetime | None = None
    not_told_reason: str | None = None


class LearningPlanIn(BaseModel):
    episode_started_at: DateTimeSince1900
    episode_ended_at: DateTimeSince1900
    outcome: safety_rules.EpisodeOutcome = safety_rules.EpisodeOutcome.DIFFICULT
    looks_back_from: DateTimeSince1900 | None = None
    written_with_staff_id: str | None = None


class LearningPlanDoneIn(BaseModel):
    what_happened: str
    citizen_took_part: bool
    what_helped: str | None = None
    citizen_view: str | None = None
    staff_view: str | None = None


class BvcIn(BaseModel):
    observed: dict[str, bool]
    scored_at: datetime | None = None


class FitIn(BaseModel):
    held_at: datetime
    ors: float | None = None
    srs: float | None = None
    shared_by_citizen: bool


class ConsentIn(BaseModel):
    recipient_kind: str
    recipient_id: str
    recipient_name: str | None = None
    category: str


# --- Borgerens Plan ------------------------------------------------------------------------------


def plan_view(plan: Plan, version: plan_rules.PlanVersion) -> dict[str, Any]:
    body = to_json(version)
    return {"plan_id": str(plan.id), "citizen_id": str(plan.citizen_id), "botilbud_id": plan.botilbud_id,
            "status": plan.status, "opened_at": plan.opened_at, "version": version.number,
            "updated_at": version.created_at, "updated_by": version.created_by.id, "change": version.change,
            "cadence": body["cadence"], "goals": body["goals"], "entries": body["entries"]}


@router.get("/plan", summary="The citizen's plan (current version)")
async def get_plan(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    version = await current_version(uow, scope.plan)
    audit(uow, scope, "plan.read", "plan", scope.plan.id, version=version.number)
    await uow.commit()
    return plan_view(scope.plan, version)


@router.get("/plan/versions", summary="Every version of the plan, newest first")
async def list_versions(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> list[dict[str, Any]]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    await current_version(uow, scope.plan)
    rows = (await uow.session.execute(
        select(PlanVersionRow.number, PlanVersionRow.created_at, PlanVersionRow.created_by, PlanVersionRow.change)
        .where(PlanVersionRow.plan_id == scope.plan.id).order_by(PlanVersionRow.number.desc())
    )).all()
    audit(uow, scope, "plan.versions.read", "plan", scope.plan.id)
    await uow.commit()
    return [{"version": r.number, "created_at": r.created_at, "created_by": r.created_by, "change": r.change}
            for r in rows]


@router.get("/plan/versions/{number}", summary="One version of the plan, as it was")
async def get_version(citizen_id: uuid.UUID, number: PositiveInt32, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    version = await version_number(uow, scope.plan, number)
    audit(uow, scope, "plan.read", "plan", scope.plan.id, version=number)
    await uow.commit()
    return plan_view(scope.plan, version)


@router.get("/plan/diff", summary="What changed between two versions")
async def diff(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, from_version: Annotated[PositiveInt32, Query(alias="from")],
               to_version: Annotated[PositiveInt32 | None, Query(alias="to")] = None) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    newest = await current_version(uow, scope.plan)
    older = await version_number(uow, scope.plan, from_version)
    newer = newest if to_version is None else await version_number(uow, scope.plan, to_version)
    result = plan_rules.diff_versions(older, newer)
    audit(uow, scope, "plan.diff.read", "plan", scope.plan.id, versions=[result.from_version, result.to_version])
    await uow.commit()
    return {"from": result.from_version, "to": result.to_version,
            "changes": [{"path": c.path, "kind": c.kind.value, "before": to_json(c.before), "after": to_json(c.after)}
                        for c in result.changes]}


async def _write(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, can: Can = Can.WRITE_PLAN):
    scope = await enter(uow, user, citizen_id, can, lock=True)
    return scope, await current_version(uow, scope.plan)


def _with_citizen(scope: Scope, flag: bool | None) -> bool | None:
    # What the citizen writes is written with the citizen.
    return True if scope.is_citizen else flag


async def _commit_version(uow: UnitOfWork, scope: Scope, version: plan_rules.PlanVersion, *, goal_ids,
                          written_with_citizen: bool | None, object_type: str, object_id: Any) -> dict[str, Any]:
    save_version(uow, scope.plan, version)
    uow.emit(PlanVersionCreatedV1(
        citizen_id=scope.plan.citizen_id, plan_id=scope.plan.id, version=version.number, change=version.change,
        goal_ids=list(goal_ids), created_at=version.created_at, created_by=version.created_by.id,
        written_with_citizen=written_with_citizen,
    ))
    audit(uow, scope, f"plan.{version.change}", object_type, object_id, version=version.number)
    await uow.commit()
    return plan_view(scope.plan, version)


@router.post("/plan/goals", status_code=201, summary="Add a goal in the citizen's own words")
async def add_goal(citizen_id: uuid.UUID, body: GoalIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    cadence = body.cadence.to_cadence() if body.cadence else None
    today = local_today()
    anchor = body.follow_up_from or today
    if anchor > today:
        raise PlanRuleViolation("count the cadence from today or an earlier day", field="follow_up_from")
    goal = plan_rules.new_goal(goal_id=uuid.uuid4(), text=body.text, kind=body.kind, cadence=cadence,
                               written_with_citizen=_with_citizen(scope, body.written_with_citizen),
                               follow_up_owner=body.follow_up_owner)
    new = plan_rules.add_goal(version, goal, by=scope.author, at=now())
    if cadence is not None:
        row = await set_schedule(uow, scope.plan, subject=SubjectKind.GOAL, subject_id=goal.goal_id, cadence=cadence,
                                 anchor=anchor, assignee=goal.follow_up_owner)
        await _announce_if_due(uow, scope, row, today)
    result = await _commit_version(uow, scope, new, goal_ids=[goal.goal_id], written_with_citizen=goal.written_with_citizen,
                                   object_type="goal", object_id=goal.goal_id)
    return {**result, "goal_id": str(goal.goal_id)}


async def _announce_if_due(uow: UnitOfWork, scope: Scope, row: FollowUpScheduleRow | None, today: date) -> None:
    """A schedule counted from an earlier day may be due already: announce it now, not at the next round."""
    if row is None or not row.active or row.due_on > today or row.announced_for == row.due_on:
        return
    owner = row.assignee or as_network(scope.citizen_id, scope.network_rows).follow_up_owner()
    announce(uow, row, assignee=owner, botilbud_id=scope.plan.botilbud_id)


@router.patch("/plan/goals/{goal_id}", summary="Change a goal (text, kind, status, cadence)")
async def change_goal(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: GoalChangeIn, user: CurrentUser,
                      uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    cadence = body.cadence.to_cadence() if body.cadence else None
    flag = _with_citizen(scope, body.written_with_citizen)
    new = plan_rules.change_goal(version, goal_id, by=scope.author, at=now(), text=body.text, kind=body.kind,
                                 cadence=cadence, clear_cadence=body.clear_cadence, status=body.status,
                                 written_with_citizen=flag, follow_up_owner=body.follow_up_owner)
    goal = new.goal(goal_id)
    active = goal.status == GoalStatus.ACTIVE and goal.cadence is not None
    today = local_today()
    row = await set_schedule(uow, scope.plan, subject=SubjectKind.GOAL, subject_id=goal_id,
                             cadence=goal.cadence if active else None, anchor=today, assignee=goal.follow_up_owner)
    await _announce_if_due(uow, scope, row, today)
    return await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=flag,
                                 object_type="goal", object_id=goal_id)


@router.post("/plan/goals/{goal_id}/sub-goals", status_code=201, summary="Add a sub-goal (SMART fields optional)")
async def add_sub_goal(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: SubGoalIn, user: CurrentUser,
                       uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    smart = plan_rules.SmartFields(**body.smart.model_dump()) if body.smart else None
    sub = plan_rules.new_sub_goal(sub_goal_id=uuid.uuid4(), text=body.text, kind=body.kind, smart=smart,
                                  written_with_citizen=_with_citizen(scope, body.written_with_citizen))
    new = plan_rules.add_sub_goal(version, goal_id, sub, by=scope.author, at=now())
    result = await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=sub.written_with_citizen,
                                   object_type="sub-goal", object_id=sub.sub_goal_id)
    return {**result, "sub_goal_id": str(sub.sub_goal_id)}


@router.post("/plan/goals/{goal_id}/actions", status_code=201, summary="Add an action with who and by when")
async def add_action(citizen_id: uuid.UUID, goal_id: uuid.UUID, body: ActionIn, user: CurrentUser,
                     uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    action = plan_rules.new_action(action_id=uuid.uuid4(), text=body.text,
                                   responsible=plan_rules.ResponsibleActor(body.responsible.kind, body.responsible.ref),
                                   due_on=body.due_on, written_with_citizen=_with_citizen(scope, body.written_with_citizen),
                                   today=local_today())
    new = plan_rules.add_action(version, goal_id, action, by=scope.author, at=now())
    result = await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=action.written_with_citizen,
                                   object_type="action", object_id=action.action_id)
    return {**result, "action_id": str(action.action_id)}


@router.post("/plan/goals/{goal_id}/actions/{action_id}/done", summary="Mark an action done")
async def action_done(citizen_id: uuid.UUID, goal_id: uuid.UUID, action_id: uuid.UUID, body: ActionDoneIn,
                      user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    at = now()
    new = plan_rules.complete_action(version, goal_id, action_id, done_on=body.done_on or local_today(at),
                                     by=scope.author, at=at)
    return await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=None,
                                 object_type="action", object_id=action_id)


@router.post("/plan/entries", status_code=201,
             summary="The citizen's perspective, a staff observation or the citizen's comment")
async def add_entry(citizen_id: uuid.UUID, body: EntryIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    can = Can.COMMENT_PLAN if user.role == "citizen" else Can.WRITE_PLAN
    scope, version = await _write(uow, user, citizen_id, can)
    entry = plan_rules.new_entry(entry_id=uuid.uuid4(), kind=body.kind, text=body.text, author=scope.author,
                                 written_at=max(now(), version.created_at), written_with_citizen=body.written_with_citizen,
                                 replies_to=body.replies_to)
    new = plan_rules.add_entry(version, entry, goal_id=body.goal_id)
    result = await _commit_version(uow, scope, new, goal_ids=[body.goal_id] if body.goal_id else [],
                                   written_with_citizen=entry.written_with_citizen, object_type="entry",
                                   object_id=entry.entry_id)
    return {**result, "entry_id": str(entry.entry_id)}


@router.put("/plan/cadence", summary="Set or clear the plan's own follow-up cadence")
async def set_plan_cadence(citizen_id: uuid.UUID, body: PlanCadenceIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    if scope.is_citizen:
        raise Forbidden("Not allowed: the follow-up rhythm of the plan is set by staff in your network.")
    cadence = body.cadence.to_cadence() if body.cadence else None
    today = local_today()
    anchor = body.follow_up_from or today
    if anchor > today:
        raise PlanRuleViolation("count the cadence from today or an earlier day", field="follow_up_from")
    new = plan_rules.set_plan_cadence(version, cadence, by=scope.author, at=now())
    row = await set_schedule(uow, scope.plan, subject=SubjectKind.PLAN, subject_id=scope.plan.id, cadence=cadence,
                             anchor=anchor, assignee=None)
    await _announce_if_due(uow, scope, row, today)
    return await _commit_version(uow, scope, new, goal_ids=[], written_with_citizen=None, object_type="plan",
                                 object_id=scope.plan.id)


# --- follow-ups ----------------------------------------------------------------------------------


def schedule_view(row: FollowUpScheduleRow, today: date) -> dict[str, Any]:
    current = as_schedule(row)
    return {"subject": row.subject, "subject_id": str(row.subject_id), "cadence": current.cadence.label,
            "anchor": row.anchor, "due_on": row.due_on, "late_after": current.late_after,
            "due": current.is_due(today), "late": current.is_late(today), "assignee": row.assignee}


@router.get("/plan/follow-ups", summary="When the plan and each goal are next due, and the follow-ups held")
async def list_follow_ups(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    today = local_today()
    schedules = (await uow.session.execute(
        select(FollowUpScheduleRow).where(FollowUpScheduleRow.plan_id == scope.plan.id, FollowUpScheduleRow.active)
        .order_by(FollowUpScheduleRow.due_on))).scalars()
    held = (await uow.session.execute(
        select(FollowUpRow).where(FollowUpRow.plan_id == scope.plan.id).order_by(FollowUpRow.held_on.desc()))).scalars()
    audit(uow, scope, "plan.follow-ups.read", "plan", scope.plan.id)
    await uow.commit()
    return {"schedules": [schedule_view(r, today) for r in schedules],
            "held": [{"follow_up_id": str(f.id), "subject": f.subject, "subject_id": str(f.subject_id),
                      "held_on": f.held_on, "outcome": f.outcome, "next_due_on": f.next_due_on,
                      "recorded_by": f.recorded_by, "written_with_citizen": f.written_with_citizen} for f in held]}


@router.post("/plan/follow-ups", status_code=201, summary="Record a follow-up: the outcome and the next date")
async def add_follow_up(citizen_id: uuid.UUID, body: FollowUpIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    if scope.is_citizen:
        raise Forbidden("Not allowed: follow-ups are recorded by staff in your network; comment on the plan instead.")
    if body.subject == SubjectKind.GOAL:
        if body.goal_id is None:
            raise PlanRuleViolation("say which goal was followed up", field="goal_id")
        version.goal(body.goal_id)
        subject_id = body.goal_id
    else:
        if body.goal_id is not None:
            raise PlanRuleViolation("a plan follow-up is about the whole plan; leave goal_id out", field="goal_id")
        subject_id = scope.plan.id
    row = await uow.session.get(FollowUpScheduleRow, subject_id, with_for_update=True)
    if row is None or not row.active:
        raise PlanRuleViolation(f"the {body.subject.value} has no follow-up cadence; set one first", field="subject")
    record, moved = record_follow_up(as_schedule(row), follow_up_id=uuid.uuid4(), held_on=body.held_on,
                                     outcome=body.outcome, recorded_by=user.sub,
                                     written_with_citizen=body.written_with_citizen, today=local_today(),
                                     next_due_on=body.next_due_on)
    apply_schedule(row, moved)
    uow.session.add(FollowUpRow(id=record.follow_up_id, plan_id=scope.plan.id, subject=record.subject.value,
                                subject_id=record.subject_id, held_on=record.held_on, outcome=record.outcome,
                                next_due_on=record.next_due_on, recorded_by=record.recorded_by,
                                written_with_citizen=record.written_with_citizen))
    uow.emit(FollowUpRecordedV1(citizen_id=scope.citizen_id, plan_id=scope.plan.id, follow_up_id=record.follow_up_id,
                                subject=record.subject.value, subject_id=record.subject_id, held_on=record.held_on,
                                next_due_on=record.next_due_on, recorded_by=record.recorded_by,
                                botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "plan.follow-up.record", f"{record.subject.value}-follow-up", record.follow_up_id)
    await uow.commit()
    return {"follow_up_id": str(record.follow_up_id), "next_due_on": record.next_due_on,
            "schedule": schedule_view(row, local_today())}


# --- network -------------------------------------------------------------------------------------


def network_view(scope: Scope, rows: list[NetworkMemberRow]) -> dict[str, Any]:
    net = as_network(scope.citizen_id, rows)
    return {"citizen_id": str(scope.citizen_id),
            "members": [{"staff_id": r.staff_id, "role": r.role, "basis": r.basis, "added_at": r.added_at,
                         "added_by": r.added_by} for r in rows],
            "tovholder": net.tovholder.staff_id if net.tovholder else None,
            "missing_fixed_roles": [r.value for r in net.missing_fixed_roles()],
            "size": len(rows), "max_size": network_rules.MAX_MEMBERS}


@router.get("/network", summary="The staff the citizen has chosen")
async def get_network(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_NETWORK)
    audit(uow, scope, "network.read", "network", citizen_id)
    await uow.commit()
    return network_view(scope, scope.network_rows)


@router.post("/network/members", status_code=201, summary="Add a staff member the citizen has chosen")
async def add_member(citizen_id: uuid.UUID, body: MemberIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF and body.basis != network_rules.ChangeBasis.INITIAL_ASSIGNMENT:
        raise Forbidden("Not allowed: staff outside the network can only make the initial assignment "
                        "(basis initial-assignment); after that the citizen chooses.")
    if scope.is_citizen and body.basis != network_rules.ChangeBasis.CITIZEN_CHOICE:
        raise PlanRuleViolation("what the citizen changes is the citizen's choice", field="basis")
    at = now()
    net = network_rules.add_member(as_network(citizen_id, scope.network_rows), staff_id=body.staff_id, role=body.role,
                                   at=at, basis=body.basis)
    member = net.members[-1]
    row = NetworkMemberRow(citizen_id=citizen_id, staff_id=member.staff_id, role=member.role.value,
                           basis=member.basis.value, added_at=at, added_by=user.sub)
    uow.session.add(row)
    uow.emit(NetworkMemberAddedV1(citizen_id=citizen_id, staff_id=member.staff_id, role=member.role.value,
                                  added_at=at, basis=member.basis.value, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.member.add", "network-member", member.staff_id, role=member.role.value)
    await uow.commit()
    return network_view(scope, [*scope.network_rows, row])


@router.delete("/network/members/{staff_id}", summary="Remove a staff member from the citizen's network")
async def remove_member(citizen_id: uuid.UUID, staff_id: str, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF:
        raise Forbidden("Not allowed: only the citizen, or staff in the network on the citizen's behalf, remove members.")
    _, removed = network_rules.remove_member(as_network(citizen_id, scope.network_rows), staff_id=staff_id)
    at = now()
    row = next(r for r in scope.network_rows if r.staff_id == staff_id)
    row.removed_at, row.removed_by = at, user.sub
    uow.emit(NetworkMemberRemovedV1(citizen_id=citizen_id, staff_id=staff_id, role=removed.role.value, removed_at=at,
                                    botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.member.remove", "network-member", staff_id, role=removed.role.value)
    await uow.commit()
    return network_view(scope, [r for r in scope.network_rows if r.staff_id != staff_id])


@router.put("/network/members/{staff_id}/role", summary="Change a member's role")
async def change_member_role(citizen_id: uuid.UUID, staff_id: str, body: RoleIn, user: CurrentUser,
                             uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF:
        raise Forbidden("Not allowed: only the citizen, or staff in the network on the citizen's behalf, change roles.")
    network_rules.change_role(as_network(citizen_id, scope.network_rows), staff_id=staff_id, role=body.role)
    at = now()
    old = next(r for r in scope.network_rows if r.staff_id == staff_id)
    # A role change is a removal and an addition, so consumers' read models need no third event.
    old.removed_at, old.removed_by = at, user.sub
    await uow.session.flush()
    new = NetworkMemberRow(citizen_id=citizen_id, staff_id=staff_id, role=body.role.value, basis=old.basis,
                           added_at=at, added_by=user.sub)
    uow.session.add(new)
    uow.emit(NetworkMemberRemovedV1(citizen_id=citizen_id, staff_id=staff_id, role=old.role, removed_at=at,
                                    botilbud_id=scope.plan.botilbud_id))
    uow.emit(NetworkMemberAddedV1(citizen_id=citizen_id, staff_id=staff_id, role=body.role.value, added_at=at,
                                  basis=old.basis, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.member.role", "network-member", staff_id, role=body.role.value, previous=old.role)
    await uow.commit()
    return network_view(scope, [new if r.staff_id == staff_id else r for r in scope.network_rows])


# --- safety: tryghedsplan, LA2, learning plans, BVC ---------------------------------------------


async def _tryghedsplan(uow: UnitOfWork, citizen_id: uuid.UUID) -> safety_rules.Tryghedsplan | None:
    row = (await uow.session.execute(
        select(TryghedsplanRow).where(TryghedsplanRow.citizen_id == citizen_id)
        .order_by(TryghedsplanRow.version.desc()).limit(1))).scalar_one_or_none()
    return from_json(safety_rules.Tryghedsplan, row.content) if row else None


async def _current_rating(uow: UnitOfWork, citizen_id: uuid.UUID, *, lock: bool = False) -> SafetyRatingRow | None:
    query = (select(SafetyRatingRow).where(SafetyRatingRow.citizen_id == citizen_id)
             .order_by(SafetyRatingRow.rated_at.desc(), SafetyRatingRow.id).limit(1))
    if lock:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


def rating_view(row: SafetyRatingRow | None, at: datetime) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"rating_id": str(row.id), "level": row.level, "reason": row.reason, "rated_at": row.rated_at,
            "rated_by": row.rated_by, "reassess_at": row.reassess_at,
            "reassessment_overdue": bool(row.reassess_at and at > row.reassess_at),
            "citizen_told_at": row.citizen_told_at, "citizen_told_by": row.citizen_told_by,
            "not_told_reason": row.not_told_reason}


def as_rating(row: SafetyRatingRow) -> safety_rules.SafetyRating:
    return safety_rules.SafetyRating(rating_id=row.id, level=safety_rules.La2Level(row.level), reason=row.reason,
                                     rated_at=row.rated_at, rated_by=row.rated_by, reassess_at=row.reassess_at,
                                     citizen_told_at=row.citizen_told_at, citizen_told_by=row.citizen_told_by,
                                     not_told_reason=row.not_told_reason)


def learning_plan_view(row: LearningPlanRow, at: datetime) -> dict[str, Any]:
    return {"learning_plan_id": str(row.id), "episode_started_at": row.episode_started_at,
            "episode_ended_at": row.episode_ended_at, "looks_back_from": row.looks_back_from, "due_at": row.due_at,
            "late": row.completed_at is None and at > row.due_at, "outcome": row.outcome,
            "written_with_staff_id": row.written_with_staff_id, "completed_at": row.completed_at,
            "what_happened": row.what_happened, "what_helped": row.what_helped, "citizen_view": row.citizen_view,
            "staff_view": row.staff_view, "citizen_took_part": row.citizen_took_part}


@router.get("/safety", summary="Tryghedsplan, current LA2 rating, learning plans and BVC")
async def get_safety(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_SAFETY)
    at = now()
    plan = await _tryghedsplan(uow, citizen_id)
    body: dict[str, Any] = {"citizen_id": str(citizen_id), "tryghedsplan": to_json(plan) if plan else None}
    if scope.decision.relation != access.Relation.PARTNER:
        # A consent to the safety plan covers the tryghedsplan, not staff's ratings and episode notes.
        learning = (await uow.session.execute(
            select(LearningPlanRow).where(LearningPlanRow.citizen_id == citizen_id)
            .order_by(LearningPlanRow.episode_ended_at.desc()).limit(20))).scalars()
        bvc = (await uow.session.execute(
            select(BvcScoreRow).where(BvcScoreRow.citizen_id == citizen_id)
            .order_by(BvcScoreRow.scored_at.desc()).limit(1))).scalar_one_or_none()
        body["rating"] = rating_view(await _current_rating(uow, citizen_id), at)
        body["learning_plans"] = [learning_plan_view(r, at) for r in learning]
        body["bvc"] = ({"scored_at": bvc.scored_at, "total": bvc.total, "observed": bvc.items["observed"],
                        "band": safety_rules.BvcScore(bvc.scored_at, bvc.scored_by, tuple(bvc.items["observed"])).band.value}
                       if bvc else None)
    audit(uow, scope, "safety.read", "tryghedsplan", citizen_id)
    await uow.commit()
    return body


@router.put("/safety/tryghedsplan", summary="Revise the tryghedsplan (a new version; old ones stay)")
async def revise_tryghedsplan(citizen_id: uuid.UUID, body: TryghedsplanIn, user: CurrentUser,
                              uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.WRITE_TRYGHEDSPLAN, lock=True)
    current = await _tryghedsplan(uow, citizen_id)
    at = now()
    revised = safety_rules.revise_tryghedsplan(
        current, triggers=body.triggers, early_signs=body.early_signs, what_helps=body.what_helps,
        staff_should_do=body.staff_should_do, staff_should_avoid=body.staff_should_avoid,
        as_needed_medication_note=body.as_needed_medication_note,
        written_with_citizen=_with_citizen(scope, body.written_with_citizen), at=at, by=user.sub)
    uow.session.add(TryghedsplanRow(citizen_id=citizen_id, version=revised.version, content=to_json(revised),
                                    updated_at=at, updated_by=user.sub))
    uow.emit(TryghedsplanRevisedV1(citizen_id=citizen_id, version=revised.version, revised_at=at, revised_by=user.sub,
                                   written_with_citizen=revised.written_with_citizen))
    audit(uow, scope, "tryghedsplan.revise", "tryghedsplan", citizen_id, version=revised.version)
    await uow.commit()
    return to_json(revised)


@router.post("/safety/ratings", status_code=201, summary="Rate green, yellow or red (LA2), with a reason")
async def add_rating(citizen_id: uuid.UUID, body: RatingIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY, lock=True)
    previous_row = await _current_rating(uow, citizen_id, lock=True)
    previous = as_rating(previous_row) if previous_row else None
    at = now()
    rating = safety_rules.rate(rating_id=uuid.uuid4(), level=body.level, reason=body.reason, rated_at=at,
                               rated_by=user.sub, reassess_at=body.reassess_at, previous=previous)
    if body.citizen_told:
        rating = safety_rules.record_citizen_told(rating, at=at, by=user.sub)
    row = SafetyRatingRow(id=rating.rating_id, citizen_id=citizen_id, level=rating.level.value, reason=rating.reason,
                          rated_at=rating.rated_at, rated_by=rating.rated_by, reassess_at=rating.reassess_at,
                          citizen_told_at=rating.citizen_told_at, citizen_told_by=rating.citizen_told_by)
    uow.session.add(row)
    uow.emit(SafetyRatingChangedV1(citizen_id=citizen_id, rating_id=rating.rating_id, level=rating.level.value,
                                   previous_level=previous.level.value if previous else None, rated_at=at,
                                   reassess_at=rating.reassess_at, citizen_told=rating.citizen_told,
                                   rated_by=user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "safety.rate", "safety-rating", rating.rating_id, level=rating.level.value)
    await uow.commit()
    return rating_view(row, at)


@router.post("/safety/ratings/{rating_id}/citizen-told", summary="Record that the citizen was told (or why not)")
async def rating_told(citizen_id: uuid.UUID, rating_id: uuid.UUID, body: ToldIn, user: CurrentUser,
                      uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    row = await uow.session.get(SafetyRatingRow, rating_id, with_for_update=True)
    if row is None or row.citizen_id != citizen_id:
        raise NotFound("The citizen has no such rating.")
    at = now()
    if body.not_told_reason is not None:
        updated = safety_rules.record_not_told(as_rating(row), reason=body.not_told_reason)
    else:
        told_at = body.told_at or at
        if told_at > at:
            raise PlanRuleViolation("the citizen cannot have been told in the future", field="told_at")
        updated = safety_rules.record_citizen_told(as_rating(row), at=told_at, by=user.sub)
    row.citizen_told_at, row.citizen_told_by, row.not_told_reason = (
        updated.citizen_told_at, updated.citizen_told_by, updated.not_told_reason)
    audit(uow, scope, "safety.citizen-told", "safety-rating", rating_id, told=updated.citizen_told)
    await uow.commit()
    return rating_view(row, at)


@router.post("/safety/learning-plans", status_code=201, summary="Open a learning plan after an episode")
async def open_learning_plan(citizen_id: uuid.UUID, body: LearningPlanIn, user: CurrentUser,
                             uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    at = now()
    if body.episode_ended_at > at:
        raise PlanRuleViolation("a learning plan is opened after the episode has ended", field="episode_ended_at")
    lp = safety_rules.open_learning_plan(learning_plan_id=uuid.uuid4(), episode_started_at=body.episode_started_at,
                                         episode_ended_at=body.episode_ended_at, outcome=body.outcome,
                                         looks_back_from=body.looks_back_from,
                                         written_with_staff_id=body.written_with_staff_id)
    row = LearningPlanRow(id=lp.learning_plan_id, citizen_id=citizen_id, episode_started_at=lp.episode_started_at,
                          episode_ended_at=lp.episode_ended_at, looks_back_from=lp.looks_back_from, due_at=lp.due_at,
                          outcome=lp.outcome.value, written_with_staff_id=lp.written_with_staff_id, opened_by=user.sub)
    uow.session.add(row)
    uow.emit(LearningPlanDueV1(citizen_id=citizen_id, learning_plan_id=lp.learning_plan_id,
                               episode_ended_at=lp.episode_ended_at, due_at=lp.due_at,
                               assignee=lp.written_with_staff_id or user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "safety.learning-plan.open", "learning-plan", lp.learning_plan_id)
    await uow.commit()
    return learning_plan_view(row, at)


@router.post("/safety/learning-plans/{learning_plan_id}/complete", summary="Write the learning plan")
async def complete_learning_plan(citizen_id: uuid.UUID, learning_plan_id: uuid.UUID, body: LearningPlanDoneIn,
                                 user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    row = await uow.session.get(LearningPlanRow, learning_plan_id, with_for_update=True)
    if row is None or row.citizen_id != citizen_id:
        raise NotFound("The citizen has no such learning plan.")
    at = now()
    lp = safety_rules.LearningPlan(
        learning_plan_id=row.id, episode_started_at=row.episode_started_at, episode_ended_at=row.episode_ended_at,
        looks_back_from=row.looks_back_from, due_at=row.due_at, outcome=safety_rules.EpisodeOutcome(row.outcome),
        written_with_staff_id=row.written_with_staff_id, completed_at=row.completed_at)
    done = safety_rules.complete_learning_plan(lp, at=at, what_happened=body.what_happened,
                                               citizen_took_part=body.citizen_took_part, what_helped=body.what_helped,
                                               citizen_view=body.citizen_view, staff_view=body.staff_view)
    for name in ("completed_at", "what_happened", "what_helped", "citizen_view", "staff_view", "citizen_took_part"):
        setattr(row, name, getattr(done, name))
    uow.emit(LearningPlanCompletedV1(citizen_id=citizen_id, learning_plan_id=row.id, completed_at=at,
                                     late=at > row.due_at))
    audit(uow, scope, "safety.learning-plan.complete", "learning-plan", row.id, late=at > row.due_at)
    await uow.commit()
    return learning_plan_view(row, at)


@router.post("/safety/bvc", status_code=201, summary="Record a BVC score (optional)")
async def add_bvc(citizen_id: uuid.UUID, body: BvcIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    at = now()
    scored_at = body.scored_at or at
    if scored_at > at:
        raise PlanRuleViolation("a BVC score cannot be recorded before it is scored", field="scored_at")
    score = safety_rules.score_bvc(observed=body.observed, scored_at=scored_at, scored_by=user.sub)
    row = BvcScoreRow(citizen_id=citizen_id, scored_at=score.scored_at, scored_by=score.scored_by,
                      items={"observed": list(score.items)}, total=score.total)
    uow.session.add(row)
    await uow.session.flush()
    audit(uow, scope, "safety.bvc", "bvc-score", row.id, total=score.total)
    await uow.commit()
    return {"bvc_id": str(row.id), "total": score.total, "band": score.band.value, "observed": list(score.items)}


# --- FIT -----------------------------------------------------------------------------------------


@router.get("/fit", summary="FIT sessions and the ORS/SRS trend (scores only where the citizen shares)")
async def get_fit(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_FIT)
    rows = list((await uow.session.execute(
        select(FitSessionRow).where(FitSessionRow.citizen_id == citizen_id).order_by(FitSessionRow.held_at))).scalars())

    def visible(r: FitSessionRow) -> bool:
        # The citizen sees everything; the staff member who held the session sees what was said to them.
        return scope.is_citizen or r.shared_by_citizen or r.recorded_by == user.sub

    if scope.decision.relation == access.Relation.PARTNER:
        rows = [r for r in rows if r.shared_by_citizen]
    sessions = [fit_rules.FitSession(session_id=r.id, held_at=r.held_at, recorded_by=r.recorded_by,
                                     ors=r.ors if visible(r) else None, srs=r.srs if visible(r) else None,
                                     shared_by_citizen=r.shared_by_citizen) for r in rows]
    ors_trend, srs_trend = fit_rules.trend(sessions, scale="ors"), fit_rules.trend(sessions, scale="srs")
    audit(uow, scope, "fit.read", "fit", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id),
            "sessions": [{"session_id": str(s.session_id), "held_at": s.held_at, "recorded_by": s.recorded_by,
                          "ors": s.ors, "srs": s.srs, "shared_by_citizen": s.shared_by_citizen} for s in sessions],
            "trend": {"ors": {"direction": ors_trend.direction.value, "slope_per_14_days": ors_trend.slope_per_14_days},
                      "srs": {"direction": srs_trend.direction.value, "slope_per_14_days": srs_trend.slope_per_14_days}},
            "next_session_due": fit_rules.next_session_due(sessions, start=local_today())}


@router.post("/fit", status_code=201, summary="Record a FIT session (ORS and/or SRS, 1–10)")
async def add_fit(citizen_id: uuid.UUID, body: FitIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RECORD_FIT)
    session = fit_rules.record_session(session_id=uuid.uuid4(), held_at=body.held_at, recorded_by=user.sub,
                                       ors=body.ors, srs=body.srs, shared_by_citizen=body.shared_by_citizen, now=now())
    uow.session.add(FitSessionRow(id=session.session_id, citizen_id=citizen_id, held_at=session.held_at,
                                  recorded_by=session.recorded_by, ors=session.ors, srs=session.srs,
                                  shared_by_citizen=session.shared_by_citizen))
    ors, srs = session.visible_scores()
    uow.emit(FitRecordedV1(citizen_id=citizen_id, session_id=session.session_id, held_at=session.held_at,
                           shared=session.shared_by_citizen, ors=ors, srs=srs))
    audit(uow, scope, "fit.record", "fit-session", session.session_id, shared=session.shared_by_citizen)
    await uow.commit()
    return {"session_id": str(session.session_id), "held_at": session.held_at, "ors": session.ors,
            "srs": session.srs, "shared_by_citizen": session.shared_by_citizen}


# --- consent -------------------------------------------------------------------------------------


def consent_view(c: consent_rules.ConsentRecord) -> dict[str, Any]:
    return {"consent_id": str(c.consent_id), "recipient_kind": c.recipient_kind, "recipient_id": c.recipient_id,
            "recipient_name": c.recipient_name, "category": c.category, "given_at": c.given_at, "given_by": c.given_by,
            "revoked_at": c.revoked_at, "revoked_by": c.revoked_by, "in_force": c.revoked_at is None}


@router.get("/consents", summary="The citizen's consents, and what flows without consent")
async def list_consents(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_CONSENT)
    consents = await consents_of(uow, citizen_id)
    audit(uow, scope, "consent.read", "consent", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "consents": [consent_view(c) for c in consents],
            "categories": sorted(c.value for c in consent_rules.CONSENTABLE_CATEGORIES),
            # What flows without consent, and to whom beyond the municipality (a basis may name nobody).
            "without_consent": [{"category": category, "legal_basis": b.reference,
                                 "recipients": sorted(str(r) for r in b.recipients),
                                 "description": b.description}
                                for b in kit_consent.LEGAL_BASES.values() for category in sorted(b.categories)]}


@router.post("/consents", status_code=201, summary="Record a consent the citizen has given")
async def give_consent(citizen_id: uuid.UUID, body: ConsentIn, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_CONSENT, lock=True)
    at = now()
    record = consent_rules.give(consent_id=uuid.uuid4(), recipient_kind=body.recipient_kind,
                                recipient_id=body.recipient_id, category=body.category, at=at, by=user.sub,
                                existing=await consents_of(uow, citizen_id),
                                recipient_name=(body.recipient_name or "").strip() or None)
    uow.session.add(ConsentRow(id=record.consent_id, citizen_id=citizen_id, recipient_kind=record.recipient_kind,
                               recipient_id=record.recipient_id, recipient_name=record.recipient_name,
                               category=record.category, given_at=at, given_by=user.sub))
    uow.emit(ConsentGivenV1(citizen_id=citizen_id, consent_id=record.consent_id, recipient_kind=record.recipient_kind,
                            recipient_id=record.recipient_id, recipient_name=record.recipient_name,
                            category=record.category, given_at=at, recorded_by=user.sub))
    audit(uow, scope, "consent.give", "consent", record.consent_id, category=record.category,
          recipient=f"{record.recipient_kind}:{record.recipient_id}")
    await uow.commit()
    return consent_view(record)


@router.post("/consents/{consent_id}/revoke", summary="Record that the citizen revoked a consent")
async def revoke_consent(citizen_id: uuid.UUID, consent_id: uuid.UUID, user: CurrentUser, uow: UoW) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_CONSENT, lock=True)
    row = await uow.session.get(ConsentRow, consent_id, with_for_update=True)
    if row is None or row.citizen_id != citizen_id:
        raise NotFound("The citizen has no such consent.")
    at = now()
    revoked = consent_rules.revoke(as_consent(row), at=at, by=user.sub)
    row.revoked_at, row.revoked_by = revoked.revoked_at, revoked.revoked_by
    uow.emit(ConsentRevokedV1(citizen_id=citizen_id, consent_id=row.id, recipient_kind=row.recipient_kind,
                              recipient_id=row.recipient_id, category=row.category, given_at=row.given_at,
                              revoked_at=at, recorded_by=user.sub))
    audit(uow, scope, "consent.revoke", "consent", row.id, category=row.category,
          recipient=f"{row.recipient_kind}:{row.recipient_id}")
    await uow.commit()
    return consent_view(revoked)


@router.get("/consents/decision", summary="May this recipient receive this category now (or at a time)?")
async def consent_decision(citizen_id: uuid.UUID, user: CurrentUser, uow: UoW, recipient_kind: str,
                           recipient_id: str, category: str, at: datetime | None = None) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_CONSENT)
    when = at or now()
    decision = consent_rules.may_receive(recipient_kind=recipient_kind, recipient_id=recipient_id, category=category,
                                         at=when, consents=await consents_of(uow, citizen_id))
    audit(uow, scope, "consent.decide", "consent", citizen_id, category=category,
          recipient=f"{recipient_kind}:{recipient_id}", allowed=decision.allowed)
    await uow.commit()
    return {"allowed": decision.allowed, "basis": decision.basis.value, "reason": decision.reason,
            "consent_id": str(decision.consent_id) if decision.consent_id else None,
            "legal_reference": decision.legal_reference, "at": when}


routers = [router]
