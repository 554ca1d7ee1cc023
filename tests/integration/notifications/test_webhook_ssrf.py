"""Webhook SSRF: without the explicit loopback setting (as in production), a partner cannot register a
callback into our own machine or network in any spelling; and the host is resolved and checked again
at every delivery, the connection going to the checked address — so a name that points inside by the
time of delivery is never called, and the log says only why."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import trustme
from standardwebhooks.webhooks import Webhook

from contracts.plans import ConsentGivenV1
from services.notifications import models as m
from services.notifications import webhooks
from services.notifications.main import build_spec
from services.notifications.jobs import deliver_due, http_outbound
from tests.support import eventually, publish_event, run_service

from .conftest import FAST
from .test_partner_delivery import FOLLOW_UP, ORG, SECRET, deliveries, follow_up, partner
from .test_webhook_transport import https_receiver

pytestmark = pytest.mark.integration
# The service's own delivery worker stays idle here: the test drives deliveries with its own resolver.
CONFIG = FAST.model_copy(update={"delivery_poll_interval_s": 3600})
PARTNER_HOST = "hooks.partner.test"

INTERNAL_CALLBACKS = [
    "https://127.1/", "https://2130706433/", "https://0x7f000001/", "https://0/", "http://localhost./",
    "https://localhost./hook", "https://[::ffff:127.0.0.1]/", "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/", "https://0xa9fea9fe/", "https://postgres/", "https://1.2.3.999/",
]


@pytest.fixture
async def notifications(pg, kafka, state_dir):
    async with run_service(build_spec(CONFIG), pg=pg, kafka=kafka, state_dir=state_dir) as svc:
        assert svc.settings.webhook_allow_loopback is False
        yield svc


async def register(svc, url):
    return await svc.client.post("/integration/v1/subscriptions", headers=partner(svc), json={
        "message_id": str(uuid.uuid4()), "callback_url": url, "event_types": [FOLLOW_UP], "secret": SECRET})


async def test_registration_of_an_internal_callback_gets_422_with_a_reason(notifications):
    for url in INTERNAL_CALLBACKS:
        response = await register(notifications, url)
        assert response.status_code == 422, (url, response.text)
        body = response.json()
        assert body["status"] == "fatal-error" and body["reason"].startswith("callback_url "), url
        assert any(word in body["reason"] for word in ("public host", "https", "IPv4", "fully qualified")), url
    unresolvable = await register(notifications, "https://no-such-host.invalid/hook")
    assert unresolvable.status_code == 422 and unresolvable.json()["reason"] == "callback_url host does not resolve"


def resolving_to(address: str):
    async def resolve(host: str, port: int) -> list[str]:
        if host != PARTNER_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [address]
    return resolve


async def test_the_host_is_checked_again_at_delivery_and_the_checked_address_is_the_one_called(notifications, kafka):
    citizen, ca = uuid.uuid4(), trustme.CA()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    with https_receiver(ca, PARTNER_HOST) as seen:
        # Registered while the name pointed at a public address (the partner's DNS changed since).
        sub_id = uuid.uuid4()
        async with notifications.ctx.sessions() as session:
            session.add(m.Subscription(id=sub_id, partner_org=ORG, created_by="partner-1", event_types=[FOLLOW_UP],
                                       callback_url=f"https://{PARTNER_HOST}:{seen['port']}/hook",
                                       secret=notifications.ctx.secret_box().encrypt(SECRET), active=True))
            await session.commit()
        await publish_event(kafka, ConsentGivenV1(citizen_id=citizen, consent_id=uuid.uuid4(), recipient_kind="organisation",
                                                  recipient_id=ORG, category="plan", recorded_by="koord-1",
                                                  given_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        event_id = await publish_event(kafka, follow_up(citizen))

        async def queued():
            return [d for d in await deliveries(notifications, sub_id) if d["event_id"] == event_id]

        (queued_delivery,) = await eventually(queued, message="delivery queued")
        sessions, box = notifications.ctx.sessions, notifications.ctx.secret_box()
        async with webhooks.delivery_client(timeout_s=2, verify=trusting) as client:
            # Production rules: the name now resolves to this machine → refused before connecting.
            rebound = http_outbound(client, allow_loopback=False, resolve=resolving_to("127.0.0.1"))
            counts = await deliver_due(sessions, rebound, CONFIG, box)
            assert counts.failed == 1 and seen["hosts"] == []
            (after,) = await queued()
            assert after["last_error"] == "address-not-allowed" and after["log"][0]["error"] == "address-not-allowed"

            # Local development rules: the same name, checked and pinned — the request reaches the
            # checked address (the name itself resolves nowhere else) with the partner's Host and SNI.
            await asyncio.sleep(CONFIG.delivery_first_delay_s + 0.1)
            local = http_outbound(client, allow_loopback=True, resolve=resolving_to("127.0.0.1"))
            counts = await deliver_due(sessions, local, CONFIG, box)
            assert counts.delivered == 1, counts
    assert seen["sni"] == [PARTNER_HOST] and seen["hosts"] == [f"{PARTNER_HOST}:{seen['port']}"]
    (delivered,) = await queued()
    assert delivered["status"] == "delivered" and [e["outcome"] for e in delivered["log"]] == ["failed", "delivered"]
    assert delivered["delivery_id"] == queued_delivery["delivery_id"]
    (body, headers) = seen["requests"][0]
    assert json.loads(body)["id"] == event_id
    assert Webhook(SECRET.encode()).verify(body, headers)["id"] == event_id
