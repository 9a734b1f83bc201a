"""Translation of supervision's private events into the contracts it publishes."""

from __future__ import annotations

from contracts import events as contract
from infra.application import published
from infra.eventstore import OutboxMessage, RecordedEvent
from supervision.domain import EVENT_TYPES, AgreementSigned, SessionLogged

SOURCE = "/continuum/supervision"


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    match event:
        case AgreementSigned():
            public: contract.EventContract = contract.AgreementSigned(**event.to_data())
        case SessionLogged():
            public = contract.SessionLogged(
                **event.to_data(), kind="clinical", start_time=None, techniques=(), focus=()
            )
        case _:
            return None
    return published(recorded, public, source=SOURCE)
