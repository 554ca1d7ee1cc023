"""Events published by the health service (the tovholder role)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import HEALTH


@event("health-record-opened", version=1, topic=HEALTH)
class HealthRecordOpenedV1(EventBody):
    health_record_id: UUID
    botilbud_id: str
    opened_at: datetime
