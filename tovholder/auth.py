"""Authentication (JWT bearer tokens) and role checks.

Development: tokens from `tovholder token` are HS256-signed with a key created on first run under
the state directory. Production: tokens come from the municipality's OpenID Connect provider,
verified against its JWKS URL and issuer; development tokens are never accepted there.
Staff pages may carry the same token in the ``tovholder_token`` cookie (set by the login page).
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel

from tovholder.errors import Forbidden, Unauthorized
from tovholder.settings import Settings

Role = Literal["visitation", "coordinator", "nurse-consultant", "partner", "citizen", "admin"]
ROLES: tuple[str, ...] = ("visitation", "coordinator", "nurse-consultant", "partner", "citizen", "admin")
STAFF_ROLES: tuple[str, ...] = ("visitation", "coordinator", "nurse-consultant", "admin")
DEV_ISSUER = "tovholder-dev"
TOKEN_COOKIE = "tovholder_token"


class Principal(BaseModel):
    sub: str
    role: str
    org: str | None = None
    botilbud: str | None = None
    municipality: str | None = None  # visitation staff: the municipality whose cases they handle
    name: str | None = None


def dev_signing_key(settings: Settings) -> bytes:
    """The development signing key, created (0600) on first use."""
    path = settings.dev_signing_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def issue_dev_token(
    settings: Settings,
    *,
    role: str,
    sub: str,
    org: str | None = None,
    botilbud: str | None = None,
    municipality: str | None = None,
    name: str | None = None,
    ttl_s: int = 12 * 3600,
) -> str:
    if settings.is_production:
        raise RuntimeError("development tokens are never issued in production")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": settings.auth_audience, "sub": sub, "role": role, "iat": now, "exp": now + ttl_s}
    for key, value in (("org", org), ("botilbud", botilbud), ("municipality", municipality), ("name", name)):
        if value:
            claims[key] = value
    return jwt.encode(claims, dev_signing_key(settings), algorithm="HS256")


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.oidc = bool(settings.auth_jwks_url)
        if settings.is_production and not (settings.auth_jwks_url and settings.auth_issuer):
            raise RuntimeError("production needs TOVHOLDER_AUTH_ISSUER and TOVHOLDER_AUTH_JWKS_URL")
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True) if self.oidc else None
        self._dev_key = None if self.oidc else dev_signing_key(settings)  # read once, not per request

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token, key, algorithms=["RS256", "ES256", "PS256"],
                    audience=self.settings.auth_audience, issuer=self.settings.auth_issuer,
                )
            else:
                claims = jwt.decode(
                    token, self._dev_key, algorithms=["HS256"],
                    audience=self.settings.auth_audience, issuer=DEV_ISSUER,
                )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired; get a new one (locally: `tovholder token --role ...`).")
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid here: {exc}.")
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthorized(f"The token's role {role!r} is not one of {', '.join(ROLES)}.")
        return Principal(
            sub=str(claims["sub"]), role=role, org=claims.get("org"),
            botilbud=claims.get("botilbud"), municipality=claims.get("municipality"), name=claims.get("name"),
        )


def token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(TOKEN_COOKIE)


async def current_principal(request: Request) -> Principal:
    token = token_from_request(request)
    if not token:
        raise Unauthorized("Log in first: send `Authorization: Bearer <token>` (locally: `tovholder token --role ROLE`).")
    verifier: TokenVerifier = request.app.state.ctx.verifier
    return verifier.verify(token)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str):
    """A dependency that lets through only the given roles, with a 403 that says which are needed."""
    allowed = set(roles)

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"This needs the role {' or '.join(sorted(allowed))}; your token has the role {principal.role}.")
        return principal

    return Depends(check)


async def partner_with_org(principal: Annotated[Principal, require_roles("partner")]) -> Principal:
    """A partner system acts for one organisation: its token must say which (claim ``org``)."""
    if not principal.org:
        raise Forbidden("Your partner token names no organisation (claim 'org', e.g. SOR:1234567); "
                        "ask for a token issued to your organisation.")
    return principal


StaffUser = Annotated[Principal, require_roles(*STAFF_ROLES)]
PartnerUser = Annotated[Principal, Depends(partner_with_org)]
