"""Plans' FHIR reads: one use case per interaction, on the REST API's rules (``services.enter``: the
citizen, the network, the botilbud's staff before the network is formed, a partner only with the
citizen's consent for the category) after the token's SMART scopes (``tovholder.fhir.require_scope``).
Every read is audited like its REST twin (``plan.read``, ``network.read``, ``consent.read``), so it shows
in the citizen's Min log; refusals are audited by the kit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.resource import Resource

from services.plans import repository
from services.plans import services
from services.plans.domain.access import Action as Can
from services.plans.fhir import resources as fr
from tovholder.auth import Principal
from tovholder.errors import NotFound
from tovholder.fhir import Search, dump, require_scope
from tovholder.uow import UnitOfWork


def _id(value: str, not_found: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(not_found) from None


async def _plan_scope(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, resource_type: str, can: Can,
                      object_type: str) -> services.Scope:
    require_scope(user, resource_type, object_type=object_type, citizen_id=citizen_id)
    return await services.enter(uow, user, citizen_id, can)


def _audit(uow: UnitOfWork, scope: services.Scope, action: str, object_type: str, object_id: Any,
           resource_type: str, **detail: Any) -> None:
    services.audit(uow, scope, action, object_type, object_id, fhir=resource_type, **detail)


# --- CarePlan and Goal (Borgerens Plan; consent category "plan") ------------------------------------

NO_SUCH_CAREPLAN = "No such CarePlan that you may read."
NO_SUCH_GOAL = "No such Goal that you may read."


async def _careplan(uow: UnitOfWork, scope: services.Scope) -> tuple[Resource, list[Resource], datetime]:
    version = await repository.current_version(uow, scope.plan)
    plan = scope.plan
    care = fr.careplan(plan_id=plan.id, citizen_id=plan.citizen_id, botilbud_id=plan.botilbud_id,
                       plan_status=plan.status, opened_at=plan.opened_at, version=version)
    goals = [fr.goal(g, citizen_id=plan.citizen_id, version=version) for g in version.goals]
    return care, goals, version.created_at


async def read_careplan(uow: UnitOfWork, user: Principal, plan_id: str) -> dict[str, Any]:
    plan = await repository.plan_by_id(uow, _id(plan_id, NO_SUCH_CAREPLAN))
    require_scope(user, "CarePlan", object_type="plan", citizen_id=plan.citizen_id if plan else None)
    if plan is None:
        raise NotFound(NO_SUCH_CAREPLAN)
    scope = await services.enter(uow, user, plan.citizen_id, Can.READ_PLAN)
    care, _, _ = await _careplan(uow, scope)
    _audit(uow, scope, "plan.read", "plan", plan.id, "CarePlan", version=care.meta.versionId)
    await uow.commit()
    return dump(care)


async def search_careplans(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Resource], int]:
    citizen_id = search.citizen_id(user, "CarePlan")
    statuses = search.statuses(fr.CAREPLAN_STATUSES)
    scope = await _plan_scope(uow, user, citizen_id, "CarePlan", Can.READ_PLAN, "plan")
    care, _, updated = await _careplan(uow, scope)
    found = [care] if (statuses is None or care.status in statuses) and search.updated(updated) else []
    page, total = search.page(found)
    _audit(uow, scope, "plan.list", "plan", scope.plan.id, "CarePlan", count=len(page))
    await uow.commit()
    return page, total


async def read_goal(uow: UnitOfWork, user: Principal, goal_id: str) -> dict[str, Any]:
    wanted = _id(goal_id, NO_SUCH_GOAL)
    plan = await repository.plan_with_goal(uow, wanted)
    require_scope(user, "Goal", object_type="plan", citizen_id=plan.citizen_id if plan else None)
    if plan is None:
        raise NotFound(NO_SUCH_GOAL)
    scope = await services.enter(uow, user, plan.citizen_id, Can.READ_PLAN)
    _, goals, _ = await _careplan(uow, scope)
    found = next((g for g in goals if g.id == str(wanted)), None)
    if found is None:
        raise NotFound(NO_SUCH_GOAL)
    _audit(uow, scope, "plan.read", "plan", plan.id, "Goal", goal_id=found.id)
    await uow.commit()
    return dump(found)


async def search_goals(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Resource], int]:
    citizen_id = search.citizen_id(user, "Goal")
    statuses = search.statuses(fr.GOAL_STATUSES)
    scope = await _plan_scope(uow, user, citizen_id, "Goal", Can.READ_PLAN, "plan")
    _, goals, updated = await _careplan(uow, scope)
    found = [g for g in goals if (statuses is None or g.lifecycleStatus in statuses) and search.updated(updated)]
    page, total = search.page(found)
    _audit(uow, scope, "plan.list", "plan", scope.plan.id, "Goal", count=len(page), total=total)
    await uow.commit()
    return page, total


# --- CareTeam (the network) ---------------------------------------------------------------------------

NO_SUCH_CARETEAM = "No such CareTeam that you may read."


async def _careteam(uow: UnitOfWork, scope: services.Scope) -> Resource:
    rows = scope.network_rows
    members = (await services._network_answer(uow, scope.citizen_id, rows))["members"]
    updated = max([r.added_at for r in rows], default=scope.plan.opened_at)
    return fr.careteam(citizen_id=scope.citizen_id, botilbud_id=scope.plan.botilbud_id, members=members,
                       last_updated=updated)


async def read_careteam(uow: UnitOfWork, user: Principal, careteam_id: str) -> dict[str, Any]:
    citizen_id = _id(careteam_id, NO_SUCH_CARETEAM)  # a citizen's network: CareTeam/<citizen_id>
    scope = await _plan_scope(uow, user, citizen_id, "CareTeam", Can.READ_NETWORK, "network")
    team = await _careteam(uow, scope)
    _audit(uow, scope, "network.read", "network", citizen_id, "CareTeam")
    await uow.commit()
    return dump(team)


async def search_careteams(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Resource], int]:
    citizen_id = search.citizen_id(user, "CareTeam")
    statuses = search.statuses(fr.CARETEAM_STATUSES)
    scope = await _plan_scope(uow, user, citizen_id, "CareTeam", Can.READ_NETWORK, "network")
    team = await _careteam(uow, scope)
    found = [team] if (statuses is None or team.status in statuses) and search.updated(team.meta.lastUpdated) else []
    page, total = search.page(found)
    _audit(uow, scope, "network.read", "network", citizen_id, "CareTeam", count=len(page))
    await uow.commit()
    return page, total


# --- Consent ----------------------------------------------------------------------------------------------

NO_SUCH_CONSENT = "No such Consent that you may read."


async def read_consent(uow: UnitOfWork, user: Principal, consent_id: str) -> dict[str, Any]:
    wanted = _id(consent_id, NO_SUCH_CONSENT)
    citizen_id = await repository.consent_citizen(uow, wanted)
    require_scope(user, "Consent", object_type="consent", citizen_id=citizen_id)
    if citizen_id is None:
        raise NotFound(NO_SUCH_CONSENT)
    scope = await services.enter(uow, user, citizen_id, Can.READ_CONSENT)
    record = next(c for c in await repository.consents_of(uow, citizen_id) if c.consent_id == wanted)
    _audit(uow, scope, "consent.read", "consent", wanted, "Consent")
    await uow.commit()
    return dump(fr.consent(record, citizen_id=citizen_id))


async def search_consents(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Resource], int]:
    citizen_id = search.citizen_id(user, "Consent")
    statuses = search.statuses(fr.CONSENT_STATUSES)
    scope = await _plan_scope(uow, user, citizen_id, "Consent", Can.READ_CONSENT, "consent")
    consents = [fr.consent(c, citizen_id=citizen_id) for c in reversed(await repository.consents_of(uow, citizen_id))]
    found = [c for c in consents if (statuses is None or c.status in statuses) and search.updated(c.meta.lastUpdated)]
    page, total = search.page(found)
    _audit(uow, scope, "consent.read", "consent", citizen_id, "Consent", count=len(page), total=total)
    await uow.commit()
    return page, total
