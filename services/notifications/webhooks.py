"""How a delivery leaves the building: resolve the callback host, check every address it resolves to,
then POST to the checked address — never to whatever the name resolves to a moment later.

The connection goes to the pinned IP address while the request keeps the partner's host name in the
``Host`` header and in TLS (SNI and certificate verification, httpx's ``sni_hostname`` extension), so a
name that resolves to a public address at the check and to an internal one at connect time (DNS
rebinding) never reaches the internal one. The host is resolved at registration and again before
every attempt. What a partner reads about a failure is a short class (``timeout``, ``tls``, …), never
the network error itself: the delivery log must not become a port scanner.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx

from services.notifications.domain.delivery import address_refusal, host_address, validate_callback_url

Resolver = Callable[[str, int], Awaitable[list[str]]]

DNS = "dns"
ADDRESS_NOT_ALLOWED = "address-not-allowed"
TIMEOUT = "timeout"
CONNECTION_REFUSED = "connection-refused"
TLS = "tls"
CONNECTION_FAILED = "connection-failed"  # reset, unreachable, closed early: nothing a partner can narrow down further


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


class CallbackRefused(Exception):
    """The callback may not be called: ``failure`` is the short class, ``reason`` the English sentence
    a partner gets at registration (it never names the addresses a host resolved to)."""

    def __init__(self, failure: str, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    url: httpx.URL
    address: str  # the checked IP address the connection goes to

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")  # IDNA-encoded, as DNS, Host and SNI want it

    @property
    def is_address_literal(self) -> bool:
        return host_address(self.host) is not None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.url.port}" if self.url.port is not None else host

    @property
    def pinned_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)


async def resolve_callback(url: str, *, allow_loopback: bool, resolve: Resolver = system_resolver) -> CallbackTarget:
    """Check ``url`` (raises the domain's ``InvalidInput`` for a malformed or refused spelling), resolve
    its host and check every address; ``CallbackRefused`` when it does not resolve or any address is
    not allowed (one internal address among public ones is enough to refuse)."""
    validate_callback_url(url, allow_loopback=allow_loopback)
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    literal = host_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            resolved = await resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
            addresses = [ipaddress.ip_address(a) for a in resolved]
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise CallbackRefused(DNS, "callback_url host does not resolve")
    for address in addresses:
        refusal = address_refusal(address, allow_loopback=allow_loopback)
        if refusal:
            raise CallbackRefused(ADDRESS_NOT_ALLOWED, f"callback_url must point at a public host; its host resolves to {refusal}")
    return CallbackTarget(parsed, str(addresses[0]))


def delivery_client(*, timeout_s: float, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout_s,
        verify=verify,
        follow_redirects=False,  # a redirect would lead to an address nobody checked
        trust_env=False,  # no proxy from the environment: the connection goes to the checked address
        # No kept-alive connections: the pool is keyed by the pinned address, and a TLS connection
        # verified for one partner's name must not carry another partner's request to the same address.
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def post_pinned(client: httpx.AsyncClient, target: CallbackTarget, body: bytes, headers: dict[str, str]) -> int:
    """POST to the checked address; the answer's status code (its body is not read)."""
    extensions = {}
    if target.url.scheme == "https" and not target.is_address_literal:
        extensions["sni_hostname"] = target.host.removesuffix(".")
    async with client.stream("POST", target.pinned_url, content=body, extensions=extensions,
                             headers={**headers, "Host": target.host_header}) as response:
        return response.status_code


Sender = Callable[[CallbackTarget, bytes, dict[str, str]], Awaitable[int]]


@dataclass(frozen=True)
class Outbound:
    """How deliveries leave: the callback host is resolved and checked before every attempt, and
    ``send`` POSTs to the checked address (``post_pinned``). Tests pass their own resolver."""

    send: Sender
    allow_loopback: bool = False
    resolve: Resolver = system_resolver


def http_outbound(client: httpx.AsyncClient, *, allow_loopback: bool, resolve: Resolver = system_resolver) -> Outbound:
    async def send(target: CallbackTarget, body: bytes, headers: dict[str, str]) -> int:
        return await post_pinned(client, target, body, headers)

    return Outbound(send, allow_loopback, resolve)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def failure_class(error: BaseException) -> str:
    """The short class of a failed attempt, for the partner's delivery log."""
    if isinstance(error, CallbackRefused):
        return error.failure
    if isinstance(error, httpx.TimeoutException):
        return TIMEOUT
    for cause in _causes(error):
        if isinstance(cause, (ssl.SSLError, ssl.CertificateError)):
            return TLS
        if isinstance(cause, ConnectionRefusedError):
            return CONNECTION_REFUSED
        if isinstance(cause, TimeoutError):
            return TIMEOUT
    text = str(error).lower()
    if "connection refused" in text:
        return CONNECTION_REFUSED
    if "ssl" in text or "certificate" in text:
        return TLS
    return CONNECTION_FAILED
