"""Consumers accept both FIT event versions: v1 (1–10, still on the topic) and v2 (the real 0–40 scales)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from contracts.plans import FitRecordedV1, FitRecordedV2
from services.notifications.domain.consent import FIT, category_of
from services.notifications.domain.timeline import timeline_entry
from services.notifications.services import consumed_event_models


def test_notifications_consumes_both_fit_versions_with_one_meaning():
    assert {FitRecordedV1, FitRecordedV2} <= set(consumed_event_models())
    held = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for event_type, data in (("tovholder.plans.fit-recorded.v1", {"held_at": held, "ors": 7.0}),
                             ("tovholder.plans.fit-recorded.v2", {"held_at": held, "ors": 22.5})):
        entry = timeline_entry(event_id=str(uuid4()), event_type=event_type, citizen_id=uuid4(), time=held, data=data)
        assert entry.title == "FIT-samtale holdt" and entry.occurred_at == held
        assert category_of(event_type) == FIT  # delivered to partners only under the citizen's FIT consent
