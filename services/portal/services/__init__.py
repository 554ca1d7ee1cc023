"""The portal's use cases: sessions (sign in, who is signed in, sign out, idle timeout) and the data
each page needs, gathered from the four services with the person's own token. An area with many
screens keeps its use cases in its own module beside this one (``services.portal.services.<area>``).

A session lives on the server (``portal_sessions``): the browser's cookie holds a random value whose
SHA-256 is the row's key, so signing out — or 30 idle minutes — ends it everywhere at once. The
person's tokens never leave the server: they are encrypted at rest and sent only to the services."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from services.portal import repository as repo
from services.portal.backends import Backends, Reply
from services.portal.domain.navigation import STAFF_ROLES
from services.portal.models import PendingSignIn, PortalSession
from tovholder.auth import Principal
from tovholder.secretbox import SecretBox
from tovholder.uow import UnitOfWork

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per session
SIGN_IN_TTL = timedelta(minutes=10)  # a sign-in started at the provider must come back within this


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request: who they are, their token for the services, and the form token."""

    principal: Principal
    token: str
    csrf: str
    id_hash: str
    refresh_token: str | None = None
    access_expires_at: datetime | None = None

    @property
    def is_staff(self) -> bool:
        return self.principal.role in STAFF_ROLES

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and secrets.compare_digest(self.csrf.encode(), str(submitted).encode())


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta


async def start_session(uow: UnitOfWork, box: SecretBox, policy: SessionPolicy, principal: Principal, *,
                        access_token: str, refresh_token: str | None = None, id_token: str | None = None,
                        access_expires_at: datetime | None = None, how: str) -> str:
    """A new session; returns the cookie value (shown to nobody but the browser)."""
    cookie = secrets.token_urlsafe(32)
    now = now_utc()
    await repo.add_session(uow.session, PortalSession(
        id_hash=_digest(cookie), sub=principal.sub, role=principal.role, principal=principal.model_dump(),
        access_token=box.encrypt(access_token), refresh_token=box.encrypt(refresh_token) if refresh_token else None,
        id_token=box.encrypt(id_token) if id_token else None, access_expires_at=access_expires_at,
        csrf=secrets.token_urlsafe(32), created_at=now, last_seen_at=now, expires_at=now + policy.max_age,
    ))
    if principal.role in STAFF_ROLES:
        await repo.remember_person(uow.session, sub=principal.sub, name=principal.name, role=principal.role,
                                   botilbud_id=principal.botilbud, at=now)
    uow.audit(principal, "portal.signed-in", object_type="session", detail={"how": how})
    await uow.commit()
    return cookie


async def current_session(uow: UnitOfWork, box: SecretBox, policy: SessionPolicy, cookie: str | None) -> SignedIn | None:
    """The session this cookie names, if it is neither idle too long nor too old (else it is removed)."""
    if not cookie or len(cookie) > 100:
        return None
    id_hash = _digest(cookie)
    row = await repo.get_session(uow.session, id_hash)
    if row is None:
        return None
    now = now_utc()
    if now - row.last_seen_at > policy.idle or now > row.expires_at:
        await repo.delete_session(uow.session, id_hash)
        await uow.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        await repo.touch_session(uow.session, id_hash, now)
        await uow.commit()
    return SignedIn(principal=Principal(**row.principal), token=box.decrypt(row.access_token), csrf=row.csrf,
                    id_hash=id_hash, refresh_token=box.decrypt(row.refresh_token) if row.refresh_token else None,
                    access_expires_at=row.access_expires_at)


async def renew_tokens(uow: UnitOfWork, box: SecretBox, signed_in: SignedIn, *, access_token: str,
                       refresh_token: str | None, access_expires_at: datetime | None) -> SignedIn:
    await repo.replace_tokens(uow.session, signed_in.id_hash, access_token=box.encrypt(access_token),
                              refresh_token=box.encrypt(refresh_token) if refresh_token else None,
                              access_expires_at=access_expires_at)
    await uow.commit()
    return SignedIn(principal=signed_in.principal, token=access_token, csrf=signed_in.csrf, id_hash=signed_in.id_hash,
                    refresh_token=refresh_token, access_expires_at=access_expires_at)


async def end_session(uow: UnitOfWork, box: SecretBox, cookie: str | None) -> str | None:
    """Sign out: the session is gone on the server. Returns the ID token (the provider's logout hint)."""
    if not cookie or len(cookie) > 100:
        return None
    row = await repo.delete_session(uow.session, _digest(cookie))
    if row is None:
        return None
    uow.audit(Principal(**row.principal), "portal.signed-out", object_type="session")
    await uow.commit()
    return box.decrypt(row.id_token) if row.id_token else None


async def audit_page_refusal(uow: UnitOfWork, principal: Principal, *, path: str, action: str | None = None) -> None:
    """A signed-in person refused a page (a staff member on a citizen's page, a citizen on staff's): on
    record like every refusal in the services (``tovholder.service.audit_refusal``). The page names no
    citizen (a citizen's pages always show the signed-in citizen's own data), so no citizen's log has it."""
    uow.audit(principal, action or "portal.page.refused", object_type="page", detail={"path": path, "status": 403})
    await uow.commit()


async def begin_sign_in(uow: UnitOfWork, box: SecretBox, *, state: str, code_verifier: str, nonce: str,
                        next_path: str) -> None:
    await repo.add_sign_in(uow.session, PendingSignIn(state_hash=_digest(state), code_verifier=box.encrypt(code_verifier),
                                                      nonce=nonce, next_path=next_path, created_at=now_utc()))
    await uow.commit()


@dataclass(frozen=True)
class PendingAnswer:
    code_verifier: str
    nonce: str
    next_path: str


async def take_sign_in(uow: UnitOfWork, box: SecretBox, state: str | None) -> PendingAnswer | None:
    """The sign-in this state belongs to (each state is used once and only for SIGN_IN_TTL)."""
    if not state or len(state) > 200:
        return None
    row = await repo.take_sign_in(uow.session, _digest(state))
    await uow.commit()
    if row is None or now_utc() - row.created_at > SIGN_IN_TTL:
        return None
    return PendingAnswer(code_verifier=box.decrypt(row.code_verifier), nonce=row.nonce, next_path=row.next_path)


async def purge_stale(uow: UnitOfWork, policy: SessionPolicy) -> int:
    now = now_utc()
    removed = await repo.delete_stale_sessions(uow.session, idle_before=now - policy.idle, now=now)
    removed += await repo.delete_old_sign_ins(uow.session, now - SIGN_IN_TTL)
    await uow.commit()
    return removed


# ---------------------------------------------------------------- what the pages show


@dataclass
class Part:
    """One part of a page, from one service: its data, or why it is missing (Danish)."""

    data: Any = None
    problem: str | None = None

    @classmethod
    def of(cls, reply: Reply) -> "Part":
        return cls(data=reply.data if reply.ok else None, problem=reply.problem)


async def front_page(backends: Backends, user: SignedIn) -> dict[str, Any]:
    """The front page: the first tasks of my work queue, my newest reminders, and (visitation) the cases."""
    if not user.is_staff:
        reply = await backends.get("referrals", "/api/v1/me/referrals", user.token)
        return {"cases": Part.of(reply), "signed_out": reply.signed_out}
    calls = [backends.get("notifications", "/api/v1/work-queue", user.token, limit=5),
             backends.get("notifications", "/api/v1/notices", user.token)]
    if user.principal.role in ("visitation", "admin"):
        calls.append(backends.get("referrals", "/api/v1/referrals", user.token, limit=5))
    replies = await backends.gather(*calls)
    parts = {"tasks": Part.of(replies[0]), "notices": Part.of(replies[1])}
    if len(replies) > 2:
        parts["cases"] = Part.of(replies[2])
    return {**parts, "signed_out": any(r.signed_out for r in replies)}


# ---------------------------------------------------------------- the work queue

_BOTILBUD_NAMES: dict[str, Any] = {}
BOTILBUD_NAMES_TTL_S = 300.0


async def botilbud_names(backends: Backends, user: SignedIn) -> dict[str, str]:
    """Botilbud id → name (and ``offer:<id>`` → the offer's name), from referrals' offers (not personal
    data; kept a few minutes). No offers yet is not kept: a stack still loading its offers would
    otherwise show ids instead of names for minutes."""
    cached = _BOTILBUD_NAMES.get("names")
    if cached and time.monotonic() - cached[0] < BOTILBUD_NAMES_TTL_S:
        return cached[1]
    reply = await backends.get("referrals", "/api/v1/offers", user.token)
    if not reply.ok or not isinstance(reply.data, list):
        return cached[1] if cached else {}
    names = {o["botilbud_id"]: o["name"] for o in reply.data if o.get("botilbud_id")}
    names |= {f"offer:{o['offer_id']}": o["name"] for o in reply.data if o.get("offer_id")}
    if names:
        _BOTILBUD_NAMES["names"] = (time.monotonic(), names)
    return names


def forget_botilbud_names() -> None:
    """An offer was renamed here: the next page reads the names afresh."""
    _BOTILBUD_NAMES.pop("names", None)


async def work_queue(backends: Backends, user: SignedIn, params: dict[str, str]) -> dict[str, Any]:
    """My queue (one page), the kinds to filter by, and the botilbud names the pools need."""
    from services.portal.domain.queue import actions_for

    queue, kinds = await backends.gather(
        backends.get("notifications", "/api/v1/work-queue", user.token, **params),
        backends.get("notifications", "/api/v1/task-kinds", user.token))
    names = await botilbud_names(backends, user)
    tasks = queue.data if queue.ok else []
    for task in tasks:
        task["actions"] = actions_for(task, user.principal.sub)
        pool = task.get("pool") or {}
        task["pool_label"] = pool_label(pool.get("role"), names.get(pool.get("botilbud") or "", pool.get("botilbud")))
    return {"tasks": Part(data=tasks, problem=queue.problem), "kinds": Part.of(kinds),
            "next_cursor": (queue.headers or {}).get("x-next-cursor"), "signed_out": queue.signed_out or kinds.signed_out}


POOL_ROLES = {"coordinator": "Koordinatorerne", "nurse-consultant": "Sygeplejekonsulenterne", "visitation": "Visitationen"}


def pool_label(role: str | None, botilbud: str | None) -> str:
    if not role:
        return "–"
    who = POOL_ROLES.get(role, "Puljen")
    return f"{who} på {botilbud}" if botilbud else who


async def task_action(backends: Backends, user: SignedIn, task_id: str, action: str, note: str | None) -> Reply:
    from services.portal.domain.queue import ACTIONS

    transition = ACTIONS[action][0]
    path = f"/api/v1/tasks/{task_id}/{transition}"
    body = None
    if transition == "complete":
        body = {"note": note} if note else None
    elif transition == "business-status":
        body = {"business_status": note or None}
    return await backends.post("notifications", path, user.token, json=body)


# ---------------------------------------------------------------- names instead of ids


async def staff_names(uow: UnitOfWork, subs: set[str], *, demo: bool) -> dict[str, str]:
    """sub → "Name (Rolle)" for the staff a page mentions: as they were named at their last sign-in
    (and, on a developer's machine, from the demo data)."""
    from services.portal.domain.words import role_label

    subs = {s for s in subs if s}
    found = {sub: f"{p.name or 'Ukendt navn'} ({role_label(p.role)})" for sub, p in (await repo.people(uow.session, subs)).items()}
    if demo:
        from tovholder.demo import staff_member

        for sub in subs - set(found):
            member = staff_member(sub)
            if member:
                found[sub] = f"{member['name']} ({role_label(member['role'])})"
    return found


# ---------------------------------------------------------------- Borgere and Borgeroverblik

async def citizen_list(backends: Backends, user: SignedIn, *, q: str, mine: bool, offset: int) -> dict[str, Any]:
    """The citizens I may see (notifications), by name, with their open and overdue tasks. The badges
    from plans and health come per card (``citizen_badges``), when the card is shown."""
    reply = await backends.get("notifications", "/api/v1/citizens", user.token, q=q or None,
                               mine="true" if mine else None, limit=50, offset=offset or None)
    rows = reply.data if reply.ok else []
    names = await botilbud_names(backends, user)
    for row in rows:
        row["botilbud_name"] = names.get(row.get("botilbud_id") or "", row.get("botilbud_id") or "–")
    return {"citizens": Part(data=rows, problem=reply.problem), "signed_out": reply.signed_out,
            "more": len(rows) == 50}


async def citizen_badges(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    """A citizen's badges from plans (LA2 colour, a late follow-up) and health (admitted now), where my
    role may see them; a badge my role may not see, or whose service is down, is left out."""
    base = f"/api/v1/citizens/{citizen_id}"
    safety, follow_ups, record = await backends.gather(
        backends.get("plans", f"{base}/safety", user.token),
        backends.get("plans", f"{base}/plan/follow-ups", user.token),
        backends.get("health", f"{base}/health-record", user.token))
    rating = (safety.data or {}).get("rating") if safety.ok else None
    return {"la2": rating.get("level") if rating else None,
            "follow_up_late": follow_ups.ok and any(s.get("late") for s in (follow_ups.data or {}).get("schedules", [])),
            "admission": ((record.data or {}).get("admission") or {}).get("state") if record.ok else None}


async def citizen_overview(backends: Backends, user: SignedIn, citizen_id: str) -> dict[str, Any]:
    """One page per citizen: each part from the service that owns it, side by side; a part my role may
    not see says so, and the rest still shows."""
    base = f"/api/v1/citizens/{citizen_id}"
    calls = {
        "overview": backends.get("notifications", f"{base}/timeline", user.token),
        "network": backends.get("plans", f"{base}/network", user.token),
        "plan": backends.get("plans", f"{base}/plan", user.token),
        "safety": backends.get("plans", f"{base}/safety", user.token),
        "cases": backends.get("referrals", "/api/v1/referrals", user.token, citizen_id=citizen_id, limit=5),
        "health_record": backends.get("health", f"{base}/health-record", user.token),
        "health_timeline": backends.get("health", f"{base}/health-timeline", user.token),
    }
    replies = dict(zip(calls, await backends.gather(*calls.values())))
    parts = {name: Part.of(reply) for name, reply in replies.items()}
    names = await botilbud_names(backends, user)
    overview = parts["overview"].data or {}
    return {**parts, "signed_out": any(r.signed_out for r in replies.values()),
            "name": overview.get("name") or next((c.get("citizen_name") for c in (parts["cases"].data or [])), None),
            "botilbud_name": names.get(overview.get("botilbud_id") or "", overview.get("botilbud_id")),
            "forbidden_overview": replies["overview"].status == 403}


def mentioned_staff(parts: dict[str, Any]) -> set[str]:
    """The staff ids a citizen page mentions (network members, tovholder, task owners, raters)."""
    subs: set[str] = set()
    network = parts["network"].data or {}
    subs |= {m.get("staff_id") for m in network.get("members", [])} | {network.get("tovholder")}
    overview = parts["overview"].data or {}
    subs |= {overview.get("tovholder_sub")} | {t.get("owner") for t in overview.get("tasks", [])}
    rating = (parts["safety"].data or {}).get("rating") or {}
    subs |= {rating.get("rated_by")}
    return {s for s in subs if s}


# ---------------------------------------------------------------- visitation: the cases


async def case_list(backends: Backends, user: SignedIn, *, status: str | None, before: str | None) -> dict[str, Any]:
    """Visitation's cases, newest first (referrals decides who sees which), with names for offers and botilbud."""
    reply = await backends.get("referrals", "/api/v1/referrals", user.token, status=status, before=before, limit=50)
    rows = reply.data if reply.ok else []
    names = await botilbud_names(backends, user)
    for row in rows:
        row["offer_name"] = names.get(f"offer:{row.get('offer_id')}") if row.get("offer_id") else None
        row["botilbud_name"] = names.get(row.get("botilbud_id") or "")
    return {"cases": Part(data=rows, problem=reply.problem), "signed_out": reply.signed_out,
            "next_before": rows[-1]["received_at"] if len(rows) == 50 else None}
