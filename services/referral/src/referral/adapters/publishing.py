"""Translation of referral's private events into the contracts it publishes.

Minimum necessary: the published events carry ids, dates, statuses and reason codes. What stays
here: the notes people write, the words of the feedback to the referrer (published as the
reference where the referrer reads it, see `feedback_reference`), the deadlines as recorded, and
the contact attempts (only their dates go out, with a closing unable to engage).
"""

from __future__ import annotations

from contracts import events as contract
from infra.application import published
from infra.eventstore import OutboxMessage, RecordedEvent
from referral.domain import (
    EVENT_TYPES,
    ReferralAccepted,
    ReferralCancelled,
    ReferralClosedUnableToEngage,
    ReferralCompleted,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ServiceLevelBreached,
)
from referral.domain.values import feedback_reference

_NOTE = {"note"}


def to_contract(recorded: RecordedEvent) -> contract.EventContract | None:
    """The published form of a recorded event; None for what stays inside the service."""
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    match event:
        case ReferralRaised():
            return contract.ReferralRaised(
                **event.model_dump(exclude=_NOTE | {"acknowledgement_due_at", "scheduling_due_at"})
            )
        case ReferralAccepted():
            return contract.ReferralAccepted(**event.model_dump())
        case ReferralDeclined():
            return contract.ReferralDeclined(**event.model_dump(exclude=_NOTE))
        case ReferralRedirected():
            return contract.ReferralRedirected(
                **event.model_dump(exclude=_NOTE | {"consent_reference"})
            )
        case ReferralScheduled():
            return contract.ReferralScheduled(**event.model_dump())
        case ReferralCompleted():
            return contract.ReferralCompleted(
                **event.model_dump(exclude={"feedback"}),
                feedback=feedback_reference(event.referral_id),
            )
        case ReferralClosedUnableToEngage():
            return contract.ReferralClosedUnableToEngage(**event.model_dump())
        case ReferralCancelled():
            return contract.ReferralCancelled(**event.model_dump(exclude=_NOTE))
        case ServiceLevelBreached():
            return contract.ReferralServiceLevelBreached(**event.model_dump())
        case _:
            return None  # contact attempts


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    public = to_contract(recorded)
    return None if public is None else published(recorded, public)
