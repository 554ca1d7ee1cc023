"""The four services as the portal sees them: one pooled ``httpx.AsyncClient`` with timeouts, the
signed-in person's own token on every call (so each service authorises and audits as it always does),
and an answer a page can always render: the data, or a Danish sentence saying what went wrong.

A service that is down or slow costs its own part of a page, never the whole page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from services.portal.domain.words import ERROR_LABELS, service_label
from tovholder.telemetry import inject_headers

log = logging.getLogger(__name__)
SERVICES = ("referrals", "plans", "health", "notifications")
STREAM_READ_S = 60.0
# An idle pooled connection is dropped before the services' server would close it (uvicorn: 5 s): at the
# same 5 s a form's POST could go out on a connection being closed (a ReadError; a POST is never resent).
KEEPALIVE_EXPIRY_S = 2.0


@dataclass
class Reply:
    service: str
    status: int | None
    data: Any = None
    problem: str | None = None  # Danish, for the page; None when the call succeeded
    code: str | None = None  # the service's stable error code, or "unreachable"/"timeout"/"server-error"
    headers: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def signed_out(self) -> bool:
        """The service no longer accepts the person's token: the portal must sign them in again."""
        return self.status == 401


def problem_for(service: str, status: int, body: Any) -> tuple[str, str]:
    """(code, Danish sentence) for a refusal or failure the service answered with."""
    code = body.get("code") if isinstance(body, dict) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    if status >= 500:
        if status == 503:
            return code or "unavailable", f"{service_label(service)} kan ikke svare lige nu; intet er ændret. Prøv igen om lidt."
        return code or "server-error", f"{service_label(service)} har en fejl lige nu; intet er ændret."
    if code in ERROR_LABELS:
        return code, ERROR_LABELS[code]
    if code == "invalid-request" or status == 422 and not isinstance(detail, str):
        return code or "invalid-request", "Nogle af oplysningerne er ikke gyldige; ret dem og prøv igen."
    if isinstance(detail, str) and detail:
        return code or "refused", detail  # the services answer staff and citizens in Danish
    return code or "refused", f"{service_label(service)} afviste forespørgslen."


class Backends:
    def __init__(self, urls: dict[str, str], *, timeout_s: float, connect_timeout_s: float, max_connections: int,
                 max_streams: int = 1000, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.timeout_s = timeout_s
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                                keepalive_expiry=KEEPALIVE_EXPIRY_S),
            transport=transport, follow_redirects=False,
        )

        # Streams (server-sent events) hold a connection for minutes: they get a pool of their own, so
        # they can never use up the connections the pages need. Reads may pause up to STREAM_READ_S
        # (the services send a comment every 15 s).
        self.streams = httpx.AsyncClient(
            timeout=httpx.Timeout(STREAM_READ_S, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max_streams, max_keepalive_connections=0),
            transport=transport, follow_redirects=False,
        )

    async def close(self) -> None:
        await self.client.aclose()
        await self.streams.aclose()

    @contextlib.asynccontextmanager
    async def stream(self, service: str, path: str, token: str, params: dict[str, Any] | None = None):
        """A long-lived GET (``text/event-stream``); yields the response (check its status first)."""
        headers = inject_headers({"authorization": f"Bearer {token}", "accept": "text/event-stream"})
        async with self.streams.stream("GET", f"{self.urls[service]}{path}", params=_clean(params),
                                       headers=headers) as response:
            yield response

    async def call(self, service: str, method: str, path: str, token: str, *, params: dict[str, Any] | None = None,
                   json: Any = None) -> Reply:
        url = f"{self.urls[service]}{path}"
        headers = inject_headers({"authorization": f"Bearer {token}", "accept": "application/json"})
        try:
            try:
                response = await self.client.request(method, url, params=_clean(params), json=json, headers=headers)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if method != "GET":
                    raise
                # A kept-alive connection the service had just closed: a read is safe to send once more.
                response = await self.client.request(method, url, params=_clean(params), json=json, headers=headers)
        except httpx.TimeoutException:
            log.warning("%s did not answer %s %s within %.1f s", service, method, path.split("?")[0], self.timeout_s)
            return Reply(service, None, problem=f"{service_label(service)} svarer ikke lige nu (ventede {self.timeout_s:g} sekunder). "
                         "Resten af siden virker; prøv igen om lidt.", code="timeout")
        except httpx.TransportError as error:
            log.warning("%s unreachable for %s %s: %s", service, method, path.split("?")[0], type(error).__name__)
            return Reply(service, None, problem=f"{service_label(service)} kan ikke nås lige nu. "
                         "Resten af siden virker; prøv igen om lidt.", code="unreachable")
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            return Reply(service, response.status_code, data=body, headers=dict(response.headers))
        code, problem = problem_for(service, response.status_code, body)
        return Reply(service, response.status_code, data=body, problem=problem, code=code)

    async def get(self, service: str, path: str, token: str, **params: Any) -> Reply:
        return await self.call(service, "GET", path, token, params=params)

    async def post(self, service: str, path: str, token: str, json: Any = None) -> Reply:
        return await self.call(service, "POST", path, token, json=json)

    async def gather(self, *calls) -> list[Reply]:
        """Several calls side by side (a page that needs four services waits for the slowest, not the sum)."""
        return list(await asyncio.gather(*calls))


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in params.items() if v not in (None, "")} if params else None
