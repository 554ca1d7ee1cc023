"""Partner subscriptions and delivery against a real local HTTP receiver: signatures, the consent
gate, retries with exponential backoff, dead letter, the delivery log and resend."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from contracts.health import HospitalNoticeRegisteredV1
from contracts.plans import ConsentGivenV1, ConsentRevokedV1, FollowUpDueV1
from standardwebhooks.webhooks import Webhook

from services.notifications.domain.delivery import verify
from tests.support import eventually, publish_event

from .receiver import Receiver

pytestmark = pytest.mark.integration
ORG = "SOR:4567890"
SECRET = "0123456789abcdef0123456789abcdef-partner"
FOLLOW_UP = "tovholder.plans.follow-up-due.v1"
NOTICE = "tovholder.health.hospital-notice-registered.v1"


def partner(svc, org=ORG):
    return svc.auth("partner", f"partner-{org}", org=org)


async def subscribe(svc, url, event_types=(FOLLOW_UP, NOTICE), org=ORG):
    response = await svc.client.post("/integration/v1/subscriptions", headers=partner(svc, org), json={
        "message_id": str(uuid.uuid4()), "callback_url": url, "event_types": list(event_types), "secret": SECRET,
    })
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "ok"
    return response.json()["subscription_id"]


def follow_up(citizen):
    return FollowUpDueV1(citizen_id=citizen, plan_id=uuid.uuid4(), subject="plan", subject_id=uuid.uuid4(),
                         due_on=date.today(), late_after=date.today() + timedelta(days=3), cadence="14 dage",
                         botilbud_id="orion")


def consent(citizen, consent_id, category="plan", org=ORG):
    return ConsentGivenV1(citizen_id=citizen, consent_id=consent_id, recipient_kind="organisation", recipient_id=org,
                          category=category, given_at=datetime.now(timezone.utc) - timedelta(seconds=1),
                          recorded_by="koord-1")


async def deliveries(svc, subscription_id, org=ORG):
    response = await svc.client.get(f"/integration/v1/subscriptions/{subscription_id}/deliveries", headers=partner(svc, org))
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def settled(svc, subscription_id, event_id, *statuses, org=ORG):
    async def check():
        for item in await deliveries(svc, subscription_id, org):
            if item["event_id"] == event_id and item["status"] in statuses:
                return item
        return None
    return check


async def test_consented_event_is_delivered_signed_as_a_cloudevent(notifications, kafka):
    citizen = uuid.uuid4()
    with Receiver() as receiver:
        sub = await subscribe(notifications, receiver.url)
        await publish_event(kafka, consent(citizen, uuid.uuid4()))
        event_id = await publish_event(kafka, follow_up(citizen))
        item = await eventually(settled(notifications, sub, event_id, "delivered"), message="delivered")
    assert item["attempts"] == 1 and item["basis"].startswith("consent ")
    (request,) = [r for r in receiver.requests if json.loads(r.body)["id"] == event_id]
    assert verify(SECRET, request.body, request.headers["X-Tovholder-Signature"])
    assert request.headers["X-Tovholder-Signature"].startswith("sha256=")
    assert request.headers["Content-Type"].startswith("application/cloudevents+json")
    # Standard Webhooks: verified as a receiver would, with the package and the shared secret's bytes.
    assert Webhook(SECRET.encode()).verify(request.body, request.headers)["id"] == event_id
    assert request.headers["webhook-id"] == item["delivery_id"] == request.headers["X-Tovholder-Delivery"]
    envelope = json.loads(request.body)
    assert envelope["specversion"] == "1.0" and envelope["type"] == FOLLOW_UP and envelope["subject"] == str(citizen)
    assert envelope["data"]["citizen_id"] == str(citizen)
    # The shared secret is kept encrypted at rest; signing still used the real one (verified above).
    async with notifications.ctx.sessions() as session:
        stored = (await session.execute(text("SELECT secret FROM subscription WHERE id = :id"), {"id": sub})).scalar_one()
    assert SECRET not in stored and notifications.ctx.secret_box().decrypt(stored) == SECRET


async def test_without_consent_nothing_is_sent_and_the_reason_is_recorded(notifications, kafka):
    citizen = uuid.uuid4()
    with Receiver() as receiver:
        sub = await subscribe(notifications, receiver.url)
        await publish_event(kafka, consent(citizen, uuid.uuid4(), org="SOR:9999999"))  # another organisation
        event_id = await publish_event(kafka, follow_up(citizen))
        item = await eventually(settled(notifications, sub, event_id, "withheld"), message="withheld")
        assert not [r for r in receiver.requests if json.loads(r.body)["id"] == event_id]
    assert ORG in item["reason"] and "no consent" in item["reason"]
    assert item["log"][0]["outcome"] == "withheld"


def hospital_notice(citizen):
    return HospitalNoticeRegisteredV1(
        citizen_id=citizen, notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="STIN", kind="admission",
        hospital_episode_id="EPJ-1", department="Afsnit P2", sender_org="SOR:1234567",
        occurred_at=datetime.now(timezone.utc), legal_basis="retssikkerhedsloven § 12 c",
        tovholder_sub="nurse-a", botilbud_id="orion")


async def test_hospital_notices_reach_a_partner_only_under_the_citizens_consent_to_that_organisation(notifications, kafka):
    """§ 12 c brings the notice to the municipality; it is no licence to pass every citizen's admissions
    on to whichever organisation subscribes."""
    citizen, other_org = uuid.uuid4(), "SOR:7777777"
    with Receiver() as receiver:
        ours = await subscribe(notifications, receiver.url)
        theirs = await subscribe(notifications, receiver.url, org=other_org)
        unconsented = await publish_event(kafka, hospital_notice(citizen))
        for sub, org in ((ours, ORG), (theirs, other_org)):
            withheld = await eventually(settled(notifications, sub, unconsented, "withheld", org=org), message="withheld")
            assert "no consent" in withheld["reason"] and "§ 12 c names no recipient" in withheld["reason"]

        await publish_event(kafka, consent(citizen, uuid.uuid4(), category="health"))  # to ORG only
        consented = await publish_event(kafka, hospital_notice(citizen))
        delivered = await eventually(settled(notifications, ours, consented, "delivered"), message="delivered")
        assert delivered["basis"].startswith("consent ")
        await eventually(settled(notifications, theirs, consented, "withheld", org=other_org),
                         message="withheld for the other org")
        sent = [json.loads(r.body)["id"] for r in receiver.requests]
    assert sent == [consented]


async def test_revocation_stops_later_events(notifications, kafka):
    citizen, consent_id = uuid.uuid4(), uuid.uuid4()
    with Receiver() as receiver:
        sub = await subscribe(notifications, receiver.url)
        given = consent(citizen, consent_id)
        await publish_event(kafka, given)
        before = await publish_event(kafka, follow_up(citizen))
        await eventually(settled(notifications, sub, before, "delivered"))
        await publish_event(kafka, ConsentRevokedV1(
            citizen_id=citizen, consent_id=consent_id, recipient_kind="organisation", recipient_id=ORG, category="plan",
            given_at=given.given_at, revoked_at=datetime.now(timezone.utc), recorded_by="koord-1"))
        after = await publish_event(kafka, follow_up(citizen))
        withheld = await eventually(settled(notifications, sub, after, "withheld"))
        assert "revoked" in withheld["reason"]


async def test_failures_retry_with_growing_waits_then_succeed(notifications, kafka):
    citizen = uuid.uuid4()
    with Receiver(script=[500, 503]) as receiver:
        sub = await subscribe(notifications, receiver.url)
        await publish_event(kafka, consent(citizen, uuid.uuid4()))
        event_id = await publish_event(kafka, follow_up(citizen))
        item = await eventually(settled(notifications, sub, event_id, "delivered"), timeout=20)
        tries = [r for r in receiver.requests if json.loads(r.body)["id"] == event_id]
    assert item["attempts"] == 3
    assert [entry["outcome"] for entry in item["log"]] == ["failed", "failed", "delivered"]
    assert [entry["status_code"] for entry in item["log"]] == [500, 503, 200]
    gaps = [b.at - a.at for a, b in zip(tries, tries[1:])]
    # FAST: 0.2 s then 0.4 s (no jitter): never sooner than the backoff says (how much later depends on a
    # busy machine, so there is no upper bound here).
    assert gaps[0] >= 0.18 and gaps[1] >= 0.38
    assert len({r.body for r in tries}) == 1  # the same signed body every time
    assert {r.headers["webhook-id"] for r in tries} == {item["delivery_id"]}  # one id across retries: dedupe works
    for r in tries:
        Webhook(SECRET.encode()).verify(r.body, r.headers)
    assert [entry["error"] for entry in item["log"]] == [None, None, None] and item["last_error"] is None


async def test_dead_letter_after_max_attempts_then_resend(notifications, kafka):
    citizen = uuid.uuid4()
    with Receiver(default=500) as receiver:
        sub = await subscribe(notifications, receiver.url)
        await publish_event(kafka, consent(citizen, uuid.uuid4()))
        event_id = await publish_event(kafka, follow_up(citizen))
        dead = await eventually(settled(notifications, sub, event_id, "dead"), timeout=20)
        assert dead["attempts"] == 3 and "gave up after 3 attempts" in dead["reason"]

        receiver.default = 204  # the partner fixed its endpoint
        response = await notifications.client.post(f"/integration/v1/subscriptions/{sub}/resend",
                                                   headers=partner(notifications), json={})
        assert response.status_code == 202 and response.json()["queued"] == [dead["delivery_id"]]
        delivered = await eventually(settled(notifications, sub, event_id, "delivered"))
    assert [entry["outcome"] for entry in delivered["log"]] == ["failed", "failed", "dead", "delivered"]


async def test_connection_refused_counts_as_a_failed_attempt(notifications, kafka):
    citizen = uuid.uuid4()
    with Receiver() as receiver:
        url = receiver.url
    sub = await subscribe(notifications, url)  # the receiver is gone: nothing listens on that port
    await publish_event(kafka, consent(citizen, uuid.uuid4()))
    event_id = await publish_event(kafka, follow_up(citizen))
    dead = await eventually(settled(notifications, sub, event_id, "dead"), timeout=20)
    # A short class only: the raw network error (addresses, ports, errno) would make the log a port scanner.
    assert dead["last_error"] == "connection-refused" and dead["log"][0]["status_code"] is None
    assert {entry["error"] for entry in dead["log"]} == {"connection-refused"}
    assert dead["reason"] == "gave up after 3 attempts; last: connection-refused"


@pytest.mark.parametrize(("body", "reason"), [
    ({"callback_url": "http://partner.example.dk/hook"}, "loopback"),
    ({"callback_url": "ftp://127.0.0.1/hook"}, "https"),
    ({"event_types": ["tovholder.plans.consent-given.v1"]}, "unknown event type"),
    ({"event_types": []}, "non-empty"),
    ({"secret": "kort"}, "at least 32"),
    ({"callback_url": "https://user:pw@partner.example.dk/"}, "credentials"),
])
async def test_malformed_subscription_gets_422_with_the_reason(notifications, body, reason):
    payload = {"message_id": str(uuid.uuid4()), "callback_url": "https://partner.example.dk/hook",
               "event_types": [FOLLOW_UP], "secret": SECRET, **body}
    response = await notifications.client.post("/integration/v1/subscriptions", headers=partner(notifications), json=payload)
    assert response.status_code == 422
    assert response.json()["status"] == "fatal-error" and reason in response.json()["reason"]


async def test_subscriptions_are_private_to_the_partner_org(notifications):
    sub = await subscribe(notifications, "https://127.0.0.1:9/hook")
    other = await notifications.client.get(f"/integration/v1/subscriptions/{sub}/deliveries",
                                           headers=partner(notifications, "SOR:1111111"))
    assert other.status_code == 404
    staff = await notifications.client.post("/integration/v1/subscriptions", headers=notifications.auth("coordinator"), json={})
    assert staff.status_code == 403
    listed = (await notifications.client.get("/integration/v1/subscriptions", headers=partner(notifications))).json()
    assert sub in [s["subscription_id"] for s in listed] and all("secret" not in s for s in listed)
    types = (await notifications.client.get("/integration/v1/event-types", headers=partner(notifications))).json()
    # No legal basis names a partner: every type needs the citizen's consent (hospital notices included).
    assert {"type": NOTICE, "category": "health", "legal_basis_without_consent": None} in types
