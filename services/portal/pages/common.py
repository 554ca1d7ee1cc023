"""What every page module shares: the templates, rendering with the page policy, the session cookie,
"who is signed in", and the way to send a person back to sign-in.

The pages are thin like every ``api.py``: read the session, call one use case in ``services``, render a
template. One module per area (``sign_in``, ``work_queue``, ``citizens``, ``visitation``, ``operations``, …),
each with its own ``router``; ``pages.install`` includes them all.
Every form carries a CSRF token (the session's synchroniser token; before sign-in the kit's login
nonce, ``tovholder.page_sessions``); answers get the kit's security headers (nosniff, DENY, a CSP
without inline scripts or styles). The session cookie holds a random id only: HttpOnly, Secure,
SameSite=Lax (browsers accept Secure cookies from http://127.0.0.1 and localhost, so local use works)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.portal import services as sl
from services.portal.domain import words
from services.portal.domain.navigation import screens_for
from services.portal.domain.queue import ACTIONS
from services.portal.domain.redirects import safe_next
from services.portal.oidc import SignInFailed
from tovholder.clock import today  # noqa: F401 — the pages' "today" is the Copenhagen day, one rule in the kit
from tovholder.guards import ALWAYS_HEADERS, PAGE_CSP

log = logging.getLogger(__name__)
HERE = Path(__file__).parent.parent
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
COOKIE = "tovholder_portal"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters.update(dato=words.local_date, tidspunkt=words.local_datetime)
TEMPLATES.globals.update(role_label=words.role_label, status_label=words.task_status_label,
                         network_role=words.network_role_label, la2_label=words.la2_label,
                         admission_label=words.admission_label,
                         priority_label=words.priority_label, service_label=words.service_label,
                         case_status=words.case_status_label)

# Messages a redirect may ask a page to show: by key, so no text from a URL is ever shown.
MESSAGES = {
    "logget-ud": "Du er logget ud.",
    "udloebet": "Du var væk for længe, så du er logget ud. Log ind igen.",
    "log-ind": "Log ind for at fortsætte.",
    "forkert-formular": "Formularen var forældet; prøv igen.",
    **{f"opgave-{key}": message for key, (_, message) in ACTIONS.items()},
}



def ctx_of(request: Request):
    return request.app.state.ctx


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = context.get("user")
    context.setdefault("screens", screens_for(user.principal.role) if user else ())
    context.setdefault("path", request.url.path)
    response = HTMLResponse(TEMPLATES.get_template(template).render(**context), status_code=status_code)
    response.headers["content-security-policy"] = page_csp(ctx_of(request))
    response.headers.update(ALWAYS_HEADERS)  # also on error pages, which pass no middleware
    response.headers["cache-control"] = "no-store"  # pages show personal data
    return response


def page_csp(ctx) -> str:
    """The kit's page policy; forms may also lead to the identity provider (sign-in and sign-out redirect there)."""
    if ctx.oidc is None:
        return PAGE_CSP
    issuer = urlsplit(ctx.oidc.issuer)
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}")


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    max_age = int(ctx_of(request).config.session_max_hours * 3600)
    response.set_cookie(COOKIE, cookie, max_age=max_age, httponly=True, secure=True, samesite="lax", path="/")


def to_sign_in(request: Request, message: str = "log-ind") -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/logind?besked={message}"
    if request.method == "GET" and here != "/":
        target += f"&naeste={quote(safe_next(here))}"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def signed_in(request: Request) -> sl.SignedIn | None:
    """The person behind this request, with a fresh access token when the provider gave a refresh token."""
    ctx = ctx_of(request)
    async with ctx.uow() as uow:
        user = await sl.current_session(uow, ctx.box, ctx.config.session_policy, request.cookies.get(COOKIE))
        if user is None or ctx.oidc is None or not user.refresh_token or not user.access_expires_at:
            return user
        if (user.access_expires_at - sl.now_utc()).total_seconds() > 30:
            return user
        try:
            tokens = await ctx.oidc.refresh(user.refresh_token)
        except SignInFailed as failure:
            log.info("refreshing a session's token failed: %s", failure.reason)
            return user  # the services will refuse the old token, and the page signs the person out
        return await sl.renew_tokens(uow, ctx.box, user, access_token=tokens.access_token,
                                     refresh_token=tokens.refresh_token, access_expires_at=token_expiry(tokens.expires_at))


def token_expiry(expires_at: float | None) -> datetime | None:
    return datetime.fromtimestamp(expires_at, timezone.utc) if expires_at else None



async def expired(request: Request) -> Response:
    """A service refused the person's token (expired, or revoked): end the session, sign in again."""
    ctx = ctx_of(request)
    async with ctx.uow() as uow:
        await sl.end_session(uow, ctx.box, request.cookies.get(COOKIE))
    return to_sign_in(request, "udloebet")


async def page_user(request: Request, *, roles: tuple[str, ...] | None = None,
                    refusal: str = "Siden er for medarbejdere.", audit_action: str | None = None) -> sl.SignedIn | Response:
    """The signed-in person allowed on this page, or the answer to give instead: off to sign-in, or a
    Danish 403 page — the refusal audited (``audit_action``, default ``portal.page.refused``).
    ``roles=None`` means any staff member. (The services still decide what data they see.)"""
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    allowed = user.is_staff if roles is None else user.principal.role in roles
    if not allowed:
        async with ctx_of(request).uow() as uow:
            await sl.audit_page_refusal(uow, user.principal, path=request.url.path, action=audit_action)
        return render(request, "error.html", 403, user=user, besked=refusal)
    return user


def query_of(path: str):
    from urllib.parse import parse_qsl

    return parse_qsl(urlsplit(path).query)


def with_message(path: str, key: str) -> str:
    """``path`` with ``besked=key`` (a key of ``MESSAGES``, never text) replacing any earlier message."""
    from urllib.parse import urlencode

    parts = urlsplit(path)
    kept = [(k, v) for k, v in query_of(path) if k != "besked"]
    return f"{parts.path}?{urlencode(kept + [('besked', key)])}"
