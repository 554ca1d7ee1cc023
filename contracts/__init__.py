"""Tovholder's event contracts: the versioned events the four services exchange on Kafka.

Every event is a CloudEvent: the attributes (id, source, type, time, subject) travel in Kafka
headers, the body is JSON validated by the Pydantic model registered for its `type`. A published
version never changes incompatibly: `tests/unit/test_contract_compatibility.py` compares every model
with its committed JSON Schema snapshot under `contracts/schemas/`.
"""

from contracts.base import EVENT_REGISTRY, BaseEvent, EventBody, UnattributedEventBody, event_type_of, model_for
from contracts import referrals, plans, health, notifications  # noqa: F401  (registers the events)

__all__ = ["EVENT_REGISTRY", "BaseEvent", "EventBody", "UnattributedEventBody", "event_type_of", "model_for"]
