"""Plans' use cases: one async function per use case over a unit of work.

Each one loads the citizen's facts through ``repository``, asks ``domain.access`` whether the caller
may do this (a refusal is audited and answered 403), applies a rule from ``domain``, saves, emits the
events the change causes, audits and commits. A broken rule raises ``PlanRuleViolation`` before
anything is committed. Routes (``api.py``), event handlers (``handlers.py``) and the background job
(``jobs.py``) call these functions, never each other. They return plain JSON-ready dicts, which the
routes' response models (``schemas.py``) describe.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from contracts.health import HealthCheckPlanEntryProposedV1, TovholderChosenV1
from contracts.plans import (
    ConsentGivenV1, ConsentRevokedV1, FitRecordedV2, FollowUpDueV1, FollowUpRecordedV1, LearningPlanCompletedV1,
    LearningPlanDueV1, NetworkMeetingClosedV1, NetworkMeetingRequestedV1, NetworkMeetingScheduledV1,
    NetworkMemberAddedV1, NetworkMemberRemovedV1, PlanOpenedV1, PlanVersionCreatedV1,
    SafetyRatingChangedV1, TryghedsplanRevisedV1,
)
from contracts.referrals import VisitationDecidedV1
from tovholder import clock
from tovholder import consent as kit_consent
from tovholder.access import actor_from, authorize
from tovholder.auth import Principal
from tovholder.errors import Forbidden, NotFound
from tovholder.uow import UnitOfWork
from services.plans import repository
from services.plans.domain import access
from services.plans.domain import consent as consent_rules
from services.plans.domain import fit as fit_rules
from services.plans.domain import health_proposals as proposal_rules
from services.plans.domain import meetings as meeting_rules
from services.plans.domain import network as network_rules
from services.plans.domain import plan as plan_rules
from services.plans.domain import safety as safety_rules
from services.plans.domain import staff as staff_rules
from services.plans.domain.access import Action as Can
from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.followup import SubjectKind, mark_announced, record_follow_up, to_announce
from services.plans.domain.plan import Author, AuthorRole, GoalStatus
from services.plans.repository import to_json

if TYPE_CHECKING:  # rows pass through from the repository; request models are the use cases' input
    from services.plans import schemas
    from services.plans.models import (
        FollowUpScheduleRow, LearningPlanRow, NetworkMemberRow, Plan, SafetyRatingRow,
    )

log = logging.getLogger(__name__)

ANNOUNCE_BATCH = 200
now = clock.now


def local_today(at: datetime | None = None) -> date:
    """Follow-ups are due on calendar days where the botilbud are (Copenhagen)."""
    return clock.local_date(at) if at else clock.today()


# --- access --------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What a use case knows about the citizen once the caller is let in."""

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
    deactivated = await learn_staff(uow, user)
    # A token outlives the employment by its lifetime: once the register says someone has left, plans
    # stops trusting their tokens at once instead of waiting for the identity provider to stop issuing.
    if deactivated is None and user.role in staff_rules.BOTILBUD_STAFF_ROLES:
        deactivated = await repository.deactivated_by_register(uow, user.sub)  # a token the directory cannot learn from
    if deactivated:
        authorize(False, "Ikke tilladt: du er fratrådt ifølge kommunens medarbejderregister.",
                  en="Not allowed: the municipality's staff register has deactivated this user.",
                  citizen_id=citizen_id, action=f"{can.value}.denied", object_type="plan")
    plan = await repository.plan_of(uow, citizen_id, for_update=lock)
    rows = await repository.network_rows(uow, citizen_id, for_update=lock and can == Can.CHANGE_NETWORK)
    consents = await repository.consents_of(uow, citizen_id) if user.role == "partner" else []
    viewer = actor_from(user)
    decision = access.decide(viewer, can, citizen_id=str(citizen_id), network=[r.staff_id for r in rows],
                             botilbud_id=plan.botilbud_id, consents=consents, at=now(),
                             network_is_empty=not rows)
    # A refusal is audited by the kit (``<action>.denied``, naming the citizen and the plan).
    # Neither the citizen nor staff of the citizen's botilbud or network: the answer for a citizen
    # without a plan, so nobody learns that a citizen exists (or has a plan) by being refused.
    outsider = decision.relation in (access.Relation.OTHER, access.Relation.PARTNER)
    if not decision.allowed:
        await uow.commit()  # the staff directory keeps who signed in, even when this request is refused
    authorize(decision.allowed, f"Ikke tilladt: {decision.reason}.", en=f"Not allowed: {decision.en}.", hide=outsider,
              not_found=repository.NO_PLAN, not_found_en=repository.NO_PLAN_EN, citizen_id=citizen_id,
              action=f"{can.value}.denied", object_type="plan", object_id=plan.id)
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


# --- Borgerens Plan ------------------------------------------------------------------------------


def plan_view(plan: Plan, version: plan_rules.PlanVersion) -> dict[str, Any]:
    body = to_json(version)
    return {"plan_id": str(plan.id), "citizen_id": str(plan.citizen_id), "botilbud_id": plan.botilbud_id,
            "status": plan.status, "opened_at": plan.opened_at, "version": version.number,
            "updated_at": version.created_at, "updated_by": version.created_by.id, "change": version.change,
            "cadence": body["cadence"], "goals": body["goals"], "entries": body["entries"]}


async def prepare_events(uow: UnitOfWork, events: list[Any]) -> None:
    """Before a consumer batch's handlers: the plans its events ask about, in one SELECT."""
    citizens = [e.citizen_id for e in events if isinstance(e, (VisitationDecidedV1, TovholderChosenV1))]
    await repository.look_up_plans(uow, citizens)


async def open_plan(uow: UnitOfWork, event: VisitationDecidedV1, *, cause: str) -> None:
    """A place was granted: open the citizen's plan (once). The kit commits with the inbox entry."""
    if event.decision != "granted" or not event.botilbud_id:
        return
    if await repository.find_plan(uow, event.citizen_id) is not None:
        return
    opened_at = now()
    plan = await repository.add_plan(uow, citizen_id=event.citizen_id, botilbud_id=event.botilbud_id,
                                     opened_at=opened_at)
    uow.emit(PlanOpenedV1(citizen_id=event.citizen_id, plan_id=plan.id, botilbud_id=event.botilbud_id,
                          opened_at=opened_at))
    uow.audit(None, "plan.open", citizen_id=event.citizen_id, object_type="plan", object_id=plan.id,
              detail={"cause": cause})


async def get_plan(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    version = await repository.current_version(uow, scope.plan)
    audit(uow, scope, "plan.read", "plan", scope.plan.id, version=version.number)
    await uow.commit()
    return plan_view(scope.plan, version)


async def list_versions(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> list[dict[str, Any]]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    await repository.current_version(uow, scope.plan)
    rows = await repository.version_summaries(uow, scope.plan)
    audit(uow, scope, "plan.versions.read", "plan", scope.plan.id)
    await uow.commit()
    return [{"version": r.number, "created_at": r.created_at, "created_by": r.created_by, "change": r.change}
            for r in rows]


async def get_version(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, number: int) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    version = await repository.version_number(uow, scope.plan, number)
    audit(uow, scope, "plan.read", "plan", scope.plan.id, version=number)
    await uow.commit()
    return plan_view(scope.plan, version)


async def diff(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, from_version: int,
               to_version: int | None) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    newest = await repository.current_version(uow, scope.plan)
    older = await repository.version_number(uow, scope.plan, from_version)
    newer = newest if to_version is None else await repository.version_number(uow, scope.plan, to_version)
    result = plan_rules.diff_versions(older, newer)
    audit(uow, scope, "plan.diff.read", "plan", scope.plan.id, versions=[result.from_version, result.to_version])
    await uow.commit()
    return {"from": result.from_version, "to": result.to_version,
            "changes": [{"path": c.path, "kind": c.kind.value, "before": to_json(c.before), "after": to_json(c.after)}
                        for c in result.changes]}


async def _write(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, can: Can = Can.WRITE_PLAN):
    scope = await enter(uow, user, citizen_id, can, lock=True)
    return scope, await repository.current_version(uow, scope.plan)


def _with_citizen(scope: Scope, flag: bool | None) -> bool | None:
    # What the citizen writes is written with the citizen.
    return True if scope.is_citizen else flag


async def _commit_version(uow: UnitOfWork, scope: Scope, version: plan_rules.PlanVersion, *, goal_ids,
                          written_with_citizen: bool | None, object_type: str, object_id: Any) -> dict[str, Any]:
    plan = scope.plan
    repository.save_version(uow, plan, version)
    uow.emit(PlanVersionCreatedV1(
        citizen_id=plan.citizen_id, plan_id=plan.id, version=version.number, change=version.change,
        goal_ids=list(goal_ids), created_at=version.created_at, created_by=version.created_by.id,
        written_with_citizen=written_with_citizen,
    ))
    audit(uow, scope, f"plan.{version.change}", object_type, object_id, version=version.number)
    await uow.commit()
    return plan_view(plan, version)


def _anchor(follow_up_from: date | None, today: date) -> date:
    anchor = follow_up_from or today
    if anchor > today:
        raise PlanRuleViolation("tæl kadencen fra i dag eller en tidligere dag", field="follow_up_from")
    return anchor


async def add_goal(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.GoalIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    cadence = body.cadence.to_cadence() if body.cadence else None
    today = local_today()
    anchor = _anchor(body.follow_up_from, today)
    goal = plan_rules.new_goal(goal_id=uuid.uuid4(), text=body.text, kind=body.kind, cadence=cadence,
                               written_with_citizen=_with_citizen(scope, body.written_with_citizen),
                               follow_up_owner=body.follow_up_owner)
    new = plan_rules.add_goal(version, goal, by=scope.author, at=now())
    if cadence is not None:
        row = await repository.set_schedule(uow, scope.plan, subject=SubjectKind.GOAL, subject_id=goal.goal_id,
                                            cadence=cadence, anchor=anchor, assignee=goal.follow_up_owner)
        _announce_if_due(uow, scope, row, today)
    result = await _commit_version(uow, scope, new, goal_ids=[goal.goal_id], written_with_citizen=goal.written_with_citizen,
                                   object_type="goal", object_id=goal.goal_id)
    return {**result, "goal_id": str(goal.goal_id)}


def _announce_if_due(uow: UnitOfWork, scope: Scope, row: FollowUpScheduleRow | None, today: date) -> None:
    """A schedule counted from an earlier day may be due already: announce it now, not at the next round."""
    if row is None or not row.active or row.due_on > today or row.announced_for == row.due_on:
        return
    owner = row.assignee or repository.as_network(scope.citizen_id, scope.network_rows).follow_up_owner()
    announce(uow, row, assignee=owner, botilbud_id=scope.plan.botilbud_id)


async def change_goal(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, goal_id: uuid.UUID,
                      body: schemas.GoalChangeIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    cadence = body.cadence.to_cadence() if body.cadence else None
    flag = _with_citizen(scope, body.written_with_citizen)
    new = plan_rules.change_goal(version, goal_id, by=scope.author, at=now(), text=body.text, kind=body.kind,
                                 cadence=cadence, clear_cadence=body.clear_cadence, status=body.status,
                                 written_with_citizen=flag, follow_up_owner=body.follow_up_owner)
    goal = new.goal(goal_id)
    active = goal.status == GoalStatus.ACTIVE and goal.cadence is not None
    today = local_today()
    row = await repository.set_schedule(uow, scope.plan, subject=SubjectKind.GOAL, subject_id=goal_id,
                                        cadence=goal.cadence if active else None, anchor=today,
                                        assignee=goal.follow_up_owner)
    _announce_if_due(uow, scope, row, today)
    return await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=flag,
                                 object_type="goal", object_id=goal_id)


async def add_sub_goal(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, goal_id: uuid.UUID,
                       body: schemas.SubGoalIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    smart = plan_rules.SmartFields(**body.smart.model_dump()) if body.smart else None
    sub = plan_rules.new_sub_goal(sub_goal_id=uuid.uuid4(), text=body.text, kind=body.kind, smart=smart,
                                  written_with_citizen=_with_citizen(scope, body.written_with_citizen))
    new = plan_rules.add_sub_goal(version, goal_id, sub, by=scope.author, at=now())
    result = await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=sub.written_with_citizen,
                                   object_type="sub-goal", object_id=sub.sub_goal_id)
    return {**result, "sub_goal_id": str(sub.sub_goal_id)}


async def add_action(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, goal_id: uuid.UUID,
                     body: schemas.ActionIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    action = plan_rules.new_action(action_id=uuid.uuid4(), text=body.text,
                                   responsible=plan_rules.ResponsibleActor(body.responsible.kind, body.responsible.ref),
                                   due_on=body.due_on, written_with_citizen=_with_citizen(scope, body.written_with_citizen),
                                   today=local_today())
    new = plan_rules.add_action(version, goal_id, action, by=scope.author, at=now())
    result = await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=action.written_with_citizen,
                                   object_type="action", object_id=action.action_id)
    return {**result, "action_id": str(action.action_id)}


async def action_done(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, goal_id: uuid.UUID,
                      action_id: uuid.UUID, body: schemas.ActionDoneIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    at = now()
    new = plan_rules.complete_action(version, goal_id, action_id, done_on=body.done_on or local_today(at),
                                     by=scope.author, at=at)
    return await _commit_version(uow, scope, new, goal_ids=[goal_id], written_with_citizen=None,
                                 object_type="action", object_id=action_id)


async def add_entry(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.EntryIn) -> dict[str, Any]:
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


async def set_plan_cadence(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                           body: schemas.PlanCadenceIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    if scope.is_citizen:
        raise Forbidden("Ikke tilladt: planens opfølgningsrytme fastsættes af medarbejderne i dit netværk.")
    cadence = body.cadence.to_cadence() if body.cadence else None
    today = local_today()
    anchor = _anchor(body.follow_up_from, today)
    new = plan_rules.set_plan_cadence(version, cadence, by=scope.author, at=now())
    row = await repository.set_schedule(uow, scope.plan, subject=SubjectKind.PLAN, subject_id=scope.plan.id,
                                        cadence=cadence, anchor=anchor, assignee=None)
    _announce_if_due(uow, scope, row, today)
    return await _commit_version(uow, scope, new, goal_ids=[], written_with_citizen=None, object_type="plan",
                                 object_id=scope.plan.id)


# --- follow-ups ----------------------------------------------------------------------------------


def schedule_view(row: FollowUpScheduleRow, today: date) -> dict[str, Any]:
    current = repository.as_schedule(row)
    return {"subject": row.subject, "subject_id": str(row.subject_id), "cadence": current.cadence.label,
            "anchor": row.anchor, "due_on": row.due_on, "late_after": current.late_after,
            "due": current.is_due(today), "late": current.is_late(today), "assignee": row.assignee}


async def list_follow_ups(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_PLAN)
    today = local_today()
    schedules = await repository.active_schedules(uow, scope.plan)
    held = await repository.held_follow_ups(uow, scope.plan)
    audit(uow, scope, "plan.follow-ups.read", "plan", scope.plan.id)
    await uow.commit()
    return {"schedules": [schedule_view(r, today) for r in schedules],
            "held": [{"follow_up_id": str(f.id), "subject": f.subject, "subject_id": str(f.subject_id),
                      "held_on": f.held_on, "outcome": f.outcome, "next_due_on": f.next_due_on,
                      "recorded_by": f.recorded_by, "written_with_citizen": f.written_with_citizen} for f in held]}


async def add_follow_up(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                        body: schemas.FollowUpIn) -> dict[str, Any]:
    scope, version = await _write(uow, user, citizen_id)
    if scope.is_citizen:
        raise Forbidden("Ikke tilladt: opfølgninger registreres af medarbejderne i dit netværk; skriv i stedet en "
                        "kommentar til planen.")
    if body.subject == SubjectKind.GOAL:
        if body.goal_id is None:
            raise PlanRuleViolation("angiv, hvilket mål der er fulgt op på", field="goal_id")
        version.goal(body.goal_id)
        subject_id = body.goal_id
    else:
        if body.goal_id is not None:
            raise PlanRuleViolation("en opfølgning på planen gælder hele planen; udelad goal_id", field="goal_id")
        subject_id = scope.plan.id
    row = await repository.schedule_row(uow, subject_id)
    if row is None or not row.active:
        raise PlanRuleViolation(f"{'planen' if body.subject == SubjectKind.PLAN else 'målet'} har ingen opfølgningskadence; sæt en først", field="subject")
    record, moved = record_follow_up(repository.as_schedule(row), follow_up_id=uuid.uuid4(), held_on=body.held_on,
                                     outcome=body.outcome, recorded_by=user.sub,
                                     written_with_citizen=body.written_with_citizen, today=local_today(),
                                     next_due_on=body.next_due_on)
    repository.apply_schedule(row, moved)
    repository.add_follow_up(uow, scope.plan, record)
    uow.emit(FollowUpRecordedV1(citizen_id=scope.citizen_id, plan_id=scope.plan.id, follow_up_id=record.follow_up_id,
                                subject=record.subject.value, subject_id=record.subject_id, held_on=record.held_on,
                                next_due_on=record.next_due_on, recorded_by=record.recorded_by,
                                botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "plan.follow-up.record", f"{record.subject.value}-follow-up", record.follow_up_id)
    await uow.commit()
    return {"follow_up_id": str(record.follow_up_id), "next_due_on": record.next_due_on,
            "schedule": schedule_view(row, local_today())}


def announce(uow: UnitOfWork, row: FollowUpScheduleRow, *, assignee: str | None, botilbud_id: str | None) -> None:
    """Emit FollowUpDueV1 for the schedule's due date and remember that it was announced."""
    current = repository.as_schedule(row)
    uow.emit(FollowUpDueV1(
        citizen_id=row.citizen_id, plan_id=row.plan_id, subject=row.subject, subject_id=row.subject_id,
        due_on=current.due_on, late_after=current.late_after, cadence=current.cadence.label,
        assignee=assignee, botilbud_id=botilbud_id,
    ))
    repository.apply_schedule(row, mark_announced(current))
    uow.audit(None, "follow-up.due", citizen_id=row.citizen_id, object_type=f"{row.subject}-follow-up",
              object_id=row.subject_id, detail={"due_on": current.due_on.isoformat(), "assignee": assignee})


async def announce_due_follow_ups(uow: UnitOfWork, *, today: date, limit: int = ANNOUNCE_BATCH) -> int:
    """Emit FollowUpDueV1 for every due, not yet announced follow-up (up to ``limit``). Commits.

    ``FOR UPDATE SKIP LOCKED`` lets replicas share the work without announcing twice, and
    ``announced_for`` makes a rerun after a crash harmless."""
    rows = await repository.due_schedules(uow, today=today, limit=limit)
    by_subject = {r.subject_id: r for r in rows}
    due = to_announce([repository.as_schedule(r) for r in rows], today)
    botilbud: dict = {}
    owners: dict = {}  # one network lookup per citizen per round
    for item in due:
        row = by_subject[item.subject_id]
        if row.plan_id not in botilbud:
            plan = await repository.plan_by_id(uow, row.plan_id)
            botilbud[row.plan_id] = plan.botilbud_id if plan else None
        if row.assignee is None and row.citizen_id not in owners:
            owners[row.citizen_id] = (await repository.network_of(uow, row.citizen_id)).follow_up_owner()
        announce(uow, row, assignee=row.assignee or owners.get(row.citizen_id), botilbud_id=botilbud[row.plan_id])
    await uow.commit()
    return len(due)


# --- network -------------------------------------------------------------------------------------


def network_view(citizen_id: uuid.UUID, rows: list[NetworkMemberRow],
                 directory: dict[str, staff_rules.StaffMember] | None = None) -> dict[str, Any]:
    net = repository.as_network(citizen_id, rows)
    directory = directory or {}

    def member(r: NetworkMemberRow) -> dict[str, Any]:
        known = directory.get(r.staff_id)
        return {"staff_id": r.staff_id, "role": r.role, "basis": r.basis, "added_at": r.added_at,
                "added_by": r.added_by, "kind": r.kind or network_rules.MemberKind.STAFF.value,
                "name": r.name or (known.name if known else None), "organisation": r.organisation,
                # False: the staff register deactivated them (fratrådt); the membership stays until removed
                "active": known.active if known else True}

    return {"citizen_id": str(citizen_id),
            "members": [member(r) for r in rows],
            "tovholder": net.tovholder.staff_id if net.tovholder else None,
            "coordinator": net.coordinator.staff_id if net.coordinator else None,
            "missing_fixed_roles": [r.value for r in net.missing_fixed_roles()],
            "size": len(net.staff_members()), "max_size": network_rules.MAX_MEMBERS}


async def _network_answer(uow: UnitOfWork, citizen_id: uuid.UUID, rows: list[NetworkMemberRow]) -> dict[str, Any]:
    directory = await repository.staff_of(uow, [r.staff_id for r in rows if r.kind != "external"])
    return network_view(citizen_id, rows, directory)


async def learn_staff(uow: UnitOfWork, user: Principal) -> bool | None:
    """The staff directory learns who signed in (the identity provider vouched for the claims). Answers
    whether the register has deactivated them (one statement for both); None when the token taught nothing."""
    member = staff_rules.from_token(sub=user.sub, role=user.role, botilbud=user.botilbud)
    if member is None:
        return None
    return await repository.remember_staff(uow, member)


async def get_network(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_NETWORK)
    answer = await _network_answer(uow, scope.citizen_id, scope.network_rows)
    audit(uow, scope, "network.read", "network", citizen_id)
    await uow.commit()
    return answer


async def network_candidates(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    """The staff of the citizen's botilbud that plans knows and who are not in the network yet: whom
    the citizen can choose from."""
    scope = await enter(uow, user, citizen_id, Can.READ_NETWORK)
    members = {r.staff_id for r in scope.network_rows}
    staff = [s for s in await repository.staff_at(uow, scope.plan.botilbud_id) if s.staff_id not in members]
    audit(uow, scope, "network.candidates.read", "network", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "botilbud_id": scope.plan.botilbud_id,
            "staff": [{"staff_id": s.staff_id, "role": s.role, "name": s.name} for s in staff]}


def _may_change_network(scope: Scope, basis: network_rules.ChangeBasis) -> None:
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF and basis != network_rules.ChangeBasis.INITIAL_ASSIGNMENT:
        raise Forbidden("Ikke tilladt: medarbejdere uden for netværket kan kun lave den første tildeling "
                        "(basis initial-assignment); derefter vælger borgeren selv.")
    if scope.is_citizen and basis != network_rules.ChangeBasis.CITIZEN_CHOICE:
        raise PlanRuleViolation("det, borgeren selv ændrer, er borgerens eget valg (basis citizen-choice)",
                                field="basis")


async def add_member(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.MemberIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    _may_change_network(scope, body.basis)
    at = now()
    current = repository.as_network(citizen_id, scope.network_rows)
    if body.external is not None:
        net = network_rules.add_external_partner(
            current, member_id=f"{staff_rules.EXTERNAL_PREFIX}{uuid.uuid4()}", name=body.external.name,
            organisation=body.external.organisation, role=body.role, at=at, basis=body.basis)
    else:
        known = await repository.staff_member(uow, (body.staff_id or "").strip())
        staff_rules.require_may_join(body.staff_id or "", known, botilbud_id=scope.plan.botilbud_id)
        departed: dict[str, str] = {}
        if network_rules.is_full(current):  # the refusal names who has left (fratrådt): remove them first
            directory = await repository.staff_of(uow, [m.staff_id for m in current.staff_members()])
            departed = {i: m.name or i for i, m in directory.items() if not m.active}
        net = network_rules.add_member(current, staff_id=body.staff_id or "", role=body.role, at=at, basis=body.basis,
                                       departed=departed)
    member = net.members[-1]
    row = repository.add_member(uow, citizen_id, staff_id=member.staff_id, role=member.role.value,
                                basis=member.basis.value, added_at=at, added_by=user.sub, kind=member.kind.value,
                                name=member.name, organisation=member.organisation)
    uow.emit(NetworkMemberAddedV1(citizen_id=citizen_id, staff_id=member.staff_id, role=member.role.value,
                                  added_at=at, basis=member.basis.value, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.member.add", "network-member", member.staff_id, role=member.role.value,
          kind=member.kind.value)
    answer = await _network_answer(uow, scope.citizen_id, [*scope.network_rows, row])
    await uow.commit()
    return answer


async def remove_member(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, staff_id: str) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF:
        raise Forbidden("Ikke tilladt: kun borgeren, eller en medarbejder i netværket på borgerens vegne, fjerner "
                        "medlemmer.")
    _, removed = network_rules.remove_member(repository.as_network(citizen_id, scope.network_rows), staff_id=staff_id)
    at = now()
    row = next(r for r in scope.network_rows if r.staff_id == staff_id)
    repository.end_member(row, at=at, by=user.sub)
    uow.emit(NetworkMemberRemovedV1(citizen_id=citizen_id, staff_id=staff_id, role=removed.role.value, removed_at=at,
                                    botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.member.remove", "network-member", staff_id, role=removed.role.value)
    answer = await _network_answer(uow, scope.citizen_id, [r for r in scope.network_rows if r.staff_id != staff_id])
    await uow.commit()
    return answer


async def change_member_role(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, staff_id: str,
                             body: schemas.RoleIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_NETWORK, lock=True)
    if scope.decision.relation == access.Relation.BOTILBUD_STAFF:
        raise Forbidden("Ikke tilladt: kun borgeren, eller en medarbejder i netværket på borgerens vegne, ændrer "
                        "roller.")
    before = repository.as_network(citizen_id, scope.network_rows)
    after = network_rules.change_role(before, staff_id=staff_id, role=body.role,
                                      previous_holder_role=body.previous_holder_role)
    at = now()
    new_roles = {m.staff_id: m.role.value for m in after.members}
    changed = [r for r in scope.network_rows if new_roles[r.staff_id] != r.role]
    # A role change is a removal and an addition, so consumers' read models need no third event; a
    # handover changes two members in one transaction, so the seat is never empty in between.
    for old in changed:
        repository.end_member(old, at=at, by=user.sub)
    await repository.flush(uow)
    replaced: dict[str, NetworkMemberRow] = {}
    for old in changed:
        role = new_roles[old.staff_id]
        replaced[old.staff_id] = repository.add_member(
            uow, citizen_id, staff_id=old.staff_id, role=role, basis=old.basis, added_at=at, added_by=user.sub,
            kind=old.kind, name=old.name, organisation=old.organisation)
        uow.emit(NetworkMemberRemovedV1(citizen_id=citizen_id, staff_id=old.staff_id, role=old.role, removed_at=at,
                                        botilbud_id=scope.plan.botilbud_id))
        uow.emit(NetworkMemberAddedV1(citizen_id=citizen_id, staff_id=old.staff_id, role=role, added_at=at,
                                      basis=old.basis, botilbud_id=scope.plan.botilbud_id))
        audit(uow, scope, "network.member.role", "network-member", old.staff_id, role=role, previous=old.role)
    answer = await _network_answer(uow, scope.citizen_id, [replaced.get(r.staff_id, r) for r in scope.network_rows])
    await uow.commit()
    return answer


TOVHOLDER_CHOSEN_BY = "health:tovholder-chosen"


async def follow_the_chosen_tovholder(uow: UnitOfWork, event: TovholderChosenV1, *, cause: str) -> None:
    """The citizen chose (or changed) their nurse consultant as tovholder in health: the network's
    nurse-consultant seat follows that choice. The previous nurse consultant leaves the network (the
    seat was theirs by that role); the chosen one joins it, or takes the seat if already a member.
    The kit commits with the inbox entry."""
    plan = await repository.find_plan(uow, event.citizen_id)
    if plan is None:
        return  # no plan yet: the network starts with the plan
    rows = await repository.network_rows(uow, event.citizen_id, for_update=True)
    network = repository.as_network(event.citizen_id, rows)
    chosen = event.nurse_consultant_sub
    current = network.tovholder
    if current is not None and current.staff_id == chosen:
        return
    leaving = [m.staff_id for m in network.members if m.staff_id == chosen or m is current]
    remaining = replace(network, members=tuple(m for m in network.members if m.staff_id not in leaving))
    at = now()
    try:
        network_rules.add_member(remaining, staff_id=chosen, role=network_rules.NetworkRole.NURSE_CONSULTANT, at=at,
                                 basis=network_rules.ChangeBasis.CITIZEN_CHOICE)
    except PlanRuleViolation as exc:
        # A full network cannot take the tovholder; the citizen must choose whom to remove first.
        log.warning("tovholder not added to a citizen's network: %s", exc.message)
        uow.audit(None, "network.tovholder.not-added", citizen_id=event.citizen_id, object_type="network-member",
                  object_id=chosen, detail={"reason": exc.message, "cause": cause})
        return
    for staff_id in leaving:
        row = next(r for r in rows if r.staff_id == staff_id and r.removed_at is None)
        repository.end_member(row, at=at, by=TOVHOLDER_CHOSEN_BY)
        uow.emit(NetworkMemberRemovedV1(citizen_id=plan.citizen_id, staff_id=staff_id, role=row.role, removed_at=at,
                                        botilbud_id=plan.botilbud_id))
    await repository.flush(uow)  # end the old memberships before the new one (one current row per staff)
    repository.add_member(uow, event.citizen_id, staff_id=chosen, role=network_rules.NetworkRole.NURSE_CONSULTANT.value,
                          basis=network_rules.ChangeBasis.CITIZEN_CHOICE.value, added_at=at, added_by=TOVHOLDER_CHOSEN_BY)
    uow.emit(NetworkMemberAddedV1(citizen_id=event.citizen_id, staff_id=chosen,
                                  role=network_rules.NetworkRole.NURSE_CONSULTANT.value, added_at=at,
                                  basis=network_rules.ChangeBasis.CITIZEN_CHOICE.value, botilbud_id=plan.botilbud_id))
    uow.audit(None, "network.tovholder.chosen", citizen_id=event.citizen_id, object_type="network-member",
              object_id=chosen, detail={"cause": cause, "previous": current.staff_id if current else None})


# --- safety: tryghedsplan, LA2, learning plans, BVC ---------------------------------------------


def rating_view(row: SafetyRatingRow | None, at: datetime) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"rating_id": str(row.id), "level": row.level, "reason": row.reason, "rated_at": row.rated_at,
            "rated_by": row.rated_by, "reassess_at": row.reassess_at,
            "reassessment_overdue": bool(row.reassess_at and at > row.reassess_at),
            "citizen_told_at": row.citizen_told_at, "citizen_told_by": row.citizen_told_by,
            "not_told_reason": row.not_told_reason}


def learning_plan_view(row: LearningPlanRow, at: datetime) -> dict[str, Any]:
    return {"learning_plan_id": str(row.id), "episode_started_at": row.episode_started_at,
            "episode_ended_at": row.episode_ended_at, "looks_back_from": row.looks_back_from, "due_at": row.due_at,
            "late": row.completed_at is None and at > row.due_at, "outcome": row.outcome,
            "written_with_staff_id": row.written_with_staff_id, "completed_at": row.completed_at,
            "what_happened": row.what_happened, "what_helped": row.what_helped, "citizen_view": row.citizen_view,
            "staff_view": row.staff_view, "citizen_took_part": row.citizen_took_part}


async def get_safety(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_SAFETY)
    at = now()
    plan = await repository.tryghedsplan_of(uow, citizen_id)
    body: dict[str, Any] = {"citizen_id": str(citizen_id), "tryghedsplan": to_json(plan) if plan else None}
    if scope.decision.relation != access.Relation.PARTNER:
        # A consent to the safety plan covers the tryghedsplan, not staff's ratings and episode notes.
        learning = await repository.recent_learning_plans(uow, citizen_id, limit=20)
        bvc = await repository.latest_bvc(uow, citizen_id)
        body["rating"] = rating_view(await repository.current_rating(uow, citizen_id), at)
        body["learning_plans"] = [learning_plan_view(r, at) for r in learning]
        body["bvc"] = ({"scored_at": bvc.scored_at, "total": bvc.total, "observed": bvc.items["observed"],
                        "band": safety_rules.BvcScore(bvc.scored_at, bvc.scored_by, tuple(bvc.items["observed"])).band.value}
                       if bvc else None)
    audit(uow, scope, "safety.read", "tryghedsplan", citizen_id)
    await uow.commit()
    return body


async def list_tryghedsplan_versions(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every version of the tryghedsplan, newest first (whoever may read the tryghedsplan may read its history)."""
    scope = await enter(uow, user, citizen_id, Can.READ_SAFETY)
    versions = await repository.tryghedsplan_versions(uow, citizen_id)
    audit(uow, scope, "tryghedsplan.versions.read", "tryghedsplan", citizen_id)
    await uow.commit()
    return [to_json(v) for v in versions]


async def list_ratings(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> list[dict[str, Any]]:
    """The LA2 ratings, newest first. Staff's ratings only: a partner's consent to the safety plan does not cover them."""
    scope = await enter(uow, user, citizen_id, Can.READ_SAFETY)
    authorize(scope.decision.relation != access.Relation.PARTNER,
              "Ikke tilladt: et samtykke til tryghedsplanen dækker tryghedsplanen, ikke vurderingerne.",
              en="Not allowed: a consent to the safety plan covers the tryghedsplan, not the ratings.",
              citizen_id=citizen_id, action=f"{Can.READ_SAFETY.value}.denied", object_type="safety-rating",
              object_id=citizen_id)
    at = now()
    rows = await repository.rating_history(uow, citizen_id)
    audit(uow, scope, "safety.ratings.read", "safety-rating", citizen_id)
    await uow.commit()
    return [rating_view(row, at) for row in rows]


async def revise_tryghedsplan(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                              body: schemas.TryghedsplanIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.WRITE_TRYGHEDSPLAN, lock=True)
    current = await repository.tryghedsplan_of(uow, citizen_id)
    at = now()
    revised = safety_rules.revise_tryghedsplan(
        current, triggers=body.triggers, early_signs=body.early_signs, what_helps=body.what_helps,
        staff_should_do=body.staff_should_do, staff_should_avoid=body.staff_should_avoid,
        as_needed_medication_note=body.as_needed_medication_note,
        written_with_citizen=_with_citizen(scope, body.written_with_citizen), at=at, by=user.sub)
    repository.add_tryghedsplan(uow, citizen_id, revised, at=at, by=user.sub)
    uow.emit(TryghedsplanRevisedV1(citizen_id=citizen_id, version=revised.version, revised_at=at, revised_by=user.sub,
                                   written_with_citizen=revised.written_with_citizen))
    audit(uow, scope, "tryghedsplan.revise", "tryghedsplan", citizen_id, version=revised.version)
    await uow.commit()
    return to_json(revised)


async def add_rating(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.RatingIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY, lock=True)
    previous_row = await repository.current_rating(uow, citizen_id, lock=True)
    previous = repository.as_rating(previous_row) if previous_row else None
    at = now()
    rating = safety_rules.rate(rating_id=uuid.uuid4(), level=body.level, reason=body.reason, rated_at=at,
                               rated_by=user.sub, reassess_at=body.reassess_at, previous=previous)
    if body.citizen_told:
        rating = safety_rules.record_citizen_told(rating, at=at, by=user.sub)
    row = repository.add_rating(uow, citizen_id, rating)
    uow.emit(SafetyRatingChangedV1(citizen_id=citizen_id, rating_id=rating.rating_id, level=rating.level.value,
                                   previous_level=previous.level.value if previous else None, rated_at=at,
                                   reassess_at=rating.reassess_at, citizen_told=rating.citizen_told,
                                   rated_by=user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "safety.rate", "safety-rating", rating.rating_id, level=rating.level.value)
    await uow.commit()
    return rating_view(row, at)


async def rating_told(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, rating_id: uuid.UUID,
                      body: schemas.ToldIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    row = await repository.rating_row(uow, citizen_id, rating_id)
    if row is None:
        raise NotFound("Borgeren har ingen sådan vurdering.")
    at = now()
    if body.not_told_reason is not None:
        updated = safety_rules.record_not_told(repository.as_rating(row), reason=body.not_told_reason)
    else:
        told_at = body.told_at or at
        if told_at > at:
            raise PlanRuleViolation("borgeren kan ikke have fået besked i fremtiden", field="told_at")
        updated = safety_rules.record_citizen_told(repository.as_rating(row), at=told_at, by=user.sub)
    repository.save_told(row, updated)
    audit(uow, scope, "safety.citizen-told", "safety-rating", rating_id, told=updated.citizen_told)
    await uow.commit()
    return rating_view(row, at)


async def open_learning_plan(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                             body: schemas.LearningPlanIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    at = now()
    if body.episode_ended_at > at:
        raise PlanRuleViolation("en læringsplan åbnes, efter episoden er slut", field="episode_ended_at")
    lp = safety_rules.open_learning_plan(learning_plan_id=uuid.uuid4(), episode_started_at=body.episode_started_at,
                                         episode_ended_at=body.episode_ended_at, outcome=body.outcome,
                                         looks_back_from=body.looks_back_from,
                                         written_with_staff_id=body.written_with_staff_id)
    row = repository.add_learning_plan(uow, citizen_id, lp, opened_by=user.sub)
    uow.emit(LearningPlanDueV1(citizen_id=citizen_id, learning_plan_id=lp.learning_plan_id,
                               episode_ended_at=lp.episode_ended_at, due_at=lp.due_at,
                               assignee=lp.written_with_staff_id or user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "safety.learning-plan.open", "learning-plan", lp.learning_plan_id)
    await uow.commit()
    return learning_plan_view(row, at)


async def complete_learning_plan(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, learning_plan_id: uuid.UUID,
                                 body: schemas.LearningPlanDoneIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    row = await repository.learning_plan_row(uow, citizen_id, learning_plan_id)
    if row is None:
        raise NotFound("Borgeren har ingen sådan læringsplan.")
    at = now()
    done = safety_rules.complete_learning_plan(repository.as_learning_plan(row), at=at, what_happened=body.what_happened,
                                               citizen_took_part=body.citizen_took_part, what_helped=body.what_helped,
                                               citizen_view=body.citizen_view, staff_view=body.staff_view)
    repository.save_learning_plan(row, done)
    uow.emit(LearningPlanCompletedV1(citizen_id=citizen_id, learning_plan_id=row.id, completed_at=at,
                                     late=at > row.due_at))
    audit(uow, scope, "safety.learning-plan.complete", "learning-plan", row.id, late=at > row.due_at)
    await uow.commit()
    return learning_plan_view(row, at)


async def add_bvc(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.BvcIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RATE_SAFETY)
    at = now()
    scored_at = body.scored_at or at
    if scored_at > at:
        raise PlanRuleViolation("en BVC-score kan ikke registreres, før den er scoret", field="scored_at")
    score = safety_rules.score_bvc(observed=body.observed, scored_at=scored_at, scored_by=user.sub)
    row = await repository.add_bvc(uow, citizen_id, score)
    audit(uow, scope, "safety.bvc", "bvc-score", row.id, total=score.total)
    await uow.commit()
    return {"bvc_id": str(row.id), "total": score.total, "band": score.band.value, "observed": list(score.items)}


# --- FIT -----------------------------------------------------------------------------------------


def _fit_items(name: str, score: fit_rules.ScaleScore | None) -> list[dict[str, Any]] | None:
    if score is None or score.items is None:
        return None
    return [{"key": key, "label": label, "score": value}
            for (key, label), value in zip(fit_rules.ITEMS[name], score.items)]


def fit_session_view(s: fit_rules.FitSession) -> dict[str, Any]:
    return {"session_id": str(s.session_id), "held_at": s.held_at, "recorded_by": s.recorded_by,
            "scale": s.scale, "ors": s.total("ors"), "srs": s.total("srs"),
            "ors_items": _fit_items("ors", s.ors), "srs_items": _fit_items("srs", s.srs),
            "ors_answered_with": s.ors.answered_with if s.ors else None,
            "srs_answered_with": s.srs.answered_with if s.srs else None,
            "ors_below_cutoff": s.below_cutoff("ors"), "srs_below_cutoff": s.below_cutoff("srs"),
            "shared_by_citizen": s.shared_by_citizen}


def fit_trend_view(sessions: list[fit_rules.FitSession], name: str) -> dict[str, Any]:
    t = fit_rules.trend(sessions, scale=name)
    return {"direction": t.direction.value, "slope_per_14_days": t.slope_per_14_days,
            "scale_max": fit_rules.TOTAL_MAX, "cutoff": t.cutoff, "cutoff_meaning": fit_rules.CUTOFF_MEANING_DA[name],
            "latest": t.latest, "latest_below_cutoff": t.latest_below_cutoff}


async def get_fit(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_FIT)
    stored = await repository.fit_sessions(uow, citizen_id)

    def visible(s: fit_rules.FitSession) -> bool:
        # The citizen sees everything; the staff member who held the session sees what was said to them.
        return scope.is_citizen or s.shared_by_citizen or s.recorded_by == user.sub

    if scope.decision.relation == access.Relation.PARTNER:
        stored = [s for s in stored if s.shared_by_citizen]
    sessions = [s if visible(s) else s.hidden() for s in stored]
    audit(uow, scope, "fit.read", "fit", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "sessions": [fit_session_view(s) for s in sessions],
            "trend": {"ors": fit_trend_view(sessions, "ors"), "srs": fit_trend_view(sessions, "srs")},
            "next_session_due": fit_rules.next_session_due(sessions, start=local_today())}


async def add_fit(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.FitIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.RECORD_FIT)
    ors_answer, srs_answer = body.answers()
    session = fit_rules.record_session(session_id=uuid.uuid4(), held_at=body.held_at, recorded_by=user.sub,
                                       ors=ors_answer, srs=srs_answer, shared_by_citizen=body.shared_by_citizen,
                                       now=now())
    repository.add_fit_session(uow, citizen_id, session)
    ors, srs = session.visible_scores()
    shared = session.shared_by_citizen
    uow.emit(FitRecordedV2(citizen_id=citizen_id, session_id=session.session_id, held_at=session.held_at,
                           shared=shared, ors=ors, srs=srs,
                           ors_below_cutoff=session.below_cutoff("ors") if shared else None,
                           srs_below_cutoff=session.below_cutoff("srs") if shared else None))
    audit(uow, scope, "fit.record", "fit-session", session.session_id, shared=shared)
    await uow.commit()
    return fit_session_view(session)


# --- consent -------------------------------------------------------------------------------------


def consent_view(c: consent_rules.ConsentRecord) -> dict[str, Any]:
    return {"consent_id": str(c.consent_id), "recipient_kind": c.recipient_kind, "recipient_id": c.recipient_id,
            "recipient_name": c.recipient_name, "category": c.category, "given_at": c.given_at, "given_by": c.given_by,
            "revoked_at": c.revoked_at, "revoked_by": c.revoked_by, "in_force": c.revoked_at is None}


async def list_consents(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_CONSENT)
    consents = await repository.consents_of(uow, citizen_id)
    audit(uow, scope, "consent.read", "consent", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "consents": [consent_view(c) for c in consents],
            "categories": sorted(c.value for c in consent_rules.CONSENTABLE_CATEGORIES),
            # What flows without consent, and to whom beyond the municipality (a basis may name nobody).
            "without_consent": [{"category": category, "legal_basis": b.reference,
                                 "recipients": sorted(str(r) for r in b.recipients),
                                 "description": b.description}
                                for b in kit_consent.LEGAL_BASES.values() for category in sorted(b.categories)]}


async def give_consent(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, body: schemas.ConsentIn) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_CONSENT, lock=True)
    at = now()
    record = consent_rules.give(consent_id=uuid.uuid4(), recipient_kind=body.recipient_kind,
                                recipient_id=body.recipient_id, category=body.category, at=at, by=user.sub,
                                existing=await repository.consents_of(uow, citizen_id),
                                recipient_name=(body.recipient_name or "").strip() or None)
    repository.add_consent(uow, citizen_id, record)
    uow.emit(ConsentGivenV1(citizen_id=citizen_id, consent_id=record.consent_id, recipient_kind=record.recipient_kind,
                            recipient_id=record.recipient_id, recipient_name=record.recipient_name,
                            category=record.category, given_at=at, recorded_by=user.sub))
    audit(uow, scope, "consent.give", "consent", record.consent_id, category=record.category,
          recipient=f"{record.recipient_kind}:{record.recipient_id}")
    await uow.commit()
    return consent_view(record)


async def revoke_consent(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, consent_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.CHANGE_CONSENT, lock=True)
    row = await repository.consent_row(uow, citizen_id, consent_id)
    if row is None:
        raise NotFound("Borgeren har intet sådant samtykke.")
    at = now()
    revoked = consent_rules.revoke(repository.as_consent(row), at=at, by=user.sub)
    repository.save_consent(row, revoked)
    uow.emit(ConsentRevokedV1(citizen_id=citizen_id, consent_id=row.id, recipient_kind=row.recipient_kind,
                              recipient_id=row.recipient_id, category=row.category, given_at=row.given_at,
                              revoked_at=at, recorded_by=user.sub))
    audit(uow, scope, "consent.revoke", "consent", row.id, category=row.category,
          recipient=f"{row.recipient_kind}:{row.recipient_id}")
    await uow.commit()
    return consent_view(revoked)


async def consent_decision(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, recipient_kind: str,
                           recipient_id: str, category: str, at: datetime | None) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_CONSENT)
    when = at or now()
    decision = consent_rules.may_receive(recipient_kind=recipient_kind, recipient_id=recipient_id, category=category,
                                         at=when, consents=await repository.consents_of(uow, citizen_id))
    audit(uow, scope, "consent.decide", "consent", citizen_id, category=category,
          recipient=f"{recipient_kind}:{recipient_id}", allowed=decision.allowed)
    await uow.commit()
    return {"allowed": decision.allowed, "basis": decision.basis.value, "reason": decision.reason,
            "consent_id": str(decision.consent_id) if decision.consent_id else None,
            "legal_reference": decision.legal_reference, "at": when}


# --- proposals from the health check -------------------------------------------------------------


def _proposal(row: Any) -> proposal_rules.Proposal:
    return proposal_rules.Proposal(row.decision_kind, row.title, row.held_at, proposal_rules.ProposalStatus(row.status),
                                   row.due_at, row.review_on)


def proposal_view(row: Any) -> dict[str, Any]:
    return {"proposal_id": str(row.id), "citizen_id": str(row.citizen_id), "health_check_id": str(row.health_check_id),
            "decision_kind": row.decision_kind, "title": row.title, "held_at": row.held_at, "due_at": row.due_at,
            "review_on": row.review_on, "responsible_sub": row.responsible_sub, "status": row.status,
            "proposed_text": proposal_rules.entry_text(_proposal(row)), "answered_by": row.answered_by,
            "answered_at": row.answered_at, "reason": row.reason,
            "entry_id": str(row.entry_id) if row.entry_id else None}


async def record_plan_proposal(uow: UnitOfWork, event: HealthCheckPlanEntryProposedV1, *, cause: str) -> None:
    """A decision from the health check's minutes: proposed for the plan, once (the kit commits)."""
    new = await repository.add_proposal(uow, dict(
        id=event.proposal_id, citizen_id=event.citizen_id, health_check_id=event.health_check_id,
        decision_kind=event.decision_kind, title=event.title, held_at=event.held_at, due_at=event.due_at,
        review_on=event.review_on, responsible_sub=event.responsible_sub, status=proposal_rules.ProposalStatus.PROPOSED.value))
    if new:
        uow.audit(None, "plan_proposal.received", citizen_id=event.citizen_id, object_type="plan_proposal",
                  object_id=event.proposal_id, detail={"cause": cause, "source": "health-check"})


async def list_plan_proposals(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.WRITE_PLAN)
    rows = await repository.proposals_of(uow, citizen_id)
    audit(uow, scope, "plan_proposal.read", "plan_proposal", None, count=len(rows))
    await uow.commit()
    return {"citizen_id": str(citizen_id), "proposals": [proposal_view(r) for r in rows]}


async def answer_plan_proposal(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, proposal_id: uuid.UUID,
                               body: "schemas.ProposalAnswerIn") -> dict[str, Any]:
    """The coordinator went through the proposal with the citizen: it becomes a plan entry written with the
    citizen, or is kept as declined with the reason."""
    scope, version = await _write(uow, user, citizen_id)
    row = await repository.proposal(uow, citizen_id, proposal_id)
    if row is None:
        raise NotFound("Intet sådant forslag til borgerens plan.")
    status = proposal_rules.answer(_proposal(row), accepted=body.accepted, with_citizen=body.with_citizen,
                                   reason=body.reason)
    at = now()
    row.status, row.answered_by, row.answered_at = status.value, user.sub, at
    row.reason = (body.reason or "").strip() or None
    if status is not proposal_rules.ProposalStatus.CONFIRMED:
        audit(uow, scope, "plan_proposal.declined", "plan_proposal", row.id)
        await uow.commit()
        return {"plan": None, "proposal": proposal_view(row)}
    entry = plan_rules.new_entry(entry_id=uuid.uuid4(), kind=plan_rules.EntryKind.STAFF_OBSERVATION,
                                 text=proposal_rules.entry_text(_proposal(row), body.text), author=scope.author,
                                 written_at=max(at, version.created_at), written_with_citizen=True)
    new = plan_rules.add_entry(version, entry, goal_id=body.goal_id)
    row.entry_id = entry.entry_id
    audit(uow, scope, "plan_proposal.confirmed", "plan_proposal", row.id, entry_id=str(entry.entry_id))
    plan = await _commit_version(uow, scope, new, goal_ids=[body.goal_id] if body.goal_id else [],
                                 written_with_citizen=True, object_type="entry", object_id=entry.entry_id)
    return {"plan": plan, "proposal": proposal_view(row)}


# --- the network meeting the citizen calls -------------------------------------------------------


def meeting_view(row: Any, today: date | None = None) -> dict[str, Any]:
    today = today or local_today()
    status = meeting_rules.MeetingStatus(row.status)
    return {"meeting_id": str(row.id), "citizen_id": str(row.citizen_id), "reason": row.reason,
            "wanted": list(row.wanted or []), "requested_at": row.requested_at, "requested_by": row.requested_by,
            "due_on": row.due_on, "late": status.is_open and today > row.due_on, "assignee": row.assignee,
            "status": row.status, "meeting_at": row.meeting_at, "place": row.place, "scheduled_by": row.scheduled_by,
            "closed_at": row.closed_at, "closed_by": row.closed_by, "note": row.note}


async def list_network_meetings(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    scope = await enter(uow, user, citizen_id, Can.READ_NETWORK)
    rows = await repository.network_meetings(uow, citizen_id)
    audit(uow, scope, "network.meetings.read", "network", citizen_id)
    await uow.commit()
    return {"citizen_id": str(citizen_id), "meetings": [meeting_view(r) for r in rows]}


async def call_network_meeting(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                               body: schemas.NetworkMeetingIn) -> dict[str, Any]:
    """The citizen calls a network meeting: stored with the deadline (5 working days), and an event that
    becomes a task for the citizen's coordinator (else the botilbud's coordinators), in one transaction."""
    scope = await enter(uow, user, citizen_id, Can.CALL_NETWORK_MEETING, lock=True)
    existing = await repository.network_meetings(uow, citizen_id, for_update=True)
    reason, wanted = meeting_rules.request(body.reason, body.wanted, open_statuses=[r.status for r in existing])
    at = now()
    coordinator = repository.as_network(citizen_id, scope.network_rows).coordinator
    row = repository.add_network_meeting(
        uow, citizen_id=citizen_id, plan_id=scope.plan.id, reason=reason, wanted=wanted, requested_at=at,
        requested_by=user.sub, due_on=meeting_rules.due_on(at), assignee=coordinator.staff_id if coordinator else None,
        status=meeting_rules.MeetingStatus.REQUESTED.value)
    uow.emit(NetworkMeetingRequestedV1(citizen_id=citizen_id, meeting_id=row.id, plan_id=scope.plan.id, requested_at=at,
                                       due_on=row.due_on, wanted_count=len(wanted), assignee=row.assignee,
                                       botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.meeting.request", "network-meeting", row.id, due_on=str(row.due_on))
    await uow.commit()
    return meeting_view(row)


async def schedule_network_meeting(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, meeting_id: uuid.UUID,
                                   body: schemas.NetworkMeetingScheduleIn) -> dict[str, Any]:
    """Staff in the network set (or move) the meeting's time; the citizen sees it on Mit netværk."""
    scope = await enter(uow, user, citizen_id, Can.RUN_NETWORK_MEETING, lock=True)
    row = await repository.network_meeting(uow, citizen_id, meeting_id)
    row.status = meeting_rules.schedule(row.status).value
    row.meeting_at, row.place, row.scheduled_by = body.meeting_at, (body.place or "").strip() or None, user.sub
    uow.emit(NetworkMeetingScheduledV1(citizen_id=citizen_id, meeting_id=row.id, meeting_at=body.meeting_at, due_on=row.due_on,
                                       scheduled_by=user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.meeting.schedule", "network-meeting", row.id)
    await uow.commit()
    return meeting_view(row)


async def close_network_meeting(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, meeting_id: uuid.UUID,
                                body: schemas.NetworkMeetingCloseIn) -> dict[str, Any]:
    """Staff in the network record the meeting as held, or call it off with a reason; the task closes."""
    scope = await enter(uow, user, citizen_id, Can.RUN_NETWORK_MEETING, lock=True)
    row = await repository.network_meeting(uow, citizen_id, meeting_id)
    outcome = meeting_rules.close(row.status, body.outcome, body.note)
    at = now()
    row.status, row.closed_at, row.closed_by = outcome.value, at, user.sub
    row.note = (body.note or "").strip() or None
    uow.emit(NetworkMeetingClosedV1(citizen_id=citizen_id, meeting_id=row.id, outcome=outcome.value, closed_at=at,
                                    closed_by=user.sub, botilbud_id=scope.plan.botilbud_id))
    audit(uow, scope, "network.meeting.close", "network-meeting", row.id, outcome=outcome.value)
    await uow.commit()
    return meeting_view(row)


# --- FIT: the citizen shares or stops sharing a session --------------------------------------------


async def share_fit_session(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, session_id: uuid.UUID,
                            body: schemas.FitSharingIn) -> dict[str, Any]:
    """The citizen decides whether staff beyond the one who held the session see its scores. No event:
    ``fit-recorded`` told consumers what was shared then; they read today's answer through the API."""
    scope = await enter(uow, user, citizen_id, Can.SHARE_FIT, lock=True)
    row = await repository.fit_session_row(uow, citizen_id, session_id)
    row.shared_by_citizen = body.shared_by_citizen
    audit(uow, scope, "fit.share" if body.shared_by_citizen else "fit.unshare", "fit-session", row.id)
    await uow.commit()
    return fit_session_view(repository.as_fit_session(row))
