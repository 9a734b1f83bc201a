"""Translation of referral's private events into the contracts it publishes."""

from __future__ import annotations

from contracts import events as contract
from infra.application import published
from infra.eventstore import OutboxMessage, RecordedEvent
from referral.domain import EVENT_TYPES, ReferralRaised

SOURCE = "/continuum/referral"


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    match event:
        case ReferralRaised():
            public: contract.EventContract = contract.ReferralRaised(**event.to_data())
        case _:
            return None
    return published(recorded, public, source=SOURCE)
