"""Events the referral service publishes on `continuum.referral.events`.

A referral is a closed loop: raised, then accepted, declined or redirected, then scheduled, then
completed (with feedback to the referrer) or closed after documented attempts, or cancelled.
Every event is keyed by the referral id, so a referral's events stay in order.
"""

from __future__ import annotations

from typing import Literal

from contracts.events.base import EventContract, register
from contracts.fields import ConsentReference, Date, Id, Instant, Label, Reference
from contracts.topics import REFERRAL_EVENTS

__all__ = [
    "ReferralAccepted",
    "ReferralCancelled",
    "ReferralClosedUnableToEngage",
    "ReferralCompleted",
    "ReferralDeclined",
    "ReferralRaised",
    "ReferralRedirected",
    "ReferralScheduled",
    "ReferralServiceLevelBreached",
]

CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
Urgency = Literal["routine", "urgent"]
# What the receiving service recommends for the referrer's own work with the client.
Recommendation = Literal["resume_coaching", "continue_in_therapy", "no_recommendation"]
# The service-level targets a referral is held to.
ServiceLevelTarget = Literal["acknowledgement", "scheduling"]


class _ReferralEvent(EventContract):
    topic = REFERRAL_EVENTS.name
    referral_id: Id

    def key(self) -> str:
        return self.referral_id


@register
class ReferralRaised(_ReferralEvent):
    """A client was referred from one service to another; the loop stays open until it closes."""

    name = "continuum.referral.ReferralRaised"
    version = 1

    client_id: Id
    site_id: Id
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: Date
    # The record the referral came from, for example "coaching-concern/<concern id>".
    source: Reference
    # Added compatibly (defaults).
    # When the referral was made; the service-level clock runs from here.
    raised_at: Instant | None = None
    # The record at the referrer that waits on the outcome, for example
    # "coaching-engagement/<engagement id>"; feedback on completion goes back to it.
    origin: Reference | None = None
    # A reason code (for example "symptoms_returned"); free text stays in the referral service.
    reason: Label | None = None
    raised_by: Id | None = None
    # 42 CFR Part 2: a substance-use record travels only with the client's consent reference.
    substance_use_record: bool = False
    consent_reference: ConsentReference | None = None


@register
class ReferralAccepted(_ReferralEvent):
    """The receiving service acknowledged the referral and took it on."""

    name = "continuum.referral.ReferralAccepted"
    version = 1

    client_id: Id
    site_id: Id
    from_service: CareService
    to_service: CareService
    # The clinician, coach or prescriber who accepted: the client's new contact there.
    accepted_by: Id
    accepted_on: Date
    source: Reference
    origin: Reference | None


@register
class ReferralDeclined(_ReferralEvent):
    """The receiving service declined the referral, with the reason; the loop is closed."""

    name = "continuum.referral.ReferralDeclined"
    version = 1

    declined_by: Id
    declined_on: Date
    reason: Label


@register
class ReferralRedirected(_ReferralEvent):
    """The referral was sent on to another service instead; it is raised again there."""

    name = "continuum.referral.ReferralRedirected"
    version = 1

    from_to_service: CareService
    to_service: CareService
    redirected_by: Id
    redirected_on: Date
    reason: Label


@register
class ReferralScheduled(_ReferralEvent):
    """A first appointment was booked."""

    name = "continuum.referral.ReferralScheduled"
    version = 1

    appointment_on: Date
    scheduled_by: Id
    scheduled_on: Date


@register
class ReferralCompleted(_ReferralEvent):
    """The referral's purpose was met; the outcome and the feedback go back to the referrer."""

    name = "continuum.referral.ReferralCompleted"
    version = 1

    client_id: Id
    from_service: CareService
    to_service: CareService
    source: Reference
    origin: Reference | None
    completed_by: Id
    completed_on: Date
    # An outcome code.
    outcome: Label
    # Where the referrer reads the feedback ("referral-feedback/<referral id>", from the
    # referral service's GetReferral): the text is about the client, so it is not broadcast.
    feedback: Reference
    recommendation: Recommendation


@register
class ReferralClosedUnableToEngage(_ReferralEvent):
    """The client could not be engaged after the recorded attempts; the loop is closed."""

    name = "continuum.referral.ReferralClosedUnableToEngage"
    version = 1

    attempts: tuple[Date, ...]
    closed_by: Id
    closed_on: Date


@register
class ReferralCancelled(_ReferralEvent):
    """The referrer withdrew the referral; the loop is closed."""

    name = "continuum.referral.ReferralCancelled"
    version = 1

    cancelled_by: Id
    cancelled_on: Date
    reason: Label


@register
class ReferralServiceLevelBreached(_ReferralEvent):
    """A referral missed a service-level target for its urgency (found by the service's clock).

    Recorded once per referral and target, while the referral is still waiting.
    """

    name = "continuum.referral.ReferralServiceLevelBreached"
    version = 1

    site_id: Id
    to_service: CareService
    urgency: Urgency
    target: ServiceLevelTarget
    due_at: Instant
    detected_at: Instant
