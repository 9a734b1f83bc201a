"""Translation of coaching's private events into the contracts it publishes."""

from __future__ import annotations

from coaching.domain import EVENT_TYPES, CoachingConcernRaised, EngagementOpened
from contracts import events as contract
from infra.application import published
from infra.eventstore import OutboxMessage, RecordedEvent

SOURCE = "/continuum/coaching"


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    match event:
        case EngagementOpened():
            public: contract.EventContract = contract.EngagementOpened(**event.to_data())
        case CoachingConcernRaised():
            public = contract.CoachingConcernRaised(**event.to_data())
        case _:
            return None
    return published(recorded, public, source=SOURCE)
