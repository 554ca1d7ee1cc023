"""The annual health check: scheduling, preparation steps, decline/accept, the held check with its
decisions, the botilbud's overview, planning check days and the cadence."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from contracts.health import (
    HealthCheckDecisionRecordedV1,
    HealthCheckDeclinedV1,
    HealthCheckHeldV1,
    HealthCheckPlanEntryProposedV1,
    HealthCheckScheduledV1,
    HealthCheckStepCompletedV1,
    HealthCheckStepDueV1,
)
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain import health_check as hc
from services.health.domain.access import Action, Role
from services.health.domain.tovholder import ContactKind
from services.health.models import HealthCheck, HealthCheckDecision, HealthRecord, TimelineEntry
from services.health.services.common import NO_SUCH_CHECK, _aware, authorize, now_utc
from tovholder.auth import Principal
from tovholder.errors import Conflict, DomainError, Forbidden, NotFound
from tovholder.settings import get_settings
from tovholder.uow import UnitOfWork

# ==================================================================== the annual health check


def _check_out(check: HealthCheck, decisions: list[HealthCheckDecision] | None = None, today: date | None = None) -> dict[str, Any]:
    domain = repo.domain_check(check)
    readiness = hc.readiness(domain, today or now_utc().astimezone(hc.DANISH_TIME).date())
    deadlines = {d.step: d for d in hc.preparation_deadlines(domain.check_day)}
    out = {
        "health_check_id": str(check.id), "citizen_id": str(check.citizen_id), "year": check.year, "extended": check.extended,
        "starts_at": check.starts_at, "gp_practice": check.gp_practice, "status": check.status,
        "steps": [{"step": st.value, "status": readiness[st].value, "target": deadlines[st].target,
                   "deadline": deadlines[st].deadline, "role": deadlines[st].role} for st in hc.PreparationStep],
        "pre_assessment": check.pre_assessment, "examination": check.examination, "participants": check.participants,
        "minutes": check.minutes, "declined_at": check.declined_at, "decline_reason": check.decline_reason,
        "held_at": check.held_at, "pre_assessment_question": hc.THE_QUESTION,
    }
    if decisions is not None:
        out["decisions"] = [{"decision_id": str(d.id), "kind": d.kind, "title": d.title, "due_at": d.due_at,
                             "responsible_sub": d.responsible_sub, "reminders_at": d.reminders_at,
                             "review_on": d.review_on} for d in decisions]
    return out


def _announce(uow: UnitOfWork, check: HealthCheck, record: HealthRecord, *, only_steps_not_done: bool = False) -> None:
    """The check is on: its date with reminders, and each preparation step with its deadline."""
    deadlines = hc.preparation_deadlines(check.starts_at.astimezone(hc.DANISH_TIME).date())
    by_step = {d.step: d for d in deadlines}
    uow.emit(HealthCheckScheduledV1(
        citizen_id=record.citizen_id, health_check_id=check.id, year=check.year, extended=check.extended,
        starts_at=check.starts_at, gp_practice=check.gp_practice,
        pre_assessment_due=by_step[hc.PreparationStep.PRE_ASSESSMENT].target,
        preparation_due=by_step[hc.PreparationStep.MEDICATION_REVIEW].target,
        reminders_at=list(hc.reminders_before(check.starts_at, get_settings().reminder_schedule)), tovholder_sub=record.tovholder_sub,
        botilbud_id=record.botilbud_id,
    ))
    for d in deadlines:
        if only_steps_not_done and d.step.value in check.steps_done:
            continue
        uow.emit(HealthCheckStepDueV1(
            citizen_id=record.citizen_id, health_check_id=check.id, step=d.step.value, target=d.target, deadline=d.deadline,
            assignee_role=d.role, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id,
        ))


async def _schedule_check(uow: UnitOfWork, record: HealthRecord, starts_at: datetime, gp_practice: str | None,
                          *, actor: Principal) -> HealthCheck:
    starts_at = _aware(starts_at, "starts_at")
    check_day = starts_at.astimezone(hc.DANISH_TIME).date()
    hc.check_day_is_reachable(check_day, now_utc().astimezone(hc.DANISH_TIME).date())
    existing = await repo.check_of_year(uow, record.citizen_id, check_day.year)
    if existing is not None:
        raise Conflict(f"Borgeren har allerede et sundhedstjek i {check_day.year} "
                       f"({hc.CHECK_STATUS_DA.get(existing.status, existing.status)}); der er højst ét om året.")
    extended_years = await repo.extended_check_years(uow, record.citizen_id)
    cadence = await repo.cadence_of(uow, record.botilbud_id)
    check = HealthCheck(id=uuid.uuid4(), citizen_id=record.citizen_id, year=check_day.year,
                        extended=hc.is_extended(check_day.year, extended_years, cadence), starts_at=starts_at,
                        gp_practice=(gp_practice or record.gp_practice), status=hc.CheckStatus.PLANNED.value,
                        steps_done=[], scheduled_by=actor.sub)
    repo.add(uow, check)
    _announce(uow, check, record)
    uow.audit(actor, "health_check.schedule", citizen_id=record.citizen_id, object_type="health_check", object_id=check.id,
              detail={"extended": check.extended})
    return check


async def schedule_health_check(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                body: s.ScheduleBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.HEALTH_CHECK_MINUTES, citizen_id, lock=True)
    check = await _schedule_check(uow, record, body.starts_at, body.gp_practice, actor=user)
    await uow.commit()
    return _check_out(check)


async def list_health_checks(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    checks = await repo.health_checks(uow, citizen_id)
    uow.audit(user, "health_check.read", citizen_id=citizen_id, object_type="health_check")
    await uow.commit()
    return {"citizen_id": str(citizen_id), "health_checks": [_check_out(c) for c in checks]}


async def _check_for(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID, action: Action) -> tuple[HealthCheck, HealthRecord]:
    check = await repo.health_check(uow, health_check_id, lock=True)
    if check is None:
        raise NotFound(NO_SUCH_CHECK)
    record = await authorize(uow, user, action, check.citizen_id, not_found=NO_SUCH_CHECK)
    return check, record


async def read_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.READ)
    decisions = await repo.check_decisions(uow, check.id)
    uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check, decisions)


def _complete_step(uow: UnitOfWork, check: HealthCheck, step: hc.PreparationStep) -> None:
    hc.complete_step(repo.domain_check(check), step, pre_assessment=repo.domain_pre_assessment(check))
    if step.value not in check.steps_done:
        check.steps_done = [*check.steps_done, step.value]
        uow.emit(HealthCheckStepCompletedV1(citizen_id=check.citizen_id, health_check_id=check.id, step=step.value,
                                            completed_at=now_utc()))


async def record_pre_assessment(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                                body: s.PreAssessmentBody) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    pre = hc.validate_pre_assessment(hc.PreAssessment(
        tuple(hc.ThemeAnswer(hc.PreAssessmentTheme(a.theme), a.citizens_words, a.symptom_score) for a in body.answers),
        body.wants_to_talk_about, body.done_on, user.sub, body.setting,
        tuple(hc.ThemeSkipped(hc.PreAssessmentTheme(k.theme), k.reason) for k in body.skipped)))
    if check.status != hc.CheckStatus.PLANNED.value:
        raise DomainError(f"Sundhedstjekket er {hc.CHECK_STATUS_DA[check.status]}; forberedelsen kan ikke ændres.")
    check.pre_assessment = {**body.model_dump(mode="json"), "done_by": user.sub, "complete": pre.complete,
                            "themes_not_covered": [t.value for t in pre.themes_not_covered]}
    if pre.complete:  # done only with every theme answered or skipped with a reason; else saved as begun
        _complete_step(uow, check, hc.PreparationStep.PRE_ASSESSMENT)
    uow.audit(user, "health_check.pre_assessment", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def record_examination(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                             body: s.ExaminationBody) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    missing_tests, missing_measurements = hc.missing_examination_items(
        [hc.BloodTest(t) for t in body.blood_tests], [hc.Measurement(m) for m in body.measurements])
    check.examination = {**body.model_dump(mode="json"), "recorded_by": user.sub,
                         "missing_blood_tests": [t.value for t in missing_tests],
                         "missing_measurements": [m.value for m in missing_measurements]}
    _complete_step(uow, check, hc.PreparationStep.EXAMINATION)
    uow.audit(user, "health_check.examination", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def complete_step(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID, step: str) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.WRITE)
    _complete_step(uow, check, hc.PreparationStep(step))
    uow.audit(user, f"health_check.step.{step}", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def decline_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                               body: s.DeclineBody | None) -> dict[str, Any]:
    check, _ = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    declined = hc.decline(repo.domain_check(check), reason=body.reason if body else None)
    if check.status != hc.CheckStatus.DECLINED.value:
        check.status, check.decline_reason, check.declined_at = declined.status.value, declined.decline_reason, now_utc()
        uow.emit(HealthCheckDeclinedV1(citizen_id=check.citizen_id, health_check_id=check.id, declined_at=check.declined_at))
    uow.audit(user, "health_check.decline", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def accept_health_check(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.DECLINE_HEALTH_CHECK)
    if check.status == hc.CheckStatus.DECLINED.value:
        hc.accept_again(repo.domain_check(check), now_utc().astimezone(hc.DANISH_TIME).date())
        check.status, check.declined_at, check.decline_reason = hc.CheckStatus.PLANNED.value, None, None
        _announce(uow, check, record, only_steps_not_done=True)
    uow.audit(user, "health_check.accept", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id)
    await uow.commit()
    return _check_out(check)


async def record_check_held(uow: UnitOfWork, user: Principal, health_check_id: uuid.UUID,
                            body: s.HeldBody) -> dict[str, Any]:
    check, record = await _check_for(uow, user, health_check_id, Action.HEALTH_CHECK_MINUTES)
    held_at = _aware(body.held_at, "held_at")
    participants = [hc.Participant(hc.ParticipantRole(p.role), p.name, p.org, p.sub) for p in body.participants]
    hc.hold(repo.domain_check(check), participants, held_at.astimezone(hc.DANISH_TIME).date())
    outcomes = [hc.outcome_of(hc.Decision(hc.DecisionKind(d.kind), d.title.strip(),
                                                _aware(d.due_at, "due_at") if d.due_at else None,
                                                d.responsible_sub, d.citizen_wants_reminders, d.review_on), held_at=held_at,
                     schedule=get_settings().reminder_schedule)
                for d in body.decisions]
    check.status, check.held_at = hc.CheckStatus.HELD.value, held_at
    check.participants = [p.model_dump() for p in body.participants]
    check.minutes = body.minutes
    # Held first: it closes the check's reminders and preparation, before the decisions' own tasks arrive.
    uow.emit(HealthCheckHeldV1(citizen_id=check.citizen_id, health_check_id=check.id, held_at=held_at,
                               participant_roles=sorted({p.role for p in body.participants}), decisions=len(outcomes),
                               tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    decisions = []
    for outcome in outcomes:
        d = outcome.decision
        row = HealthCheckDecision(id=uuid.uuid4(), health_check_id=check.id, citizen_id=check.citizen_id, kind=d.kind.value,
                                  title=d.title, due_at=d.due_at, responsible_sub=d.responsible_sub or record.tovholder_sub,
                                  reminders_at=[r.isoformat() for r in outcome.reminders], review_on=outcome.review_on)
        repo.add(uow, row)
        decisions.append(row)
        uow.emit(HealthCheckDecisionRecordedV1(
            citizen_id=check.citizen_id, decision_id=row.id, health_check_id=check.id, kind=row.kind, title=row.title,
            due_at=row.due_at, reminders_at=list(outcome.reminders), responsible_sub=row.responsible_sub,
            plan_update=outcome.plan_update, tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id,
            review_on=row.review_on))
        if outcome.plan_update:  # plans proposes it as a plan entry; the coordinator confirms it with the citizen
            uow.emit(HealthCheckPlanEntryProposedV1(
                citizen_id=check.citizen_id, proposal_id=row.id, health_check_id=check.id, decision_kind=row.kind,
                title=row.title, held_at=held_at, due_at=row.due_at, review_on=row.review_on,
                responsible_sub=row.responsible_sub, botilbud_id=record.botilbud_id))
    repo.add(uow, TimelineEntry(
        citizen_id=check.citizen_id, kind=ContactKind.HEALTH_CHECK.value, counterpart="gp",
        org=check.gp_practice, who=", ".join(f"{p.name} ({p.role})" for p in body.participants if p.role != "citizen")[:200],
        what=f"Sundhedstjek holdt{' (udvidet)' if check.extended else ''}: {len(decisions)} beslutning(er)",
        occurred_at=held_at, recorded_by=user.sub, object_type="health_check", object_id=str(check.id)))
    uow.audit(user, "health_check.held", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
              detail={"decisions": len(decisions)})
    await uow.commit()
    return _check_out(check, decisions)


async def botilbud_health_checks(uow: UnitOfWork, user: Principal, botilbud_id: str, year: int | None) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("Kun botilbuddets egne sygeplejekonsulenter og koordinatorer ser dets sundhedstjek.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    year = year or today.year
    rows = await repo.botilbud_checks(uow, botilbud_id, year)
    for check in rows:
        uow.audit(user, "health_check.read", citizen_id=check.citizen_id, object_type="health_check", object_id=check.id,
                  detail={"via": "botilbud overview"})
    await uow.commit()
    overview = []
    for check in rows:
        out = _check_out(check, today=today)
        overview.append({k: out[k] for k in ("health_check_id", "citizen_id", "year", "extended", "starts_at",
                                              "gp_practice", "status", "steps")})
    late = sum(1 for c in overview for st in c["steps"] if st["status"] == "late")
    return {"botilbud_id": botilbud_id, "year": year, "health_checks": overview, "late_steps": late}


async def plan_check_days(uow: UnitOfWork, user: Principal, botilbud_id: str, body: s.PlanDaysBody) -> dict[str, Any]:
    if user.role not in (Role.NURSE_CONSULTANT, Role.COORDINATOR) or user.botilbud != botilbud_id:
        raise Forbidden("Kun botilbuddets egne sygeplejekonsulenter og koordinatorer planlægger dets sundhedstjekdage.")
    today = now_utc().astimezone(hc.DANISH_TIME).date()
    for day in body.days:
        hc.check_day_is_reachable(day, today)
    records = await repo.living_records_of_botilbud(uow, botilbud_id)
    years = {d.year for d in body.days}
    existing = {(c.citizen_id, c.year): c for c in await repo.checks_of(uow, [r.citizen_id for r in records], years)}
    year = min(years)
    cadence = await repo.cadence_of(uow, botilbud_id)
    last_held = await repo.last_held_years(uow, [r.citizen_id for r in records], year)
    not_due = [str(r.citizen_id) for r in records if not hc.is_due(year, last_held.get(r.citizen_id), cadence)]
    to_plan = [hc.CitizenToPlan(str(r.citizen_id), r.gp_practice or "ukendt lægepraksis",
                                declined=(r.citizen_id, year) in existing and existing[(r.citizen_id, year)].status == "declined")
               for r in records if str(r.citizen_id) not in not_due
               and ((r.citizen_id, year) not in existing or existing[(r.citizen_id, year)].status == "declined")]
    plan = hc.plan_check_days(to_plan, body.days, slot_minutes=body.slot_minutes, per_day=body.per_day,
                first_slot=body.first_slot, one_practice_per_day=body.one_practice_per_day)
    if body.schedule and plan.warnings and not body.confirm_warnings:
        raise DomainError("Planen ligger uden for den sædvanlige dag: " + "; ".join(plan.warnings)
                          + ". Bekræft planen (confirm_warnings), hvis det er meningen.", code="confirm-warnings")
    by_id = {str(r.citizen_id): r for r in records}
    scheduled = []
    if body.schedule:
        for day in plan.days:
            for slot in day.slots:
                check = await _schedule_check(uow, by_id[slot.citizen_id], slot.starts_at, slot.gp_practice, actor=user)
                scheduled.append(str(check.id))
    uow.audit(user, "health_check.plan_days", detail={"botilbud_id": botilbud_id, "scheduled": len(scheduled),
                                                       "warnings_confirmed": list(plan.warnings) if scheduled else []})
    await uow.commit()
    return {"botilbud_id": botilbud_id, "days": [
        {"day": d.day, "gp_practices": list(d.gp_practices), "slots": [
            {"citizen_id": sl.citizen_id, "gp_practice": sl.gp_practice, "starts_at": sl.starts_at, "ends_at": sl.ends_at}
            for sl in d.slots]} for d in plan.days],
        "not_planned": list(plan.not_planned), "declined": list(plan.declined), "scheduled_health_check_ids": scheduled,
        "not_due": not_due, "cadence": cadence.words, "warnings": list(plan.warnings)}


def _cadence_out(botilbud_id: str, cadence: hc.Cadence, *, default: bool) -> dict[str, Any]:
    return {"botilbud_id": botilbud_id, "every_years": cadence.every_years,
            "extended_every_years": cadence.extended_every_years, "description": cadence.words, "default": default}


def _require_botilbud_staff(user: Principal, botilbud_id: str, *, roles: tuple[str, ...]) -> None:
    if user.role == Role.ADMIN or (user.role in roles and user.botilbud == botilbud_id):
        return
    raise Forbidden("Kun botilbuddets egne medarbejdere og en administrator har adgang til botilbuddets indstillinger "
                    "for sundhedstjek.")


async def read_health_check_cadence(uow: UnitOfWork, user: Principal, botilbud_id: str) -> dict[str, Any]:
    _require_botilbud_staff(user, botilbud_id, roles=(Role.NURSE_CONSULTANT, Role.COORDINATOR))
    row = await repo.cadence_row(uow, botilbud_id)
    return _cadence_out(botilbud_id, await repo.cadence_of(uow, botilbud_id), default=row is None)


async def set_health_check_cadence(uow: UnitOfWork, user: Principal, botilbud_id: str,
                                   body: s.CadenceBody) -> dict[str, Any]:
    """The botilbud's cadence: every year or every second year (the DSAM agreement), optionally with an
    extended check every Nth year (Tangkær: 5). Set by an administrator or the botilbud's nurse consultant."""
    _require_botilbud_staff(user, botilbud_id, roles=(Role.NURSE_CONSULTANT,))
    cadence = hc.Cadence(body.every_years, body.extended_every_years)
    await repo.set_cadence(uow, botilbud_id=botilbud_id, cadence=cadence, set_by=user.sub)
    uow.audit(user, "health_check.cadence", detail={"botilbud_id": botilbud_id, "every_years": cadence.every_years,
                                                    "extended_every_years": cadence.extended_every_years})
    await uow.commit()
    return _cadence_out(botilbud_id, cadence, default=False)
