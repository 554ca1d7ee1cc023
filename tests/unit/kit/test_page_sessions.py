"""Page sessions (tovholder.page_sessions): the cookie is readable only by the service that issued
it, tampering or expiry ends it, and the login forms' CSRF token fits only the browser's own nonce."""

from __future__ import annotations

import time

import pytest
from starlette.requests import Request
from starlette.responses import Response

from tovholder.auth import TokenVerifier, issue_dev_token
from tovholder.page_sessions import SESSION_TTL_S, PageSessions
from tovholder.settings import Settings


def settings_for(service: str, tmp_path, **kw) -> Settings:
    return Settings(service=service, state_dir=tmp_path, environment="test", **kw)


def sessions_for(service: str, tmp_path) -> PageSessions:
    settings = settings_for(service, tmp_path)
    return PageSessions(settings, TokenVerifier(settings))


def request_with(cookies: dict[str, str]) -> Request:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", header)] if cookies else []})


def started(sessions: PageSessions, token: str) -> str:
    response = Response()
    sessions.start(response, token)
    cookie = next(v for k, v in response.raw_headers if k == b"set-cookie" and v.startswith(sessions.cookie_name.encode()))
    assert b"HttpOnly" in cookie and b"SameSite=strict" in cookie
    return cookie.decode().split(";")[0].split("=", 1)[1]


@pytest.fixture
def token(tmp_path) -> str:
    return issue_dev_token(settings_for("notifications", tmp_path), role="coordinator", sub="k1", botilbud="orion")


def test_a_session_round_trips_and_holds_no_readable_token(tmp_path, token):
    sessions = sessions_for("notifications", tmp_path)
    value = started(sessions, token)
    # Encrypted, not merely encoded: no part of the token is in the cookie. (Not "k1 not in value":
    # so short a string occurs by chance in base64 ciphertext, which made this test flaky.)
    assert token not in value and all(part not in value for part in token.split("."))
    session = sessions.read(request_with({sessions.cookie_name: value}))
    assert session.principal.sub == "k1" and len(session.csrf) >= 32
    assert sessions.csrf_ok(session, session.csrf) and not sessions.csrf_ok(session, "x") and not sessions.csrf_ok(session, None)


def test_another_service_does_not_honour_the_cookie(tmp_path, token):
    notifications, referrals = sessions_for("notifications", tmp_path), sessions_for("referrals", tmp_path)
    assert notifications.cookie_name != referrals.cookie_name
    value = started(notifications, token)
    assert referrals.read(request_with({referrals.cookie_name: value, notifications.cookie_name: value})) is None


def test_a_tampered_expired_or_raw_token_cookie_is_no_session(tmp_path, token, monkeypatch):
    sessions = sessions_for("notifications", tmp_path)
    value = started(sessions, token)
    tampered = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    for bad in (tampered, token, "", "x" * 200):
        assert sessions.read(request_with({sessions.cookie_name: bad} if bad else {})) is None
    later = time.time() + SESSION_TTL_S + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert sessions.read(request_with({sessions.cookie_name: value})) is None


def test_the_login_csrf_token_fits_only_its_own_nonce(tmp_path):
    sessions = sessions_for("notifications", tmp_path)
    mine, theirs = sessions.login_nonce(request_with({})), sessions.login_nonce(request_with({}))
    assert mine != theirs
    mine_request = request_with({sessions.login_cookie_name: mine})
    assert sessions.login_nonce(mine_request) == mine  # kept across page loads
    assert sessions.login_csrf_ok(mine_request, sessions.login_csrf(mine))
    assert not sessions.login_csrf_ok(mine_request, sessions.login_csrf(theirs))
    assert not sessions.login_csrf_ok(request_with({}), sessions.login_csrf(mine))  # no nonce cookie
    other_service = sessions_for("referrals", tmp_path)
    assert not sessions.login_csrf_ok(mine_request, other_service.login_csrf(mine))


def test_production_needs_the_secret_box_key(tmp_path):
    production = Settings(service="notifications", state_dir=tmp_path, environment="production",
                          auth_issuer="https://idp.example", auth_jwks_url="https://idp.example/jwks")
    with pytest.raises(RuntimeError, match="SECRET_BOX_KEY"):
        PageSessions(production, TokenVerifier(production))
