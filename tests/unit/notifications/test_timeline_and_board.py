from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from contracts import EVENT_REGISTRY
from services.notifications.domain.timeline import TITLES, CaseStatus, case_update, timeline_entry

from .builders import CITIZEN, NOW


def test_timeline_titles_cope_with_sparse_bodies():
    # A producer may add optional fields and omit others; a title must never crash the timeline.
    for short, describe in TITLES.items():
        assert isinstance(describe({}), str), short


def test_most_published_event_types_have_a_danish_title():
    # New events from other services fall back to "Hændelse: …"; this only guards against mass drift.
    known = [e for e in EVENT_REGISTRY if ".".join(e.split(".")[1:3]) in TITLES]
    assert len(known) >= 0.8 * len(EVENT_REGISTRY)


def test_timeline_entry_uses_the_body_time_and_danish_text():
    occurred = datetime(2026, 11, 22, 8, 41, tzinfo=UTC)
    entry = timeline_entry(event_id="e1", event_type="tovholder.health.hospital-notice-registered.v1", citizen_id=CITIZEN,
                           time=NOW, data={"kind": "admission", "department": "Afsnit P2", "occurred_at": occurred})
    assert entry.title == "Hospitalsadvis: indlagt (Afsnit P2)"
    assert entry.occurred_at == occurred and entry.service_label == "Sundhed"


def test_unknown_event_falls_back_to_the_event_time():
    entry = timeline_entry(event_id="e1", event_type="tovholder.plans.something-new.v1", citizen_id=CITIZEN, time=NOW, data={})
    assert entry.title == "Hændelse: something-new" and entry.occurred_at == NOW


def test_board_follows_a_case():
    rid = str(UUID(int=1))
    assert case_update("tovholder.referrals.referral-received.v1", {"referral_id": rid, "received_at": NOW}, NOW).status is CaseStatus.RECEIVED
    granted = case_update("tovholder.referrals.visitation-decided.v1",
                          {"referral_id": rid, "decision": "granted", "step": 6, "botilbud_id": "orion"}, NOW)
    assert granted.status is CaseStatus.GRANTED and granted.step == 6 and granted.botilbud_id == "orion"
    assert case_update("tovholder.referrals.visitation-decided.v1",
                       {"referral_id": rid, "decision": "granted", "waitlisted": True}, NOW).status is CaseStatus.WAITLISTED
    assert case_update("tovholder.referrals.visitation-decided.v1", {"referral_id": rid, "decision": "refused"}, NOW).status is CaseStatus.REFUSED
    assert case_update("tovholder.plans.plan-opened.v1", {}, NOW) is None
    assert CaseStatus.MOVED_IN.label_da == "Flyttet ind"
