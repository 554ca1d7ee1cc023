"""The nurse consultant's use cases (the citizen's tovholder): who is admitted now and their stays, the
health timeline, the health-check year with each citizen's preparation, day planning by GP practice,
minutes and decisions, medication changes and alerts, forensic psychiatry. Every call goes to health
with the person's own token (health authorises and audits); names come from notifications' citizen
list, never ids on a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from services.portal.backends import Backends, Reply
from services.portal.domain import health_words as hw
from services.portal.domain.health_chart import year_wheel_svg
from services.portal.domain.words import COPENHAGEN
from services.portal.services import Part, SignedIn

CITIZEN_LIST_MAX = 200


@dataclass(frozen=True)
class Outcome:
    """A form sent to health: the answer, or the Danish sentence to show beside the form."""

    reply: Reply
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def signed_out(self) -> bool:
        return self.reply.signed_out


def outcome(reply: Reply) -> Outcome:
    if reply.ok:
        return Outcome(reply)
    detail = (reply.data or {}).get("detail") if isinstance(reply.data, dict) else None
    return Outcome(reply, hw.health_problem(reply.code, detail, reply.problem))


async def citizen_name(backends: Backends, user: SignedIn, citizen_id: str) -> str | None:
    return _name_of(await _name_reply(backends, user, citizen_id))


def _name_reply(backends: Backends, user: SignedIn, citizen_id: str):
    """One citizen's name, read as Borgeroverblik reads it (notifications' view of that citizen): a page
    about one citizen must not list — and so audit a read of — every citizen the person may see."""
    return backends.get("notifications", f"/api/v1/citizens/{citizen_id}/timeline", user.token)


def _name_of(reply: Reply) -> str | None:
    return (reply.data or {}).get("name") if reply.ok and isinstance(reply.data, dict) else None


# ---------------------------------------------------------------- who is admitted now


async def admitted_now(backends: Backends, user: SignedIn) -> dict[str, Any]:
    botilbud = user.principal.botilbud or ""
    reply, names = await backends.gather(
        backends.get("health", f"/api/v1/botilbud/{botilbud}/admitted-now", user.token),
        _names_reply(backends, user))
    names_by_id = _names_of(names)
    rows = (reply.data or {}).get("admitted", []) if reply.ok else []
    for row in rows:
        row["name"] = names_by_id.get(row["citizen_id"], "Borger uden navn")
    return {"admitted": Part(data=rows, problem=reply.problem), "signed_out": reply.signed_out or names.signed_out}


async def _names_reply(backends: Backends, user: SignedIn) -> Reply:
    """The citizens I may see (notifications; up to 200, a botilbud's worth), for their names."""
    return await backends.get("notifications", "/api/v1/citizens", user.token, limit=CITIZEN_LIST_MAX)


def _names_of(reply: Reply) -> dict[str, str]:
    return {c["citizen_id"]: c.get("name") or "Borger uden navn" for c in (reply.data or [])} if reply.ok else {}


# ---------------------------------------------------------------- one citizen: record, stays, timeline


async def citizen_health(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    base = f"/api/v1/citizens/{citizen_id}"
    record, notices, timeline, checks, names = await backends.gather(
        backends.get("health", f"{base}/health-record", user.token),
        backends.get("health", f"{base}/hospital-notices", user.token),
        backends.get("health", f"{base}/health-timeline", user.token, limit=200),
        backends.get("health", f"{base}/health-checks", user.token),
        _name_reply(backends, user, citizen_id))
    stays = hw.hospital_stays((notices.data or {}).get("notices", [])) if notices.ok else []
    return {"record": Part.of(record), "stays": Part(data=stays, problem=notices.problem),
            "timeline": Part.of(timeline), "checks": Part.of(checks), "name": _name_of(names),
            "signed_out": any(r.signed_out for r in (record, notices, timeline, checks, names))}


async def record_contact(backends: Backends, user: SignedIn, citizen_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/citizens/{citizen_id}/external-contacts", user.token, json=body))


async def decline_or_accept(backends: Backends, user: SignedIn, health_check_id: str, *, decline: bool,
                            reason: str | None) -> Outcome:
    path = f"/api/v1/health-checks/{health_check_id}/{'decline' if decline else 'accept'}"
    return outcome(await backends.post("health", path, user.token, json={"reason": reason} if decline else None))


# ---------------------------------------------------------------- medication


async def _citizen_part(backends: Backends, user: SignedIn, citizen_id: str, what: str, key: str) -> dict[str, Any]:
    """One of health's parts of a citizen (``/api/v1/citizens/{id}/{what}``) as ``key``, with the citizen's name."""
    reply, names = await backends.gather(
        backends.get("health", f"/api/v1/citizens/{citizen_id}/{what}", user.token), _name_reply(backends, user, citizen_id))
    return {key: Part.of(reply), "name": _name_of(names), "signed_out": reply.signed_out or names.signed_out}


async def medication(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _citizen_part(backends, user, citizen_id, "medication-changes", "medication")


async def record_medication_change(backends: Backends, user: SignedIn, citizen_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/citizens/{citizen_id}/medication-changes", user.token, json=body))


async def acknowledge_alert(backends: Backends, user: SignedIn, alert_id: str) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/medication-alerts/{alert_id}/acknowledge", user.token))


# ---------------------------------------------------------------- forensic psychiatry


async def forensic(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _citizen_part(backends, user, citizen_id, "forensic", "forensic")


def local_moment(day: date, at: time) -> str:
    return datetime.combine(day, at, tzinfo=COPENHAGEN).isoformat()


async def record_treatment_order(backends: Backends, user: SignedIn, citizen_id: str, body: dict[str, Any]) -> Outcome:
    """The behandlingsdom (a new one replaces the current; health keeps the old as history)."""
    return outcome(await backends.call("health", "PUT", f"/api/v1/citizens/{citizen_id}/treatment-order", user.token,
                                       json=body))


async def create_depot_schedule(backends: Backends, user: SignedIn, citizen_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/citizens/{citizen_id}/depot-schedules", user.token, json=body))


async def record_depot_visit(backends: Backends, user: SignedIn, citizen_id: str, *, schedule_id: str,
                             visited_at: str, outcome_code: str) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/citizens/{citizen_id}/depot-visits", user.token, json={
        "schedule_id": schedule_id, "visited_at": visited_at, "outcome": outcome_code}))


async def record_coercion(backends: Backends, user: SignedIn, citizen_id: str, body: dict[str, Any]) -> Outcome:
    body = {**body, "decided_by_sub": user.principal.sub, "decided_by_role": user.principal.role}
    return outcome(await backends.post("health", f"/api/v1/citizens/{citizen_id}/coercion-log", user.token, json=body))


# ---------------------------------------------------------------- the health-check year and its days


async def health_check_year(backends: Backends, user: SignedIn, year: int) -> dict[str, Any]:
    botilbud = user.principal.botilbud or ""
    reply, cadence, names = await backends.gather(
        backends.get("health", f"/api/v1/botilbud/{botilbud}/health-checks", user.token, year=year),
        backends.get("health", f"/api/v1/botilbud/{botilbud}/health-check-cadence", user.token),
        _names_reply(backends, user))
    by_id = _names_of(names)
    checks = sorted((reply.data or {}).get("health_checks", []) if reply.ok else [], key=lambda c: str(c["starts_at"]))
    for check in checks:
        check["name"] = by_id.get(check["citizen_id"], "Borger uden navn")
    return {"checks": Part(data=checks, problem=reply.problem), "cadence": Part.of(cadence),
            "late_steps": (reply.data or {}).get("late_steps", 0) if reply.ok else 0,
            "picture": year_wheel_svg(year, checks, by_id) if checks else None,
            "signed_out": reply.signed_out or cadence.signed_out or names.signed_out}


async def set_cadence(backends: Backends, user: SignedIn, body: dict[str, Any]) -> Outcome:
    """The botilbud's health-check cadence (every year or every second year, extended every Nth year)."""
    botilbud = user.principal.botilbud or ""
    return outcome(await backends.call("health", "PUT", f"/api/v1/botilbud/{botilbud}/health-check-cadence", user.token,
                                       json=body))


async def plan_days(backends: Backends, user: SignedIn, body: dict[str, Any]) -> dict[str, Any]:
    """A proposal (or, with ``schedule``, the scheduled checks): the slots by day and GP practice, with
    names. A plan with warnings that was not confirmed comes back as the proposal, with the warnings."""
    botilbud = user.principal.botilbud or ""
    path = f"/api/v1/botilbud/{botilbud}/health-check-days"
    reply, names = await backends.gather(backends.post("health", path, user.token, json=body), _names_reply(backends, user))
    result = outcome(reply)
    if reply.code == "confirm-warnings":
        reply = await backends.post("health", path, user.token, json={**body, "schedule": False})
    by_id = _names_of(names)
    plan = reply.data if reply.ok else None
    if plan:
        for day in plan["days"]:
            groups: dict[str, list[dict[str, Any]]] = {}
            for slot in day["slots"]:
                slot["name"] = by_id.get(slot["citizen_id"], "Borger uden navn")
                groups.setdefault(slot["gp_practice"], []).append(slot)
            day["by_practice"] = groups
        for key in ("not_planned", "declined", "not_due"):
            plan[f"{key}_names"] = sorted(by_id.get(c, "Borger uden navn") for c in plan[key])
    return {"plan": plan, "problem": result.problem, "signed_out": reply.signed_out or names.signed_out}


async def health_check(backends: Backends, user: SignedIn, health_check_id: str) -> dict[str, Any]:
    reply = await backends.get("health", f"/api/v1/health-checks/{health_check_id}", user.token)
    name = None
    if reply.ok:
        name = await citizen_name(backends, user, reply.data["citizen_id"])
    return {"check": Part.of(reply), "name": name, "signed_out": reply.signed_out}


async def complete_step(backends: Backends, user: SignedIn, health_check_id: str, step: str) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/health-checks/{health_check_id}/steps/{step}/complete",
                                       user.token))


async def record_pre_assessment(backends: Backends, user: SignedIn, health_check_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/health-checks/{health_check_id}/pre-assessment", user.token,
                                       json=body))


async def record_examination(backends: Backends, user: SignedIn, health_check_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/health-checks/{health_check_id}/examination", user.token,
                                       json=body))


async def record_held(backends: Backends, user: SignedIn, health_check_id: str, body: dict[str, Any]) -> Outcome:
    return outcome(await backends.post("health", f"/api/v1/health-checks/{health_check_id}/held", user.token, json=body))


def default_check_days(today: date, count: int = 1) -> list[date]:
    """The first working days at least 3 weeks ahead (health's rule), as a suggestion in the form."""
    day, found = today + timedelta(weeks=3, days=1), []
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found
