"""What every request passes before a route sees it (``create_service`` installs both middlewares).

``RequestGuard``, in this order:
1. A request to a JSON API (``/api/…``, ``/integration/…``) that has a body is authenticated first:
   without a valid bearer token it gets 401 and not one byte of its body is read. Otherwise anyone
   could make a service buffer and parse large bodies (8 × 50 MB raised one service from 190 to 713 MB).
2. The body is capped (``max_request_body_bytes``): a larger ``Content-Length`` is refused with 413
   before reading; a streamed (chunked) body is counted and refused the moment it passes the cap.
3. A safety net for staff and citizen APIs and pages: a NUL character (in the path, the query string,
   a JSON string or a form field) gets 422 here, because PostgreSQL can store it in neither text nor
   jsonb and would turn it into a 500. Partner paths are left alone: they answer with receipts
   (``tovholder.receipts``), which must describe every refusal.

``SecurityHeaders``: ``nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy`` on every answer,
and a Content-Security-Policy without inline scripts or styles on every HTML page (not on the
OpenAPI docs, whose Swagger UI needs inline script).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tovholder.auth import PRINCIPAL_SCOPE_KEY, TokenVerifier, authenticate, is_json_api_path, is_partner_path
from tovholder.errors import PayloadTooLarge, TovholderError, Unauthorized, error_body
from tovholder.fhir import FHIR_JSON, outcome_body
from tovholder.scim import SCIM_JSON, error_body as scim_error_body
from tovholder.settings import Settings

# A JSON escape \u0000 that is not itself escaped: preceded by an even number of backslashes.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
ALWAYS_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Page URLs name citizens (/borgere/<id>): they never travel to another origin in a Referer.
    "referrer-policy": "same-origin",
}


def human_size(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier, max_body_bytes: int) -> None:
        self.app = app
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        partner = is_partner_path(path)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        has_body = "transfer-encoding" in headers or (declared is not None and declared.strip() != "0")

        if has_body and is_json_api_path(path):
            try:
                scope[PRINCIPAL_SCOPE_KEY] = authenticate(self.verifier, path, headers)
            except Unauthorized as refusal:
                await self._refuse(scope, receive, send, refusal, headers={"WWW-Authenticate": "Bearer"})
                return
        if not partner:
            where = self._nul_outside_body(scope)
            if where:
                await self._refuse_nul(scope, receive, send, where)
                return
        if not has_body:
            await self.app(scope, receive, send)
            return

        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_body_bytes):
            await self._refuse(scope, receive, send, self._too_large(partner))
            return
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            await self._refuse(scope, receive, send, self._too_large(partner))
            return
        except _Disconnected:
            return  # the client went away; there is nobody to answer
        if not partner and self._nul_in_body(headers.get("content-type", ""), body):
            await self._refuse_nul(scope, receive, send, "body")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, partner: bool) -> PayloadTooLarge:
        limit = human_size(self.max_body_bytes)
        if partner:
            return PayloadTooLarge(f"The request body is larger than {limit}; nothing was read or stored.")
        return PayloadTooLarge(f"Forespørgslen er større end {limit}; intet er læst eller gemt.")

    @staticmethod
    def _nul_outside_body(scope: Scope) -> str | None:
        if "\x00" in scope["path"]:
            return "path"
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            return "query"
        return None

    @staticmethod
    def _nul_in_body(content_type: str, body: bytes) -> bool:
        if b"\x00" in body:
            return True
        if "application/x-www-form-urlencoded" in content_type:
            return b"%00" in body
        if content_type.startswith("multipart/"):
            return False  # files may hold any byte; no route stores an upload as text
        return bool(_JSON_NUL.search(body))

    async def _refuse_nul(self, scope: Scope, receive: Receive, send: Send, where: str) -> None:
        message = "Teksten indeholder et NUL-tegn (\\u0000), som ikke kan gemmes; fjern det og prøv igen."
        response = JSONResponse(error_body("control-character", message, errors=[f"{where}: {message}"]), status_code=422)
        await response(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: TovholderError,
                      headers: dict[str, str] | None = None) -> None:
        if scope["path"].startswith("/scim/"):  # a provisioning client reads SCIM errors (tovholder.scim)
            response = JSONResponse(scim_error_body(error.status_code, error.message), status_code=error.status_code,
                                    headers=headers, media_type=SCIM_JSON)
            await response(scope, receive, send)
            return
        body = (outcome_body(error.status_code, error.message) if scope["path"].startswith("/fhir/")
                else error_body(error.code, error.message))
        response = JSONResponse(body, status_code=error.status_code, headers=headers,
                                media_type=FHIR_JSON if scope["path"].startswith("/fhir/") else None)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the app the body already read, then the client's own messages (e.g. a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, csp_exempt_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.csp_exempt_paths = frozenset(csp_exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS_HEADERS.items():
                    headers.setdefault(name, value)
                is_page = headers.get("content-type", "").startswith("text/html")
                if is_page and scope["path"] not in self.csp_exempt_paths:
                    headers.setdefault("content-security-policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_guards(app: FastAPI, settings: Settings, verifier: TokenVerifier) -> None:
    """The request guard inside, the security headers outside (so the guard's refusals get them too)."""
    app.add_middleware(RequestGuard, verifier=verifier, max_body_bytes=settings.max_request_body_bytes)
    docs: list[Any] = [app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url]
    app.add_middleware(SecurityHeaders, csp_exempt_paths=[p for p in docs if p])
