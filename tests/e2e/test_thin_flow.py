"""End to end, as `make run` runs it: the four services as real processes on real PostgreSQL and
each broker (Apache Kafka where Java is, and Tansu, which `make run` uses). A partner's referral becomes a granted place, which opens the plan and the health record and
puts a "first network meeting" task in the botilbud coordinators' work queue — in one trace."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from contracts.topics import SERVICES
from tests.otlp_receiver import OtlpReceiver
from tests.support import CPR_ENCRYPTION_KEY, CPR_HASH_KEY
from tovholder.auth import issue_dev_token
from tovholder.infra import free_port
from tovholder.launcher import LocalStack
from tovholder.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.both_brokers]


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver, broker_kind: str) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("stack")
    stack = LocalStack(
        state_dir=state, ports={s: free_port() for s in SERVICES}, broker=broker_kind,
        env={"TOVHOLDER_OTEL_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
             "OTEL_BSP_SCHEDULE_DELAY": "200", "TOVHOLDER_CPR_HASH_KEY": CPR_HASH_KEY,
             "TOVHOLDER_CPR_ENCRYPTION_KEY": CPR_ENCRYPTION_KEY, "TOVHOLDER_ENVIRONMENT": "test"},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
    for proc in stack.procs.values():
        assert proc.poll() is not None, "a service process outlived the stack"


def token(stack: LocalStack, role: str, sub: str, **claims) -> dict[str, str]:
    settings = Settings(state_dir=stack.state_dir)
    return {"Authorization": f"Bearer {issue_dev_token(settings, role=role, sub=sub, **claims)}"}


def wait_for(check, timeout: float = 20, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s (last: {last!r})")


def test_partner_referral_becomes_a_task_in_the_coordinators_work_queue_in_one_trace(stack, otlp):
    partner = token(stack, "partner", "psykiatrien-epj", org="SOR:1234567")
    visitation = token(stack, "visitation", "visitation-1")
    coordinator = token(stack, "coordinator", "tangkaer-koordinator-1", botilbud="tangkaer")
    other_coordinator = token(stack, "coordinator", "orion-koordinator-1", botilbud="orion")

    message = {
        "message_id": str(uuid.uuid4()), "sent_at": "2026-11-22T09:59:58+01:00",
        "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
        "cpr": "0101901234", "citizen_name": "Test Borger",
        "reason": "Udskrives snart; ønsker et længerevarende botilbud med ro omkring sig",
        "requested_step": 7, "requested_offer": "SEL §108",
    }
    with httpx.Client(timeout=10) as http:
        receipt = http.post(f"{stack.url('referrals')}/integration/v1/referrals", json=message, headers=partner)
        assert receipt.status_code == 202, receipt.text
        assert receipt.json()["status"] == "ok"
        referral_id = receipt.json()["referral_id"]

        again = http.post(f"{stack.url('referrals')}/integration/v1/referrals", json=message, headers=partner)
        assert again.status_code == 202 and again.json() == receipt.json()

        # Visitation screens the case (VUM functional assessment with the citizen's own wishes) ...
        base = f"{stack.url('referrals')}/api/v1/referrals/{referral_id}"
        assert http.post(f"{base}/screening", headers=visitation).status_code == 200
        assessed = http.put(f"{base}/assessment", headers=visitation, json={
            "scores": {"egenomsorg": 3, "socialt_liv": 2, "sundhed": 3},
            "wishes": "Jeg vil gerne bo et sted med ro og have min egen lejlighed",
        })
        assert assessed.status_code == 200, assessed.text
        # ... and grants a place.
        decided = http.post(
            f"{stack.url('referrals')}/api/v1/referrals/{referral_id}/decision", headers=visitation,
            json={"decision": "granted", "legal_basis": "SEL §108", "offer_id": "tangkaer",
                  "reason": "Du har brug for et længerevarende botilbud med støtte døgnet rundt."},
        )
        assert decided.status_code == 200, decided.text

        def first_network_meeting():
            queue = http.get(f"{stack.url('notifications')}/api/v1/work-queue", headers=coordinator)
            assert queue.status_code == 200, queue.text
            return [t for t in queue.json() if t["kind"] == "first-network-meeting"]

        tasks = wait_for(first_network_meeting)
        assert len(tasks) == 1
        task = tasks[0]
        for field in ("task_id", "citizen_id", "title", "kind", "status", "priority", "due_at", "owner",
                      "created_at", "source_event_id"):
            assert field in task
        assert task["status"] == "open" and task["owner"] is None
        citizen_id = task["citizen_id"]

        # Another botilbud's coordinators do not see it.
        others = http.get(f"{stack.url('notifications')}/api/v1/work-queue", headers=other_coordinator).json()
        assert all(t["task_id"] != task["task_id"] for t in others)

        # Plans and health opened the citizen's plan and health record.
        nurse = token(stack, "nurse-consultant", "tangkaer-sygeplejekonsulent-1", botilbud="tangkaer")
        wait_for(lambda: http.get(f"{stack.url('plans')}/api/v1/citizens/{citizen_id}/plan",
                                  headers=coordinator).status_code == 200)
        wait_for(lambda: http.get(f"{stack.url('health')}/api/v1/citizens/{citizen_id}/health-record",
                                  headers=nurse).status_code == 200)

        # The partner follows its referral.
        status = http.get(f"{stack.url('referrals')}/integration/v1/referrals/{referral_id}", headers=partner).json()
        assert status["status"] == "granted"
        assert [h["status"] for h in status["history"]][0] == "received"
        assert [h["status"] for h in status["history"]][-1] == "granted"

        claimed = http.post(f"{stack.url('notifications')}/api/v1/tasks/{task['task_id']}/claim", headers=coordinator)
        assert claimed.status_code == 200 and claimed.json()["owner"] == "tangkaer-koordinator-1"
        done = http.post(f"{stack.url('notifications')}/api/v1/tasks/{task['task_id']}/complete", headers=coordinator)
        assert done.status_code == 200 and done.json()["status"] == "done"

    # One trace: the decision's HTTP request → outbox → Kafka → each consumer → its DB write → its events.
    def whole_chain():
        decision_spans = [s for s in otlp.spans if s["service"] == "tovholder-referrals"
                          and "decision" in s["name"] and not s["parent_id"]]
        if not decision_spans:
            return None
        spans = otlp.trace(decision_spans[-1]["trace_id"])
        services = {s["service"] for s in spans}
        if {"tovholder-referrals", "tovholder-plans", "tovholder-health", "tovholder-notifications"} <= services \
                and any(s["service"] == "tovholder-plans" and "publish" in s["name"] for s in spans):
            return spans
        return None

    spans = wait_for(whole_chain, timeout=20)
    names = {(s["service"], s["name"]) for s in spans}
    assert ("tovholder-referrals", "tovholder.referrals.events.v1 publish") in names
    assert any(svc == "tovholder-notifications" and "INSERT" in name for svc, name in names), names
    assert any(svc == "tovholder-plans" and name == "tovholder.plans.events.v1 publish" for svc, name in names)
    # No CPR anywhere in the telemetry.
    assert not any("0101901234" in str(s) for s in otlp.spans)


def test_every_service_answers_the_operational_endpoints(stack):
    with httpx.Client(timeout=5) as http:
        for service in SERVICES:
            base = stack.url(service)
            assert http.get(f"{base}/healthz").status_code == 200
            ready = http.get(f"{base}/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
            assert http.get(f"{base}/docs").status_code == 200
            asyncapi = http.get(f"{base}/asyncapi").json()
            assert asyncapi["asyncapi"].startswith("3.")
            metrics = http.get(f"{base}/metrics").text
            assert "tovholder_outbox_backlog" in metrics
            assert "tovholder_events_consumed_total" in metrics or service == "referrals"
