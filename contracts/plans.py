"""Events published by the plans service (Borgerens Plan, network, safety, FIT, consent)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import PLANS


@event("plan-opened", version=1, topic=PLANS)
class PlanOpenedV1(EventBody):
    plan_id: UUID
    botilbud_id: str
    opened_at: datetime
