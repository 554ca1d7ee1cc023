from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import timedelta
from uuid import UUID

import pytest

from services.notifications.domain.delivery import (
    AttemptOutcome,
    BackoffPolicy,
    address_refusal,
    host_address,
    DeliveryStatus,
    cloudevent_body,
    is_due,
    new_delivery,
    record_attempt,
    resend,
    sign,
    validate_callback_url,
    validate_subscription,
    verify,
    withhold,
)
from services.notifications.domain.errors import InvalidInput, TransitionNotAllowed

from .builders import CITIZEN, NOW

SECRET = "s" * 32
KNOWN = ["tovholder.health.hospital-notice-registered.v1", "tovholder.plans.follow-up-due.v1"]


def test_signature_is_hmac_sha256_hex_of_the_exact_body():
    body = b'{"a":1}'
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == expected
    assert verify(SECRET, body, expected)
    assert not verify(SECRET, body + b" ", expected)
    assert not verify("other" * 8, body, expected)
    assert not verify(SECRET, body, None)


def test_cloudevent_body_is_structured_json():
    body = cloudevent_body(event_id="e1", source="/tovholder/health", event_type=KNOWN[0], time=NOW,
                           subject=str(CITIZEN), data={"citizen_id": CITIZEN, "kind": "admission"})
    envelope = json.loads(body)
    assert envelope["specversion"] == "1.0" and envelope["type"] == KNOWN[0] and envelope["id"] == "e1"
    assert envelope["subject"] == str(CITIZEN) and envelope["data"]["citizen_id"] == str(CITIZEN)
    assert envelope["datacontenttype"] == "application/json"


@pytest.mark.parametrize(
    "url",
    ["https://partner.example.dk/hooks/tovholder", "https://partner.example.dk:8443/x?y=1", "https://93.184.216.34/h"],
)
def test_https_urls_to_public_hosts_are_fine_with_or_without_the_loopback_setting(url):
    assert validate_callback_url(url, allow_loopback=False) == url
    assert validate_callback_url(url, allow_loopback=True) == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]:8080/",
                                 "https://127.0.0.1:9443/hook", "http://localhost./hook"])
def test_loopback_only_behind_the_explicit_setting(url):
    assert validate_callback_url(url, allow_loopback=True) == url
    with pytest.raises(InvalidInput, match="https|loopback"):
        validate_callback_url(url, allow_loopback=False)


# Every spelling of an address a delivery must never reach, as browsers and inet_aton read them.
REFUSED_HOSTS = [
    ("127.1", "loopback"), ("2130706433", "loopback"), ("0x7f000001", "loopback"), ("0x7f.1", "loopback"),
    ("017700000001", "loopback"), ("127.0.0.1.", "loopback"), ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"), ("[::ffff:7f00:1]", "loopback"), ("localhost.", "loopback"),
    ("LOCALHOST", "loopback"), ("api.localhost", "loopback"),
    ("0", "unspecified"), ("0.0.0.0", "unspecified"), ("[::]", "unspecified"),
    ("10.0.0.5", "private"), ("012.0.0.5", "private"), ("0xa000005", "private"), ("167772165", "private"),
    ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("[fd00::1]", "private"), ("[::ffff:10.0.0.5]", "private"),
    ("[2002:0a00:0005::]", "private"),  # 6to4 wrapping 10.0.0.5
    ("[64:ff9b::a00:5]", "private|reserved"),  # NAT64 wrapping 10.0.0.5
    ("169.254.169.254", "link-local"), ("0xa9fea9fe", "link-local"), ("[fe80::1]", "link-local"),
    ("224.0.0.1", "multicast"), ("[ff02::1]", "multicast"),
    ("240.0.0.1", "private|reserved"), ("100.64.0.1", "not publicly routable"),
    ("1.2.3.999", "not a valid IPv4"), ("0x", "not a valid IPv4"), ("08", "not a valid IPv4"),
    ("db", "fully qualified"), ("kafka", "fully qualified"),
]


@pytest.mark.parametrize(("host", "reason"), REFUSED_HOSTS)
def test_internal_addresses_are_refused_in_every_spelling(host, reason):
    with pytest.raises(InvalidInput, match=reason):
        validate_callback_url(f"https://{host}/hook", allow_loopback=False)


def test_spellings_are_read_as_browsers_read_them():
    assert host_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert host_address("0x7f000001") == host_address("2130706433") == host_address("127.0.0.1.")
    assert host_address("partner.example.dk") is None
    assert address_refusal(ipaddress.ip_address("93.184.216.34"), allow_loopback=False) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None


@pytest.mark.parametrize(
    ("url", "allow_loopback", "reason"),
    [
        ("http://partner.example.dk/hook", True, "https"),
        ("http://partner.example.dk/hook", False, "TOVHOLDER_WEBHOOK_ALLOW_LOOPBACK"),
        ("ftp://partner.example.dk/hook", False, "scheme 'ftp'"),
        ("partner.example.dk/hook", False, "scheme 'none'"),
        ("https:///nohost", False, "no host"),
        ("https://user:pw@partner.example.dk/", False, "credentials"),
        ("https://partner.example.dk/#frag", False, "fragment"),
        ("https://partner.example.dk:99999/", False, "port"),
        ("https://10.0.0.5/hook", True, "public host"),
        ("https://169.254.169.254/latest", True, "public host"),
        ("https://partner.example.dk/a b", False, "spaces"),
        ("https://partner.example.dk/a\x7fb", False, "control"),
        ("", False, "required"),
        (None, False, "required"),
        ("https://x.dk/" + "a" * 3000, False, "longer"),
    ],
)
def test_bad_callback_urls_give_a_reason(url, allow_loopback, reason):
    with pytest.raises(InvalidInput, match=reason):
        validate_callback_url(url, allow_loopback=allow_loopback)


def test_subscription_validation():
    request = validate_subscription(
        {"callback_url": "https://p.example.dk/h", "event_types": [KNOWN[0], KNOWN[0]], "secret": SECRET},
        allow_loopback=False, deliverable_event_types=KNOWN,
    )
    assert request.event_types == (KNOWN[0],)  # duplicates collapse
    for payload, reason in [
        ([], "JSON object"),
        ({"callback_url": "https://p.example.dk/h", "event_types": [], "secret": SECRET}, "non-empty"),
        ({"callback_url": "https://p.example.dk/h", "event_types": ["tovholder.x.y.v1"], "secret": SECRET}, "unknown event type"),
        ({"callback_url": "https://p.example.dk/h", "event_types": KNOWN, "secret": "short"}, "at least 32"),
        ({"callback_url": "https://p.example.dk/h", "event_types": KNOWN, "secret": SECRET, "extra": 1}, "unknown field"),
    ]:
        with pytest.raises(InvalidInput, match=reason):
            validate_subscription(payload, allow_loopback=False, deliverable_event_types=KNOWN)


def test_backoff_grows_exponentially_with_cap_and_bounded_jitter():
    policy = BackoffPolicy(first_delay=timedelta(seconds=10), factor=2, max_delay=timedelta(seconds=60), max_attempts=6, jitter=0.1)
    assert [d.total_seconds() for d in policy.schedule()] == [10, 20, 40, 60, 60]
    assert policy.delay_after(1, rand=0.0).total_seconds() == pytest.approx(9)
    assert policy.delay_after(1, rand=0.999999).total_seconds() == pytest.approx(11, abs=0.01)
    with pytest.raises(InvalidInput):
        BackoffPolicy(max_attempts=0)


def delivery():
    return new_delivery(delivery_id=UUID(int=1), subscription_id=UUID(int=2), event_id="e1", event_type=KNOWN[0],
                        citizen_id=CITIZEN, now=NOW)


def test_success_on_first_attempt():
    d = record_attempt(delivery(), AttemptOutcome(NOW, 204), BackoffPolicy(), basis="consent c1")
    assert d.status is DeliveryStatus.DELIVERED and d.attempts == 1 and d.delivered_at == NOW and d.basis == "consent c1"


def test_failures_retry_with_backoff_then_dead_letter():
    policy = BackoffPolicy(first_delay=timedelta(seconds=1), max_attempts=3, jitter=0)
    d = delivery()
    assert is_due(d, NOW)
    d = record_attempt(d, AttemptOutcome(NOW, 500), policy)
    assert d.status is DeliveryStatus.RETRYING and d.next_attempt_at == NOW + timedelta(seconds=1)
    assert not is_due(d, NOW) and is_due(d, NOW + timedelta(seconds=1))
    assert d.last_error == "http-500"
    d = record_attempt(d, AttemptOutcome(NOW, None, "connection-refused"), policy)
    assert d.next_attempt_at == NOW + timedelta(seconds=2) and d.last_error == "connection-refused"
    d = record_attempt(d, AttemptOutcome(NOW, 503), policy)
    assert d.status is DeliveryStatus.DEAD and d.attempts == 3 and "gave up after 3 attempts" in d.reason
    with pytest.raises(TransitionNotAllowed):
        record_attempt(d, AttemptOutcome(NOW, 200), policy)


def test_gone_dead_letters_at_once():
    d = record_attempt(delivery(), AttemptOutcome(NOW, 410), BackoffPolicy())
    assert d.status is DeliveryStatus.DEAD and "410" in d.reason


def test_resend_requeues_dead_delivered_or_withheld():
    dead = record_attempt(delivery(), AttemptOutcome(NOW, 410), BackoffPolicy())
    again = resend(dead, NOW + timedelta(hours=1))
    assert again.status is DeliveryStatus.PENDING and again.attempts == 0 and is_due(again, NOW + timedelta(hours=1))
    with pytest.raises(TransitionNotAllowed):
        resend(again, NOW)
    withheld = withhold(delivery(), "no consent", NOW)
    assert withheld.status is DeliveryStatus.WITHHELD and withheld.reason == "no consent" and not is_due(withheld, NOW)
    assert resend(withheld, NOW).status is DeliveryStatus.PENDING
