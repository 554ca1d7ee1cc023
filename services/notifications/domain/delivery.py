"""Outbound delivery to partners: subscription validation, signing, backoff, dead letter.

A delivery is one event for one subscription. Its life::

    pending ──2xx──▶ delivered
       │ └─consent/legal basis missing──▶ withheld   (reason recorded; nothing sent)
       └─failure──▶ retrying ──…──▶ dead            (after ``max_attempts``, or at once on 410 Gone)
    delivered / dead / withheld ──resend──▶ pending

Messages to partners' developers are in English: they are read by people integrating from outside.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from standardwebhooks.webhooks import Webhook

from services.notifications.domain.errors import InvalidInput, TransitionNotAllowed

SIGNATURE_HEADER = "X-Tovholder-Signature"
SIGNATURE_PREFIX = "sha256="
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
MIN_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 512
MAX_URL_LENGTH = 2048


# ---------------------------------------------------------------- signing


def sign(secret: str | bytes, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the exact body bytes>`` — the value of ``X-Tovholder-Signature``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, signature: str | None) -> bool:
    """What a partner does on receipt (constant-time comparison)."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


def standard_webhook_headers(secret: str, *, webhook_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: ``webhook-id`` (the delivery's id, the same on every retry and
    resend, so a receiver can drop duplicates), ``webhook-timestamp`` (this attempt, Unix seconds, so a
    receiver can refuse replays) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
    "id.timestamp.body">``). The key is the subscription's secret as UTF-8 bytes, as for
    ``X-Tovholder-Signature``."""
    seconds = int(at.timestamp())
    # The library reads a str secret as base64 ("whsec_…"); our secrets are the raw shared string.
    signature = Webhook(secret.encode()).sign(webhook_id, datetime.fromtimestamp(seconds, tz=timezone.utc),
                                              body.decode("utf-8"))
    return {WEBHOOK_ID: webhook_id, WEBHOOK_TIMESTAMP: str(seconds), WEBHOOK_SIGNATURE: signature}


def cloudevent_body(
    *, event_id: str, source: str, event_type: str, time: datetime, subject: str, data: Mapping[str, Any]
) -> bytes:
    """A CloudEvent in structured JSON mode (``application/cloudevents+json``): the bytes that get signed."""
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": time.isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str).encode()


# ---------------------------------------------------------------- callback URLs and subscriptions

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# WHATWG URL: a host whose last label is a number is an IPv4 address in some spelling
# ("127.1", "0x7f000001", "2130706433", "017700000001"), or no valid host at all.
_NUMERIC_LABEL = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOOPBACK_SETTING = "TOVHOLDER_WEBHOOK_ALLOW_LOOPBACK"


def is_loopback_name(host: str) -> bool:
    name = host.lower().removesuffix(".")
    return name in LOOPBACK_NAMES or name.endswith(".localhost")


def host_address(host: str) -> IPAddress | None:
    """The address a host spelling denotes, read as browsers and ``inet_aton`` read it; ``None`` for a
    name (to be resolved). ``InvalidInput`` for a host that ends in a number but is no address."""
    bare = host.removesuffix(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_LABEL.fullmatch(bare.rsplit(".", 1)[-1]):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            raise InvalidInput("callback_url has a host that ends in a number but is not a valid IPv4 address") from None
    return None


def _judged_as(address: IPAddress) -> tuple[IPAddress, ...]:
    """The addresses a connection to ``address`` really reaches: an IPv4-mapped IPv6 address *is* its
    IPv4 address; a 6to4 or NAT64 address leads to the IPv4 address it wraps as well."""
    if isinstance(address, ipaddress.IPv4Address):
        return (address,)
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address.sixtofour is not None:
        return (address, address.sixtofour)
    if address in _NAT64:
        return (address, ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return (address,)


def is_loopback_address(address: IPAddress) -> bool:
    return any(candidate.is_loopback for candidate in _judged_as(address))


def address_refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why a delivery must not connect to ``address`` (``None``: it may)."""
    for candidate in _judged_as(address):
        if candidate.is_loopback:
            if allow_loopback:
                continue
            return "a loopback address"
        for what, hit in (("an unspecified address", candidate.is_unspecified),
                          ("a link-local address", candidate.is_link_local),
                          ("a multicast address", candidate.is_multicast),
                          ("a private address", candidate.is_private),
                          ("a reserved address", candidate.is_reserved)):
            if hit:
                return what
        if not candidate.is_global:
            return "an address that is not publicly routable"
    return None


def validate_callback_url(url: Any, *, allow_loopback: bool) -> str:
    """Return the URL if a partner may register it; otherwise raise ``InvalidInput`` saying why.

    https to a public host. Only with ``allow_loopback`` (local development and tests, never in
    production): also http or https to this machine. Names are resolved and checked again by the
    caller, at registration and before every delivery (``services.notifications.webhooks``)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("callback_url is required")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"callback_url is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidInput("callback_url must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise InvalidInput(f"callback_url must be an https URL (got scheme '{parts.scheme or 'none'}')")
    host = parts.hostname
    if not host:
        raise InvalidInput("callback_url has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("callback_url must not contain credentials; deliveries are authenticated by the signature")
    if parts.fragment:
        raise InvalidInput("callback_url must not contain a fragment (#…)")
    try:
        parts.port
    except ValueError as error:
        raise InvalidInput("callback_url has an invalid port") from error
    address = host_address(host)
    loopback = is_loopback_name(host) or (address is not None and is_loopback_address(address))
    if parts.scheme == "http" and not (allow_loopback and loopback):
        raise InvalidInput("callback_url must use https (http only to a loopback receiver in local development, "
                           f"with {LOOPBACK_SETTING})")
    if loopback and not allow_loopback:
        raise InvalidInput("callback_url must point at a public host, not a loopback address")
    if address is not None:
        refusal = address_refusal(address, allow_loopback=allow_loopback)
        if refusal:
            raise InvalidInput(f"callback_url must point at a public host, not {refusal}")
    elif not loopback and "." not in host.removesuffix("."):
        raise InvalidInput("callback_url must name a public host by its fully qualified domain name")
    return url


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    callback_url: str
    event_types: tuple[str, ...]
    secret: str
    payload: str = "cloudevent"


PAYLOADS = ("cloudevent", "fhir")


def validate_subscription(
    payload: Any, *, allow_loopback: bool, deliverable_event_types: Iterable[str],
    fhir_event_types: Iterable[str] = (),
) -> SubscriptionRequest:
    """Check a ``POST /integration/v1/subscriptions`` body; ``InvalidInput`` carries the 422 reason.
    ``payload`` "fhir" is for event types that change a FHIR resource (``fhir_event_types``)."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("the body must be a JSON object with callback_url, event_types and secret")
    unknown_fields = set(payload) - {"callback_url", "event_types", "secret", "payload"}
    if unknown_fields:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown_fields))}")
    callback_url = validate_callback_url(payload.get("callback_url"), allow_loopback=allow_loopback)
    event_types = payload.get("event_types")
    if not isinstance(event_types, list) or not event_types or not all(isinstance(e, str) for e in event_types):
        raise InvalidInput("event_types must be a non-empty list of event type names")
    known = set(deliverable_event_types)
    unknown = [e for e in event_types if e not in known]
    if unknown:
        raise InvalidInput(
            f"unknown event type(s): {', '.join(unknown)}; known types are: {', '.join(sorted(known))}"
        )
    secret = payload.get("secret")
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise InvalidInput(f"secret must be a string of at least {MIN_SECRET_LENGTH} characters (e.g. 32 random bytes, hex-encoded)")
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidInput(f"secret must be at most {MAX_SECRET_LENGTH} characters")
    kind = payload.get("payload", "cloudevent")
    if kind not in PAYLOADS:
        raise InvalidInput(f"payload must be one of {', '.join(PAYLOADS)} (default cloudevent)")
    if kind == "fhir":
        without = [e for e in event_types if e not in set(fhir_event_types)]
        if without:
            raise InvalidInput(f"event type(s) {', '.join(without)} have no FHIR payload; with payload fhir subscribe to "
                               f"{', '.join(sorted(fhir_event_types))}, or use payload cloudevent")
    return SubscriptionRequest(callback_url, tuple(dict.fromkeys(event_types)), secret, kind)


# ---------------------------------------------------------------- backoff


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff: the n-th retry waits ``first_delay * factor**(n-1)``, capped, with ± jitter."""

    first_delay: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: float = 0.1  # fraction of the delay, so many failed deliveries do not retry in lockstep

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise InvalidInput("backoff: max_attempts ≥ 1, factor ≥ 1 and 0 ≤ jitter < 1")

    def delay_after(self, failed_attempts: int, rand: float = 0.5) -> timedelta:
        """Wait before the next attempt after ``failed_attempts`` failures; ``rand`` in [0, 1) picks the jitter."""
        base = self.first_delay.total_seconds() * self.factor ** max(failed_attempts - 1, 0)
        base = min(base, self.max_delay.total_seconds())
        return timedelta(seconds=base * (1 + self.jitter * (2 * rand - 1)))

    def schedule(self) -> list[timedelta]:
        """The waits between attempts without jitter (``max_attempts - 1`` of them)."""
        return [self.delay_after(n) for n in range(1, self.max_attempts)]


# ---------------------------------------------------------------- deliveries


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"
    WITHHELD = "withheld"

    @property
    def is_waiting(self) -> bool:
        return self in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    at: datetime
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def describe(self) -> str:
        """A short class a partner can act on (``http-503``, ``timeout``, ``tls``…), never a raw network error."""
        if self.status_code is not None:
            return f"http-{self.status_code}"
        return self.error or "no-response"


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: UUID
    subscription_id: UUID
    event_id: str
    event_type: str
    citizen_id: UUID
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    reason: str | None = None  # why withheld or dead-lettered
    basis: str | None = None  # what allowed the delivery: a consent or a legal basis


def new_delivery(
    *, delivery_id: UUID, subscription_id: UUID, event_id: str, event_type: str, citizen_id: UUID, now: datetime
) -> Delivery:
    return Delivery(delivery_id, subscription_id, event_id, event_type, citizen_id, now, next_attempt_at=now)


def is_due(delivery: Delivery, now: datetime) -> bool:
    return delivery.status.is_waiting and delivery.next_attempt_at is not None and delivery.next_attempt_at <= now


def withhold(delivery: Delivery, reason: str, now: datetime) -> Delivery:
    """Not sent: no consent or legal basis covers it. Final until someone resends."""
    return replace(delivery, status=DeliveryStatus.WITHHELD, reason=reason, next_attempt_at=None, last_error=None)


def record_attempt(
    delivery: Delivery,
    outcome: AttemptOutcome,
    policy: BackoffPolicy,
    *,
    basis: str | None = None,
    rand: Callable[[], float] = random.random,
) -> Delivery:
    if not delivery.status.is_waiting:
        raise TransitionNotAllowed(f"delivery is {delivery.status.value}; only pending or retrying deliveries are attempted")
    attempts = delivery.attempts + 1
    if outcome.succeeded:
        return replace(
            delivery,
            status=DeliveryStatus.DELIVERED,
            attempts=attempts,
            delivered_at=outcome.at,
            next_attempt_at=None,
            last_error=None,
            reason=None,
            basis=basis or delivery.basis,
        )
    gone = outcome.status_code == 410
    if gone or attempts >= policy.max_attempts:
        why = "receiver answered 410 Gone" if gone else f"gave up after {attempts} attempts"
        return replace(
            delivery,
            status=DeliveryStatus.DEAD,
            attempts=attempts,
            dead_at=outcome.at,
            next_attempt_at=None,
            last_error=outcome.describe,
            reason=f"{why}; last: {outcome.describe}",
            basis=basis or delivery.basis,
        )
    return replace(
        delivery,
        status=DeliveryStatus.RETRYING,
        attempts=attempts,
        next_attempt_at=outcome.at + policy.delay_after(attempts, rand()),
        last_error=outcome.describe,
        basis=basis or delivery.basis,
    )


def resend(delivery: Delivery, now: datetime) -> Delivery:
    """Queue a finished delivery again (a partner lost it, or a consent has since been given).

    The attempt counter restarts; the earlier attempts stay in the delivery log."""
    if delivery.status.is_waiting:
        raise TransitionNotAllowed("delivery is already queued")
    return replace(
        delivery,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        dead_at=None,
        reason=None,
        last_error=None,
    )
