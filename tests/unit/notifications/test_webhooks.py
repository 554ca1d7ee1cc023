"""Resolving and checking a callback host (registration and every delivery), the short failure
classes a partner reads, and the Standard Webhooks signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import ssl
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifications import webhooks
from services.notifications.domain.delivery import standard_webhook_headers
from services.notifications.domain.errors import InvalidInput

SECRET = "0123456789abcdef0123456789abcdef-partner"


def resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]
    return resolve


async def test_a_public_name_is_pinned_to_the_address_it_resolved_to():
    target = await webhooks.resolve_callback("https://hooks.partner.dk:8443/t?x=1", allow_loopback=False,
                                             resolve=resolver({"hooks.partner.dk": ["93.184.216.34"]}))
    assert target.address == "93.184.216.34" and target.host == "hooks.partner.dk"
    assert str(target.pinned_url) == "https://93.184.216.34:8443/t?x=1" and target.host_header == "hooks.partner.dk:8443"


@pytest.mark.parametrize("addresses", [["10.0.0.7"], ["127.0.0.1"], ["169.254.169.254"], ["::1"], ["fd12::1"],
                                       ["::ffff:192.168.0.1"], ["93.184.216.34", "10.0.0.7"]])
async def test_internal_dns_names_are_refused_without_naming_the_address(addresses):
    with pytest.raises(webhooks.CallbackRefused) as refused:
        await webhooks.resolve_callback("https://intranet.kommune.dk/hook", allow_loopback=False,
                                        resolve=resolver({"intranet.kommune.dk": addresses}))
    assert refused.value.failure == "address-not-allowed" and "public host" in refused.value.reason
    assert not any(a in refused.value.reason for a in addresses)


async def test_a_name_that_does_not_resolve_is_refused_as_dns():
    with pytest.raises(webhooks.CallbackRefused) as refused:
        await webhooks.resolve_callback("https://nowhere.partner.dk/", allow_loopback=False, resolve=resolver({}))
    assert refused.value.failure == "dns" and refused.value.reason == "callback_url host does not resolve"


async def test_a_rebound_name_is_refused_at_delivery_time():
    table = {"hooks.partner.dk": ["93.184.216.34"]}
    await webhooks.resolve_callback("https://hooks.partner.dk/", allow_loopback=False, resolve=resolver(table))
    table["hooks.partner.dk"] = ["10.0.0.7"]  # the partner's DNS now points inside our network
    with pytest.raises(webhooks.CallbackRefused, match="private"):
        await webhooks.resolve_callback("https://hooks.partner.dk/", allow_loopback=False, resolve=resolver(table))


async def test_loopback_literals_in_any_spelling_and_names_need_the_setting():
    for url in ("https://127.1/", "https://2130706433/", "https://0x7f000001/", "https://0/", "http://localhost./"):
        with pytest.raises(InvalidInput):
            await webhooks.resolve_callback(url, allow_loopback=False, resolve=resolver({}))
    target = await webhooks.resolve_callback("http://127.1:9000/h", allow_loopback=True, resolve=resolver({}))
    assert target.address == "127.0.0.1" and str(target.pinned_url) == "http://127.0.0.1:9000/h"
    # Even with the setting, a name pointing at the private network stays refused.
    with pytest.raises(webhooks.CallbackRefused):
        await webhooks.resolve_callback("https://svc.partner.dk/", allow_loopback=True,
                                        resolve=resolver({"svc.partner.dk": ["10.1.2.3"]}))


def test_failures_are_reported_as_short_classes_only():
    request = httpx.Request("POST", "https://hooks.partner.dk/")

    def wrapped(cause: BaseException) -> httpx.ConnectError:
        try:
            raise httpx.ConnectError("connect failed at 10.0.0.7:5432 (internal detail)", request=request) from cause
        except httpx.ConnectError as error:
            return error

    assert webhooks.failure_class(httpx.ConnectTimeout("timed out", request=request)) == "timeout"
    assert webhooks.failure_class(httpx.ReadTimeout("timed out", request=request)) == "timeout"
    assert webhooks.failure_class(wrapped(ConnectionRefusedError(111, "Connection refused"))) == "connection-refused"
    assert webhooks.failure_class(wrapped(ssl.SSLCertVerificationError("certificate verify failed"))) == "tls"
    assert webhooks.failure_class(wrapped(ConnectionResetError(104, "reset"))) == "connection-failed"
    assert webhooks.failure_class(webhooks.CallbackRefused("dns", "x")) == "dns"


def test_standard_webhook_signature_verifies_with_the_package_and_by_hand():
    body = '{"specversion":"1.0","id":"e1","data":{"navn":"Åse"}}'.encode()
    now = datetime.now(timezone.utc)
    headers = standard_webhook_headers(SECRET, webhook_id="d-1", body=body, at=now)
    assert headers["webhook-id"] == "d-1" and headers["webhook-timestamp"] == str(int(now.timestamp()))
    # The receiver's side, with the package: the raw secret's bytes are the key.
    assert Webhook(SECRET.encode()).verify(body, headers) == {"specversion": "1.0", "id": "e1", "data": {"navn": "Åse"}}
    # …and by hand: v1,<base64 HMAC-SHA256 of "id.timestamp.body">.
    signed = b"d-1." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET.encode()).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError, match="too old"):  # a replay ten minutes later
        Webhook(SECRET.encode()).verify(body, standard_webhook_headers(SECRET, webhook_id="d-1", body=body,
                                                                       at=now - timedelta(minutes=10)))


def test_webhook_timestamp_is_unix_seconds_whatever_the_time_zone():
    body = b"{}"
    copenhagen = timezone(timedelta(hours=1))
    at = datetime(2026, 12, 1, 10, 0, 30, tzinfo=copenhagen)
    headers = standard_webhook_headers(SECRET, webhook_id="d-2", body=body, at=at)
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    signed = f"d-2.{int(at.timestamp())}.{{}}".encode()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()


def test_the_loopback_setting_is_off_by_default_and_refused_in_production():
    from pydantic import ValidationError

    from tovholder.settings import Settings

    assert Settings(environment="development").webhook_allow_loopback is False
    assert Settings(environment="test", webhook_allow_loopback=True).webhook_allow_loopback is True
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(environment="production", webhook_allow_loopback=True)
