"""Authentication (JWT bearer tokens) and role checks.

Development: tokens from `tovholder token` are HS256-signed with a key created on first run under
the state directory. Production: tokens come from the municipality's OpenID Connect provider,
verified against its JWKS URL and issuer; development tokens are never accepted there.
JSON APIs (``/api/…``, ``/integration/…``) take the token only from ``Authorization: Bearer``: a cookie
is never enough there, because a browser sends cookies along with requests other sites make. Staff
pages keep their login in a page session of their own service (``tovholder.page_sessions``), whose
forms carry a CSRF token.

A token must name its subject (``sub``) and say when it was issued (``iat``) and when it expires
(``exp``); clocks may differ by ``auth_leeway_s``.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Annotated

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel

from tovholder.access import ROLES, STAFF_ROLES, Role  # noqa: F401 - the vocabulary lives in tovholder.access
from tovholder.errors import Forbidden, Unauthorized
from tovholder.settings import Settings

DEV_ISSUER = "tovholder-dev"
REQUIRED_CLAIMS = ("sub", "iat", "exp")
# Partner endpoints (the external contract) answer in English; everything else is read by staff or
# citizens and answers in Danish.
PARTNER_PATH_PREFIXES = ("/integration/", "/fhir/", "/scim/")
JSON_API_PATH_PREFIXES = ("/api/", *PARTNER_PATH_PREFIXES)
# Where the request guard leaves the principal it authenticated before reading the body.
PRINCIPAL_SCOPE_KEY = "tovholder.principal"


def is_partner_path(path: str) -> bool:
    return path.startswith(PARTNER_PATH_PREFIXES)


def is_json_api_path(path: str) -> bool:
    return path.startswith(JSON_API_PATH_PREFIXES)


class InvalidToken(Unauthorized):
    """A missing or unacceptable token; ``message`` is English (partners), ``message_da`` Danish (staff)."""

    def __init__(self, code: str, message: str, message_da: str) -> None:
        super().__init__(message, code=code)
        self.message_da = message_da

    def for_path(self, path: str) -> Unauthorized:
        """The same refusal in the language of whoever calls ``path``."""
        return self if is_partner_path(path) else Unauthorized(self.message_da, code=self.code)


def missing_token() -> InvalidToken:
    return InvalidToken(
        "token-missing",
        "Log in first: send `Authorization: Bearer <token>` (locally: `tovholder token --role ROLE`).",
        "Log ind først: send `Authorization: Bearer <adgangsnøgle>` (lokalt: `tovholder token --role ROLLE`).",
    )


class Principal(BaseModel):
    sub: str
    role: str
    org: str | None = None
    botilbud: str | None = None
    municipality: str | None = None  # visitation staff: the municipality whose cases they handle
    name: str | None = None
    # SMART-style scopes (claim ``scope``, space-separated, e.g. "user/*.read"), when the token has them.
    scope: str | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset((self.scope or "").split())


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
    scope: str | None = None,
    ttl_s: int = 12 * 3600,
) -> str:
    if settings.is_production:
        raise RuntimeError("development tokens are never issued in production")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": settings.auth_audience, "sub": sub, "role": role, "iat": now, "exp": now + ttl_s}
    for key, value in (("org", org), ("botilbud", botilbud), ("municipality", municipality), ("name", name),
                       ("scope", scope)):
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
        """The principal a token names, or InvalidToken (401) with a reason in English and Danish."""
        options = {"require": list(REQUIRED_CLAIMS)}
        leeway = self.settings.auth_leeway_s
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token, key, algorithms=["RS256", "ES256", "PS256"], options=options, leeway=leeway,
                    audience=self.settings.auth_audience, issuer=self.settings.auth_issuer,
                )
            else:
                claims = jwt.decode(
                    token, self._dev_key, algorithms=["HS256"], options=options, leeway=leeway,
                    audience=self.settings.auth_audience, issuer=DEV_ISSUER,
                )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token-expired",
                               "The token has expired; get a new one (locally: `tovholder token --role ...`).",
                               "Adgangsnøglen er udløbet; hent en ny (lokalt: `tovholder token --role …`).") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _incomplete(exc.claim) from None
        except jwt.PyJWTError as exc:
            raise InvalidToken("token-invalid", f"The token is not valid here: {exc}.",
                               "Adgangsnøglen er ikke gyldig her; log ind igen.") from None
        if not str(claims["sub"]).strip():
            raise _incomplete("sub")
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("token-role", f"The token's role {role!r} is not one of {', '.join(ROLES)}.",
                               f"Adgangsnøglens rolle {role!r} er ikke en af {', '.join(ROLES)}.")
        return Principal(
            sub=str(claims["sub"]), role=role, org=claims.get("org"),
            botilbud=claims.get("botilbud"), municipality=claims.get("municipality"), name=claims.get("name"),
            scope=claims.get("scope") if isinstance(claims.get("scope"), str) else None,
        )


_CLAIM_MEANING = {"sub": ("who it is for", "hvem den tilhører"), "iat": ("when it was issued", "hvornår den er udstedt"),
                  "exp": ("when it expires", "hvornår den udløber")}


def _incomplete(claim: str) -> InvalidToken:
    en, da = _CLAIM_MEANING.get(claim, ("a required claim", "en påkrævet oplysning"))
    return InvalidToken("token-incomplete",
                        f"The token lacks the claim {claim!r} ({en}); tokens must carry sub, iat and exp.",
                        f"Adgangsnøglen mangler oplysningen {claim!r} ({da}); hent en ny adgangsnøgle.")


def bearer_token(headers) -> str | None:
    """The token of an ``Authorization: Bearer`` header (never a cookie: see the module docstring)."""
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def authenticate(verifier: TokenVerifier, path: str, headers) -> Principal:
    """The caller of a JSON API, in the language of ``path``; InvalidToken/Unauthorized (401) otherwise."""
    token = bearer_token(headers)
    try:
        if not token:
            raise missing_token()
        return verifier.verify(token)
    except InvalidToken as refusal:
        raise refusal.for_path(path) from None


async def current_principal(request: Request) -> Principal:
    authenticated = request.scope.get(PRINCIPAL_SCOPE_KEY)  # by the request guard, before the body was read
    if authenticated is not None:
        return authenticated
    principal = authenticate(request.app.state.ctx.verifier, request.url.path, request.headers)
    request.scope[PRINCIPAL_SCOPE_KEY] = principal  # the error handler names the caller of a refusal
    return principal


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
