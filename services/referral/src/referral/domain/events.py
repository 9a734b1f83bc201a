"""What the referral service records. Private to the service; published as contracts (see
adapters.publishing), except the contact attempts and the words of notes and feedback, which
stay here.

Each event carries what its published contract needs (a translator sees one event at a time),
so the referral's identity (client, site, services, source, origin) is repeated where the
contract repeats it. Fields added after the first version have defaults, so the events already
stored still load.
"""

from __future__ import annotations

import datetime as dt

from infra.ddd import ConsentReferenceText, DomainEvent, EventTypes, TypedText
from referral.domain.values import (
    CancelReason,
    CareService,
    ContactChannel,
    DeclineReason,
    Recommendation,
    RedirectReason,
    ReferralOutcome,
    ReferralReason,
    ServiceLevelTarget,
    Urgency,
)


class ReferralRaised(DomainEvent):
    """A client was referred; the loop stays open until the referral is closed."""

    type = "ReferralRaised"

    referral_id: str
    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    source: str
    raised_at: dt.datetime | None = None
    origin: str | None = None
    reason: ReferralReason | None = None
    note: TypedText | None = None
    raised_by: str | None = None
    substance_use_record: bool = False
    consent_reference: ConsentReferenceText | None = None
    # The service-level targets in force when it was raised, as instants.
    acknowledgement_due_at: dt.datetime | None = None
    scheduling_due_at: dt.datetime | None = None


class ReferralAccepted(DomainEvent):
    type = "ReferralAccepted"

    referral_id: str
    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    source: str
    origin: str | None
    accepted_by: str
    accepted_on: dt.date


class ReferralDeclined(DomainEvent):
    type = "ReferralDeclined"

    referral_id: str
    declined_by: str
    declined_on: dt.date
    reason: DeclineReason
    note: TypedText | None = None


class ReferralRedirected(DomainEvent):
    type = "ReferralRedirected"

    referral_id: str
    from_to_service: CareService
    to_service: CareService
    redirected_by: str
    redirected_on: dt.date
    reason: RedirectReason
    note: TypedText | None = None
    # A substance-use record's consent covering the new receiving service.
    consent_reference: ConsentReferenceText | None = None


class ReferralScheduled(DomainEvent):
    type = "ReferralScheduled"

    referral_id: str
    appointment_on: dt.date
    scheduled_by: str
    scheduled_on: dt.date


class ContactAttemptRecorded(DomainEvent):
    """The receiving service tried to reach the client (kept inside the service)."""

    type = "ContactAttemptRecorded"

    referral_id: str
    attempt_id: str
    attempted_on: dt.date
    channel: ContactChannel
    recorded_by: str


class ReferralCompleted(DomainEvent):
    type = "ReferralCompleted"

    referral_id: str
    client_id: str
    from_service: CareService
    to_service: CareService
    source: str
    origin: str | None
    completed_by: str
    completed_on: dt.date
    outcome: ReferralOutcome
    feedback: TypedText
    recommendation: Recommendation


class ReferralClosedUnableToEngage(DomainEvent):
    type = "ReferralClosedUnableToEngage"

    referral_id: str
    attempts: tuple[dt.date, ...]
    closed_by: str
    closed_on: dt.date


class ReferralCancelled(DomainEvent):
    type = "ReferralCancelled"

    referral_id: str
    cancelled_by: str
    cancelled_on: dt.date
    reason: CancelReason
    note: TypedText | None = None


class ServiceLevelBreached(DomainEvent):
    """The service's clock found the referral still waiting after a target was due."""

    type = "ServiceLevelBreached"

    referral_id: str
    site_id: str
    to_service: CareService
    urgency: Urgency
    target: ServiceLevelTarget
    due_at: dt.datetime
    detected_at: dt.datetime


EVENT_TYPES = EventTypes(
    [
        ReferralRaised,
        ReferralAccepted,
        ReferralDeclined,
        ReferralRedirected,
        ReferralScheduled,
        ContactAttemptRecorded,
        ReferralCompleted,
        ReferralClosedUnableToEngage,
        ReferralCancelled,
        ServiceLevelBreached,
    ]
)
