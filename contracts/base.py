"""Base model and registry for versioned event bodies.

Rules for authors:
- one class per event type *and version*; the class name ends in the version (``ReferralReceivedV1``);
- every body carries ``citizen_id`` (it is also the CloudEvent ``subject`` and the Kafka key, so one
  citizen's events stay in order) — except the rare ``UnattributedEventBody``, keyed by ``subject_id``;
- never a CPR number, never free text a partner did not need;
- a published version may only gain *optional* fields; anything else is a new version (``…V2``).
"""

from __future__ import annotations

from typing import ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.topics import Topic

EVENT_REGISTRY: dict[str, type["BaseEvent"]] = {}

E = TypeVar("E", bound=type["BaseEvent"])


class BaseEvent(BaseModel):
    # Consumers ignore fields they do not know: a producer may add optional fields to a version.
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[Topic]

    def event_subject(self) -> str:
        """The CloudEvent subject and the Kafka key (one subject's events stay in order)."""
        raise NotImplementedError


class EventBody(BaseEvent):
    """An event about one citizen: subject and key are the citizen id."""

    citizen_id: UUID

    def event_subject(self) -> str:
        return str(self.citizen_id)


class UnattributedEventBody(BaseEvent):
    """The rare event about no known citizen (e.g. a hospital notice whose CPR matched nobody,
    parked for visitation): subject and key are ``subject_id``, the id of the thing it is about."""

    subject_id: UUID

    def event_subject(self) -> str:
        return str(self.subject_id)


def event(name: str, *, version: int, topic: Topic):
    """Register an event body under its CloudEvents ``type``: ``tovholder.<service>.<name>.v<version>``."""

    def register(cls: E) -> E:
        type_name = f"tovholder.{topic.producer}.{name}.v{version}"
        if type_name in EVENT_REGISTRY:
            raise ValueError(f"event type {type_name} registered twice")
        cls.event_type = type_name
        cls.topic = topic
        EVENT_REGISTRY[type_name] = cls
        return cls

    return register


def event_type_of(body: BaseEvent | type[BaseEvent]) -> str:
    return body.event_type


def model_for(event_type: str) -> type[BaseEvent] | None:
    return EVENT_REGISTRY.get(event_type)
