"""Sign-in with the municipality's identity provider: OpenID Connect authorization code flow with
PKCE (S256), through Authlib's OAuth 2 client; the ID token is checked with joserfc (Authlib's own
JOSE library): signature against the provider's JWKS, issuer, audience (our client id), expiry and
the nonce we sent.

The provider's metadata comes from ``{issuer}/.well-known/openid-configuration`` (fetched once and
kept). The tokens stay on the server (``services.portal.services``): the browser gets a session id."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token

with warnings.catch_warnings():  # Authlib 1.9 announces a move to its httpx2 package; the client API stays
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

METADATA_TTL_S = 3600


class SignInFailed(Exception):
    """The provider's answer could not be accepted; ``message`` is Danish, for the sign-in page."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason  # English, for the log


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float | None
    id_claims: dict[str, Any]


@dataclass
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str
    nonce: str


class OidcClient:
    def __init__(self, *, issuer: str, client_id: str, client_secret: str | None, scope: str,
                 resource: str | None, http: httpx.AsyncClient, timeout_s: float) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.resource = resource
        self.http = http
        self.timeout_s = timeout_s
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: KeySet | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata[0] > METADATA_TTL_S:
            try:
                response = await self.http.get(f"{self.issuer}/.well-known/openid-configuration", timeout=self.timeout_s)
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as error:
                raise SignInFailed("Kommunens login kan ikke nås lige nu; prøv igen om lidt.",
                                   f"OpenID provider metadata unavailable: {error}") from None
            if document.get("issuer", "").rstrip("/") != self.issuer:
                raise SignInFailed("Kommunens login er sat forkert op; kontakt support.",
                                   f"issuer mismatch: {document.get('issuer')!r} != {self.issuer!r}")
            self._metadata = (time.monotonic(), document)
            self._keys = None
        return self._metadata[1]

    def _client(self, redirect_uri: str | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id, client_secret=self.client_secret, scope=self.scope, redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
            timeout=self.timeout_s,
        )

    async def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        extra = {"nonce": nonce}
        if self.resource:
            extra["resource"] = self.resource
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=state,
                                                     code_verifier=verifier, **extra)
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier, nonce=nonce)

    async def exchange(self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str) -> TokenSet:
        metadata = await self.metadata()
        extra = {"resource": self.resource} if self.resource else {}
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                                 code_verifier=code_verifier, redirect_uri=redirect_uri, **extra)
        except Exception as error:  # noqa: BLE001 - Authlib raises its own OAuthError or httpx errors
            raise SignInFailed("Login mislykkedes hos kommunens login; prøv igen.", f"token request failed: {error}") from None
        id_token = token.get("id_token")
        if not id_token:
            raise SignInFailed("Login mislykkedes: kommunens login sendte ikke hvem du er.", "no id_token in the answer")
        claims = await self.verify_id_token(id_token, nonce=nonce)
        return _token_set(token, id_claims=claims)

    async def refresh(self, refresh_token: str) -> TokenSet:
        metadata = await self.metadata()
        extra = {"resource": self.resource} if self.resource else {}
        try:
            async with self._client() as client:
                token = await client.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token, **extra)
        except Exception as error:  # noqa: BLE001
            raise SignInFailed("Dit login er udløbet; log ind igen.", f"refresh failed: {error}") from None
        return _token_set(token, id_claims={}, refresh_token=refresh_token)

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self.metadata()
            response = await self.http.get(metadata["jwks_uri"], timeout=self.timeout_s)
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        algorithms = ["RS256", "PS256", "ES256"]
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except JoseError:
                decoded = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=algorithms)  # keys rotated
            jwt.JWTClaimsRegistry(
                leeway=30, iss={"essential": True, "value": self.issuer}, aud={"essential": True, "value": self.client_id},
                sub={"essential": True}, exp={"essential": True}, nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError, httpx.HTTPError) as error:
            raise SignInFailed("Login mislykkedes: svaret fra kommunens login kunne ikke godkendes.",
                               f"id_token rejected: {error}") from None
        return dict(decoded.claims)

    async def end_session_url(self, *, id_token: str | None, after: str) -> str | None:
        """Where to send the browser so the provider signs the person out too (RP-initiated logout)."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except SignInFailed:
            return None
        if not endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": after}
        if id_token:
            params["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(params)}"


def _token_set(token: dict[str, Any], *, id_claims: dict[str, Any], refresh_token: str | None = None) -> TokenSet:
    expires_at = token.get("expires_at")
    return TokenSet(access_token=token["access_token"], refresh_token=token.get("refresh_token") or refresh_token,
                    id_token=token.get("id_token"), expires_at=float(expires_at) if expires_at else None,
                    id_claims=id_claims)
