"""The coordinator's use cases: Borgerens Plan (goals, sub-goals, actions, perspectives, versions and
what changed), the network, the tryghedsplan and its versions, LA2 with its history, learning plans,
FIT and the consent registry — each a page's data gathered from plans (and the citizen's name from
notifications) with the signed-in person's own token, or one change sent to plans.

A change answers a ``Reply``; a refusal's code becomes a Danish sentence (``domain/words.py`` for the
kit's codes, ``domain/coordinator_words.py`` for plans' rules) before any page sees it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.portal.backends import Backends, Reply
from services.portal.domain import coordinator_words as cw
from services.portal.domain.words import COPENHAGEN
from services.portal.services import Part, SignedIn


def _base(citizen_id: str) -> str:
    return f"/api/v1/citizens/{citizen_id}"


def _danish(reply: Reply) -> Reply:
    """plans' rule violations (422, ``rule-violation``) carry an English or Danish reason: Danish always."""
    if not reply.ok and reply.code == "rule-violation":
        detail = reply.data.get("detail") if isinstance(reply.data, dict) else None
        reply.problem = cw.rule_message(detail if isinstance(detail, str) else None)
    return reply


async def _page(backends: Backends, user: SignedIn, citizen_id: str, calls: dict[str, Any]) -> dict[str, Any]:
    """The parts of one screen side by side, plus the citizen's name (notifications' timeline) and the
    network (for names and for 'who'); ``signed_out`` when a service no longer accepts the token."""
    base = _base(citizen_id)
    calls = {"overview": backends.get("notifications", f"{base}/timeline", user.token),
             "network": backends.get("plans", f"{base}/network", user.token), **calls}
    replies = dict(zip(calls, await backends.gather(*calls.values())))
    parts = {name: Part.of(_danish(reply)) for name, reply in replies.items()}
    overview = parts["overview"].data or {}
    return {**parts, "signed_out": any(r.signed_out for r in replies.values()),
            "name": overview.get("name"), "citizen_id": citizen_id}


def staff_from_plans(data: dict[str, Any]) -> dict[str, str]:
    """sub → name as plans knows the network and the candidates (the portal's own names fill the rest)."""
    names: dict[str, str] = {}
    network = (data.get("network") or Part()).data or {}
    for member in network.get("members", []):
        if member.get("name"):
            names[member["staff_id"]] = member["name"] + (f" ({member['organisation']})" if member.get("organisation") else "")
    candidates = (data.get("candidates") or Part()).data or {}
    for member in candidates.get("staff", []):
        if member.get("name"):
            names.setdefault(member["staff_id"], member["name"])
    return names


def mentioned(data: dict[str, Any]) -> set[str]:
    """Staff ids a coordinator screen mentions (authors, raters, recorders, responsible)."""
    subs: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("updated_by", "created_by", "rated_by", "recorded_by", "given_by", "revoked_by",
                           "citizen_told_by", "written_with_staff_id", "added_by", "assignee", "follow_up_owner",
                           "staff_id") and isinstance(item, str):
                    subs.add(item)
                elif key in ("author", "created_by") and isinstance(item, dict) and item.get("role") == "staff":
                    subs.add(item.get("id") or "")
                elif key == "responsible" and isinstance(item, dict) and item.get("kind") == "staff":
                    subs.add(item.get("ref") or "")
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for part in data.values():
        if isinstance(part, Part):
            walk(part.data)
    return {s for s in subs if s and not s.startswith("ekstern:")}


# ---------------------------------------------------------------- Borgerens Plan


async def plan_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    base = _base(citizen_id)
    data = await _page(backends, user, citizen_id, {
        "plan": backends.get("plans", f"{base}/plan", user.token),
        "follow_ups": backends.get("plans", f"{base}/plan/follow-ups", user.token),
    })
    plan = data["plan"].data or {}
    schedules = {s["subject_id"]: s for s in ((data["follow_ups"].data or {}).get("schedules") or [])}
    for goal in plan.get("goals", []):
        goal["schedule"] = schedules.get(goal.get("goal_id"))
        entries = goal.get("entries") or []
        goal["citizen_view"] = [e for e in entries if e.get("kind") in ("citizen-perspective", "citizen-comment")]
        goal["staff_view"] = [e for e in entries if e.get("kind") == "staff-observation"]
    entries = plan.get("entries") or []
    data["plan_citizen_view"] = [e for e in entries if e.get("kind") in ("citizen-perspective", "citizen-comment")]
    data["plan_staff_view"] = [e for e in entries if e.get("kind") == "staff-observation"]
    return data


async def versions_screen(backends: Backends, user: SignedIn, citizen_id: str, *, older: int | None,
                          newer: int | None) -> dict[str, Any]:
    """The plan's versions, and what changed between two (default: the newest and the one before)."""
    base = _base(citizen_id)
    data = await _page(backends, user, citizen_id, {
        "versions": backends.get("plans", f"{base}/plan/versions", user.token),
        "plan": backends.get("plans", f"{base}/plan", user.token),
    })
    versions = data["versions"].data or []
    numbers = [v["version"] for v in versions]
    if numbers:
        newer = newer if newer in numbers else numbers[0]
        older = older if older in numbers else next((n for n in numbers if n < newer), newer)
        if older > newer:
            older, newer = newer, older
    data.update(older=older, newer=newer, diff=Part(), diff_rows=[])
    if numbers and older != newer:
        reply = _danish(await backends.get("plans", f"{base}/plan/diff", user.token, **{"from": older, "to": newer}))
        data["signed_out"] = data["signed_out"] or reply.signed_out
        data["diff"] = Part.of(reply)
        names = goal_names(data["plan"].data or {})
        data["diff_rows"] = [{"what": cw.diff_path(c["path"], names), "kind": cw.label(cw.DIFF_KINDS, c["kind"]),
                              "before": cw.diff_value(c["before"]), "after": cw.diff_value(c["after"])}
                             for c in ((reply.data or {}).get("changes") or [])] if reply.ok else []
    return data


def goal_names(plan: dict[str, Any]) -> dict[str, str]:
    """id → text for goals, sub-goals, actions and entries (so a change names them, not their ids)."""
    names: dict[str, str] = {}
    for goal in plan.get("goals", []):
        names[goal["goal_id"]] = goal["text"]
        for key, ident in (("sub_goals", "sub_goal_id"), ("actions", "action_id"), ("entries", "entry_id")):
            for item in goal.get(key) or []:
                names[item[ident]] = item.get("text", "")
    for entry in plan.get("entries") or []:
        names[entry["entry_id"]] = entry.get("text", "")
    return names


async def add_goal(backends: Backends, user: SignedIn, citizen_id: str, *, text: str, with_citizen: bool,
                   kind: str, cadence: str, follow_up_from: date | None) -> Reply:
    body: dict[str, Any] = {"text": text, "written_with_citizen": with_citizen, "kind": kind}
    if cadence:
        body["cadence"] = {"preset": cadence}
        if follow_up_from:
            body["follow_up_from"] = follow_up_from.isoformat()
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/goals", user.token, json=body))


async def change_goal_status(backends: Backends, user: SignedIn, citizen_id: str, goal_id: str, status: str) -> Reply:
    return _danish(await backends.call("plans", "PATCH", f"{_base(citizen_id)}/plan/goals/{goal_id}", user.token,
                                       json={"status": status}))


async def add_sub_goal(backends: Backends, user: SignedIn, citizen_id: str, goal_id: str, *, text: str,
                       with_citizen: bool, kind: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/goals/{goal_id}/sub-goals", user.token,
                                       json={"text": text, "written_with_citizen": with_citizen, "kind": kind}))


async def add_action(backends: Backends, user: SignedIn, citizen_id: str, goal_id: str, *, text: str,
                     responsible: dict[str, str], due_on: date, with_citizen: bool) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/goals/{goal_id}/actions", user.token,
                                       json={"text": text, "responsible": responsible, "due_on": due_on.isoformat(),
                                             "written_with_citizen": with_citizen}))


async def action_done(backends: Backends, user: SignedIn, citizen_id: str, goal_id: str, action_id: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/goals/{goal_id}/actions/{action_id}/done",
                                       user.token, json={}))


async def record_follow_up(backends: Backends, user: SignedIn, citizen_id: str, goal_id: str, *, held_on: date,
                           outcome: str, with_citizen: bool, next_due_on: date | None) -> Reply:
    """A goal's follow-up held: plans records it and sets the next date (its task then closes by itself)."""
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/follow-ups", user.token, json={
        "subject": "goal", "goal_id": goal_id, "held_on": held_on.isoformat(), "outcome": outcome,
        "written_with_citizen": with_citizen, "next_due_on": next_due_on.isoformat() if next_due_on else None}))


async def add_entry(backends: Backends, user: SignedIn, citizen_id: str, *, kind: str, text: str,
                    with_citizen: bool, goal_id: str | None) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/plan/entries", user.token,
                                       json={"kind": kind, "text": text, "written_with_citizen": with_citizen,
                                             "goal_id": goal_id}))


# ---------------------------------------------------------------- the network


async def network_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _page(backends, user, citizen_id, {
        "candidates": backends.get("plans", f"{_base(citizen_id)}/network/candidates", user.token),
        "meetings": backends.get("plans", f"{_base(citizen_id)}/network/meetings", user.token)})


async def schedule_meeting(backends: Backends, user: SignedIn, citizen_id: str, meeting_id: str, *,
                           meeting_at: datetime, place: str | None) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/network/meetings/{meeting_id}/schedule", user.token,
                                       json={"meeting_at": meeting_at.isoformat(), "place": place}))


async def close_meeting(backends: Backends, user: SignedIn, citizen_id: str, meeting_id: str, *, outcome: str,
                        note: str | None) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/network/meetings/{meeting_id}/close", user.token,
                                       json={"outcome": outcome, "note": note}))


async def add_member(backends: Backends, user: SignedIn, citizen_id: str, *, staff_id: str, role: str,
                     basis: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/network/members", user.token,
                                       json={"staff_id": staff_id, "role": role, "basis": basis}))


async def add_external(backends: Backends, user: SignedIn, citizen_id: str, *, name: str, organisation: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/network/members", user.token,
                                       json={"external": {"name": name, "organisation": organisation}, "role": "other"}))


async def remove_member(backends: Backends, user: SignedIn, citizen_id: str, staff_id: str) -> Reply:
    return _danish(await backends.call("plans", "DELETE", f"{_base(citizen_id)}/network/members/{staff_id}", user.token))


async def change_role(backends: Backends, user: SignedIn, citizen_id: str, staff_id: str, *, role: str,
                      previous_holder_role: str | None) -> Reply:
    return _danish(await backends.call("plans", "PUT", f"{_base(citizen_id)}/network/members/{staff_id}/role",
                                       user.token, json={"role": role, "previous_holder_role": previous_holder_role}))


# ---------------------------------------------------------------- safety: tryghedsplan, LA2, learning plans


async def tryghedsplan_screen(backends: Backends, user: SignedIn, citizen_id: str, *, version: int | None) -> dict[str, Any]:
    data = await _page(backends, user, citizen_id, {
        "versions": backends.get("plans", f"{_base(citizen_id)}/safety/tryghedsplan/versions", user.token)})
    versions = data["versions"].data or []
    data["current"] = versions[0] if versions else None
    data["shown"] = next((v for v in versions if v["version"] == version), data["current"])
    return data


async def revise_tryghedsplan(backends: Backends, user: SignedIn, citizen_id: str, parts: dict[str, list[str]], *,
                              medication_note: str | None, with_citizen: bool) -> Reply:
    return _danish(await backends.call("plans", "PUT", f"{_base(citizen_id)}/safety/tryghedsplan", user.token,
                                       json={**parts, "as_needed_medication_note": medication_note,
                                             "written_with_citizen": with_citizen}))


async def la2_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _page(backends, user, citizen_id, {
        "ratings": backends.get("plans", f"{_base(citizen_id)}/safety/ratings", user.token)})


async def la2_history(backends: Backends, user: SignedIn, citizen_id: str) -> Reply:
    return await backends.get("plans", f"{_base(citizen_id)}/safety/ratings", user.token)


async def rate(backends: Backends, user: SignedIn, citizen_id: str, *, level: str, reason: str,
               reassess_at: datetime | None, citizen_told: bool) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/safety/ratings", user.token, json={
        "level": level, "reason": reason, "citizen_told": citizen_told,
        "reassess_at": reassess_at.isoformat() if reassess_at else None}))


async def rating_told(backends: Backends, user: SignedIn, citizen_id: str, rating_id: str, *,
                      not_told_reason: str | None) -> Reply:
    body = {"not_told_reason": not_told_reason} if not_told_reason else {}
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/safety/ratings/{rating_id}/citizen-told",
                                       user.token, json=body))


async def learning_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _page(backends, user, citizen_id, {
        "safety": backends.get("plans", f"{_base(citizen_id)}/safety", user.token)})


async def open_learning_plan(backends: Backends, user: SignedIn, citizen_id: str, *, started: datetime,
                             ended: datetime, outcome: str, with_staff: str | None) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/safety/learning-plans", user.token, json={
        "episode_started_at": started.isoformat(), "episode_ended_at": ended.isoformat(), "outcome": outcome,
        "written_with_staff_id": with_staff or None}))


async def complete_learning_plan(backends: Backends, user: SignedIn, citizen_id: str, learning_plan_id: str, *,
                                 what_happened: str, citizen_took_part: bool, what_helped: str | None,
                                 citizen_view: str | None, staff_view: str | None) -> Reply:
    return _danish(await backends.post(
        "plans", f"{_base(citizen_id)}/safety/learning-plans/{learning_plan_id}/complete", user.token,
        json={"what_happened": what_happened, "citizen_took_part": citizen_took_part, "what_helped": what_helped,
              "citizen_view": citizen_view, "staff_view": staff_view}))


# ---------------------------------------------------------------- FIT


async def fit_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _page(backends, user, citizen_id, {"fit": backends.get("plans", f"{_base(citizen_id)}/fit", user.token)})


async def fit_data(backends: Backends, user: SignedIn, citizen_id: str) -> Reply:
    return await backends.get("plans", f"{_base(citizen_id)}/fit", user.token)


async def record_fit(backends: Backends, user: SignedIn, citizen_id: str, *, held_at: datetime, ors: float | None,
                     srs: float | None, shared: bool) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/fit", user.token, json={
        "held_at": held_at.isoformat(), "ors": ors, "srs": srs, "shared_by_citizen": shared}))


# ---------------------------------------------------------------- consent


async def consent_screen(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    return await _page(backends, user, citizen_id, {
        "consents": backends.get("plans", f"{_base(citizen_id)}/consents", user.token)})


async def give_consent(backends: Backends, user: SignedIn, citizen_id: str, *, recipient_kind: str,
                       recipient_id: str, recipient_name: str | None, category: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/consents", user.token, json={
        "recipient_kind": recipient_kind, "recipient_id": recipient_id, "recipient_name": recipient_name,
        "category": category}))


async def revoke_consent(backends: Backends, user: SignedIn, citizen_id: str, consent_id: str) -> Reply:
    return _danish(await backends.post("plans", f"{_base(citizen_id)}/consents/{consent_id}/revoke", user.token))


def local_now() -> datetime:
    return datetime.now(COPENHAGEN)
