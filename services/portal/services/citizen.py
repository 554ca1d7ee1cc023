"""The citizen's own pages (issue 13): Min plan, Min sag, Mit netværk, Mine samtykker, Min FIT and Min
log. Each use case calls the services with the citizen's own token — the citizen's id is the token's
``sub`` — so every read and write is authorised and audited by the service that owns it, exactly as
for any other caller. A service that is down costs its part of the page (``Part``), never the page.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from services.portal.backends import Backends, Reply
from services.portal.domain import citizen_words as cw
from services.portal.domain import log_pages
from services.portal.services import Part, SignedIn, botilbud_names
from tovholder.access_log import cursor_before

LOG_PAGE = 25


def _base(user: SignedIn) -> str:
    return f"/api/v1/citizens/{user.principal.sub}"


def _signed_out(*replies: Reply) -> bool:
    return any(r.signed_out for r in replies)


# ---------------------------------------------------------------- Min plan


def _mine(entry: dict[str, Any]) -> bool:
    return (entry.get("author") or {}).get("role") == "citizen"


def plan_view(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan as the citizen reads it: per goal, my entries and staff's kept apart; replies by entry."""
    if not plan:
        return None
    goals = []
    for goal in plan.get("goals", []):
        entries = goal.get("entries", [])
        goals.append({**goal, "mine": [e for e in entries if _mine(e)], "staff": [e for e in entries if not _mine(e)]})
    loose = plan.get("entries", [])
    return {**plan, "goals": goals, "mine": [e for e in loose if _mine(e)], "staff": [e for e in loose if not _mine(e)]}


def plan_authors(plan: dict[str, Any] | None) -> set[str]:
    """The staff ids a plan page mentions (authors of staff entries, responsible staff)."""
    subs: set[str] = set()
    for goal in (plan or {}).get("goals", []):
        subs |= {(e.get("author") or {}).get("id") for e in goal.get("entries", []) if not _mine(e)}
        subs |= {(a.get("responsible") or {}).get("ref") for a in goal.get("actions", [])
                 if (a.get("responsible") or {}).get("kind") == "staff"}
    subs |= {(e.get("author") or {}).get("id") for e in (plan or {}).get("entries", []) if not _mine(e)}
    return {s for s in subs if s}


async def my_plan(backends: Backends, user: SignedIn) -> dict[str, Any]:
    plan, versions = await backends.gather(backends.get("plans", f"{_base(user)}/plan", user.token),
                                           backends.get("plans", f"{_base(user)}/plan/versions", user.token))
    return {"plan": Part(data=plan_view(plan.data) if plan.ok else None, problem=plan.problem),
            "versions": Part.of(versions), "signed_out": _signed_out(plan, versions)}


async def add_plan_entry(backends: Backends, user: SignedIn, *, kind: str, text: str, goal_id: str | None,
                         replies_to: str | None) -> Reply:
    body = {"kind": kind, "text": text, "written_with_citizen": True, "goal_id": goal_id or None,
            "replies_to": replies_to or None}
    return await backends.post("plans", f"{_base(user)}/plan/entries", user.token, json=body)


async def propose_goal(backends: Backends, user: SignedIn, *, text: str, kind: str) -> Reply:
    return await backends.post("plans", f"{_base(user)}/plan/goals", user.token,
                               json={"text": text, "kind": kind or "develop", "written_with_citizen": True})


# ---------------------------------------------------------------- Min sag


async def my_case(backends: Backends, user: SignedIn) -> dict[str, Any]:
    reply = await backends.get("referrals", "/api/v1/me/referrals", user.token)
    names = await botilbud_names(backends, user)
    cases = reply.data if reply.ok else None
    for case in cases or []:
        case["offer_name"] = names.get(f"offer:{case.get('offer_id')}") if case.get("offer_id") else None
    return {"cases": Part(data=cases, problem=reply.problem), "signed_out": reply.signed_out}


# ---------------------------------------------------------------- Mit netværk


async def my_network(backends: Backends, user: SignedIn) -> dict[str, Any]:
    """My network by name and role (plans), the meetings I called, and the nurse consultants I may
    choose as tovholder (health)."""
    calls = [backends.get("plans", f"{_base(user)}/network", user.token),
             backends.get("plans", f"{_base(user)}/network/meetings", user.token)]
    if user.principal.botilbud:
        calls.append(backends.get("health", f"/api/v1/botilbud/{user.principal.botilbud}/nurse-consultants", user.token))
    replies = await backends.gather(*calls)
    nurses = Part.of(replies[2]) if len(replies) > 2 else Part(data={"nurse_consultants": []})
    return {"network": Part.of(replies[0]), "meetings": Part.of(replies[1]), "nurses": nurses,
            "signed_out": _signed_out(*replies)}


async def call_meeting(backends: Backends, user: SignedIn, *, reason: str, wanted: list[str]) -> Reply:
    return await backends.post("plans", f"{_base(user)}/network/meetings", user.token,
                               json={"reason": reason, "wanted": wanted})


async def choose_tovholder(backends: Backends, user: SignedIn, nurse_sub: str) -> Reply:
    return await backends.call("health", "PUT", f"{_base(user)}/tovholder", user.token,
                               json={"nurse_consultant_sub": nurse_sub})


# ---------------------------------------------------------------- Mine samtykker


async def my_consents(backends: Backends, user: SignedIn) -> dict[str, Any]:
    reply = await backends.get("plans", f"{_base(user)}/consents", user.token)
    data = reply.data if reply.ok else None
    if data:
        data["in_force"] = [c for c in data["consents"] if c.get("in_force")]
        data["ended"] = [c for c in data["consents"] if not c.get("in_force")]
        seen: set[str] = set()
        data["laws"] = []
        for row in data.get("without_consent", []):
            if row["legal_basis"] not in seen:
                seen.add(row["legal_basis"])
                data["laws"].append(row)
    return {"consents": Part(data=data, problem=reply.problem), "signed_out": reply.signed_out}


async def give_consent(backends: Backends, user: SignedIn, *, recipient_kind: str, recipient_id: str,
                       recipient_name: str | None, category: str) -> Reply:
    return await backends.post("plans", f"{_base(user)}/consents", user.token, json={
        "recipient_kind": recipient_kind, "recipient_id": recipient_id, "recipient_name": recipient_name or None,
        "category": category})


async def withdraw_consent(backends: Backends, user: SignedIn, consent_id: str) -> Reply:
    return await backends.post("plans", f"{_base(user)}/consents/{consent_id}/revoke", user.token)


# ---------------------------------------------------------------- Min FIT


async def my_fit(backends: Backends, user: SignedIn) -> dict[str, Any]:
    reply = await backends.get("plans", f"{_base(user)}/fit", user.token)
    return {"fit": Part.of(reply), "signed_out": reply.signed_out}


async def share_fit(backends: Backends, user: SignedIn, session_id: str, shared: bool) -> Reply:
    return await backends.call("plans", "PUT", f"{_base(user)}/fit/{session_id}/sharing", user.token,
                               json={"shared_by_citizen": shared})


def fit_chart_svg(fit: dict[str, Any]) -> str:
    """The ORS/SRS trend as SVG, drawn by pygal (a maintained chart library, server-side), with the
    clinical cut-offs as lines. Sessions on the old 1–10 scale are not in the trend."""
    import pygal
    from pygal.style import Style

    sessions = [s for s in fit.get("sessions", []) if s.get("scale") == "0-40"]
    style = Style(background="#ffffff", plot_background="#ffffff", foreground="#1b1b1b", foreground_strong="#1b1b1b",
                  foreground_subtle="#555555", colors=("#0b4f8a", "#a15c00", "#6b8fb3", "#d9a35c"),
                  font_family="system-ui, sans-serif", label_font_size=14, major_label_font_size=14,
                  legend_font_size=14, title_font_size=16)
    chart = pygal.Line(js=[], style=style, width=640, height=360, explicit_size=True, range=(0, 40), include_x_axis=True, margin_right=40,
                       show_dots=True, dots_size=4, legend_at_bottom=True, legend_at_bottom_columns=2,
                       x_label_rotation=0, truncate_label=-1, disable_xml_declaration=True,
                       show_minor_x_labels=False, x_labels_major_every=max(1, len(sessions) // 6 or 1))
    from services.portal.domain.words import local_date

    chart.x_labels = [local_date(s["held_at"]) for s in sessions]
    chart.add("ORS: hvordan jeg har det", [s.get("ors") for s in sessions])
    chart.add("SRS: hvordan samtalen gik", [s.get("srs") for s in sessions])
    trend = fit.get("trend", {})
    chart.add("ORS-grænse (25)", [trend.get("ors", {}).get("cutoff", 25)] * len(sessions), show_dots=False,
              stroke_style={"dasharray": "6,4"})
    chart.add("SRS-grænse (36)", [trend.get("srs", {}).get("cutoff", 36)] * len(sessions), show_dots=False,
              stroke_style={"dasharray": "6,4"})
    return chart.render(is_unicode=True)


# ---------------------------------------------------------------- Min log


SERVICES = ("referrals", "plans", "health", "notifications")


def log_since(period: str) -> datetime | None:
    """The start of the chosen period (None: the whole period the services keep)."""
    if period in cw.LOG_PERIODS and period:
        return datetime.now(timezone.utc) - timedelta(days=int(period))
    return None


async def my_log(backends: Backends, user: SignedIn, *, service: str, period: str, before: str | None,
                 hide_mine: bool = False) -> dict[str, Any]:
    """Min log: the four services' access logs merged, newest first, ``LOG_PAGE`` at a time. Each page
    asks every service for the entries below the last one of the page before (``before``, a
    ``log_pages.Edge``: moment, service, entry id — so entries of the same moment are neither skipped nor
    repeated at a page edge); a service that is down is named, and the others still show. ``hide_mine``
    leaves out what the citizen did themselves (the page's window stays the same, so paging never skips
    an entry)."""
    chosen = [service] if service in SERVICES else list(SERVICES)
    since = log_since(period)
    edge = log_pages.parse_edge(before)

    def params(name: str) -> dict[str, Any]:
        cursor = cursor_before(*edge.position_for(name)) if edge else None
        return {"limit": LOG_PAGE, "since": since.isoformat() if since else None, "cursor": cursor}

    replies = await backends.gather(*[backends.get(name, f"{_base(user)}/access-log", user.token, **params(name))
                                      for name in chosen])
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    more = False
    for reply in replies:
        if not reply.ok:
            problems.append(reply.problem or "")
            continue
        entries += (reply.data or {}).get("entries", [])
        more = more or bool((reply.data or {}).get("next_cursor"))
    entries.sort(key=log_pages.order_key, reverse=True)
    window = entries[:LOG_PAGE]
    more = more or len(entries) > LOG_PAGE
    shown = [e for e in window if not (hide_mine and e.get("mine"))]
    names = await botilbud_names(backends, user)
    for entry in shown:
        org = entry.get("actor_organisation")
        entry["organisation"] = names.get(org or "", org)
        entry["service_label"] = cw.label(cw.LOG_SERVICES, entry.get("service"))
        entry["kind_label"] = cw.label(cw.LOG_KINDS, entry.get("kind"), "Set eller ændret")
    return {"entries": shown, "problems": problems, "signed_out": _signed_out(*replies),
            "next_before": log_pages.edge_of(window[-1]).encode() if more and window else None}
