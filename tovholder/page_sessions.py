"""Staff page sessions: a login that only the service which issued it honours, and CSRF tokens.

Server-rendered pages keep the login in a cookie. That cookie is
- named after the service (``tovholder_session_<service>``): browsers send a host's cookies to every
  port of it, so one name for all four services would hand each service the others' logins;
- encrypted (Fernet) with a key derived for this service alone, holding the service's name: another
  service cannot use it, nor learn the bearer token inside it;
- HttpOnly, SameSite=Strict, Secure in production, and never accepted by a JSON API (``tovholder.auth``).

Every state-changing page request must carry a CSRF token: for a logged-in person the random token
stored in their session (a synchroniser token); on the login forms, before there is a session, an
HMAC of a random nonce that sits in a short-lived cookie of its own (so a forged form cannot log a
person in as someone else).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request
from fastapi.responses import Response

from tovholder.auth import Principal, TokenVerifier
from tovholder.errors import TovholderError
from tovholder.secretbox import dev_secret
from tovholder.settings import Settings

SESSION_TTL_S = 12 * 3600
LOGIN_NONCE_TTL_S = 3600


@dataclass(frozen=True)
class PageSession:
    principal: Principal
    csrf: str  # put it in every form of the page; check it on every POST


def _master_key(settings: Settings) -> bytes:
    """The key material the page keys are derived from: the service's secret-box key (already a
    required secret in production wherever there are pages), so pages need no secret of their own."""
    if settings.secret_box_key is not None:
        return settings.secret_box_key.get_secret_value().encode()
    if settings.is_production:
        raise RuntimeError("TOVHOLDER_SECRET_BOX_KEY must be set in production: staff page sessions are derived from it")
    return dev_secret(settings, "secret-box-key", Fernet.generate_key)


def _derive(master: bytes, purpose: str, service: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"tovholder {purpose} v1:{service}".encode()).derive(master)


class PageSessions:
    def __init__(self, settings: Settings, verifier: TokenVerifier) -> None:
        self.service = settings.service
        self.secure = settings.is_production
        self.verifier = verifier
        master = _master_key(settings)
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(master, "page session", self.service)))
        self._login_key = _derive(master, "login csrf", self.service)
        self.cookie_name = f"tovholder_session_{self.service}"
        self.login_cookie_name = f"tovholder_login_{self.service}"

    # ------------------------------------------------------------ the session of a logged-in person

    def start(self, response: Response, token: str) -> None:
        """Log in: the (already verified) bearer token goes, encrypted, into this service's cookie."""
        envelope = json.dumps({"svc": self.service, "tok": token, "csrf": secrets.token_urlsafe(24)})
        response.set_cookie(self.cookie_name, self._fernet.encrypt(envelope.encode()).decode(), max_age=SESSION_TTL_S,
                            httponly=True, samesite="strict", secure=self.secure, path="/")
        response.delete_cookie(self.login_cookie_name, path="/")

    def end(self, response: Response) -> None:
        response.delete_cookie(self.cookie_name, path="/")

    def read(self, request: Request) -> PageSession | None:
        """The session, if the cookie is this service's, unexpired, and its token still valid."""
        raw = request.cookies.get(self.cookie_name)
        if not raw:
            return None
        try:
            envelope = json.loads(self._fernet.decrypt(raw.encode(), ttl=SESSION_TTL_S))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(envelope, dict) or envelope.get("svc") != self.service:
            return None
        try:
            principal = self.verifier.verify(str(envelope.get("tok")))
        except TovholderError:
            return None
        return PageSession(principal=principal, csrf=str(envelope.get("csrf")))

    @staticmethod
    def csrf_ok(session: PageSession, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())

    # ------------------------------------------------------------ the login forms (no session yet)

    def login_nonce(self, request: Request) -> str:
        """The browser's login nonce (a new one if it has none); keep it with ``keep_login_nonce``."""
        nonce = request.cookies.get(self.login_cookie_name) or ""
        return nonce if 16 <= len(nonce) <= 64 and nonce.isalnum() else secrets.token_hex(16)

    def login_csrf(self, nonce: str) -> str:
        """The token the login forms carry for this nonce."""
        return hmac.new(self._login_key, nonce.encode(), hashlib.sha256).hexdigest()

    def keep_login_nonce(self, response: Response, nonce: str) -> None:
        response.set_cookie(self.login_cookie_name, nonce, max_age=LOGIN_NONCE_TTL_S, httponly=True,
                            samesite="strict", secure=self.secure, path="/")

    def login_csrf_ok(self, request: Request, submitted: str | None) -> bool:
        nonce = request.cookies.get(self.login_cookie_name)
        return bool(nonce and submitted) and hmac.compare_digest(self.login_csrf(nonce), str(submitted))


def page_sessions(request: Request) -> PageSessions:
    """The service's page sessions (created once per service)."""
    ctx = request.app.state.ctx
    if "page_sessions" not in ctx.extras:
        ctx.extras["page_sessions"] = PageSessions(ctx.settings, ctx.verifier)
    return ctx.extras["page_sessions"]
