"""Events the referral service publishes on `continuum.referral.events`.

A referral is a closed loop: raised, then accepted, declined or redirected, then scheduled, then
completed (with feedback to the referrer) or closed after documented attempts, or cancelled.
Every event is keyed by the referral id, so a referral's events stay in order.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.events.base import EventContract, register
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
    referral_id: str

    def key(self) -> str:
        return self.referral_id


@register
class ReferralRaised(_ReferralEvent):
    """A client was referred from one service to another; the loop stays open until it closes."""

    name = "continuum.referral.ReferralRaised"
    version = 1

    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    # The record the referral came from, for example "coaching-concern/<concern id>".
    source: str
    # Added compatibly (defaults).
    # When the referral was made; the service-level clock runs from here.
    raised_at: dt.datetime | None = None
    # The record at the referrer that waits on the outcome, for example
    # "coaching-engagement/<engagement id>"; feedback on completion goes back to it.
    origin: str | None = None
    # A reason code (for example "symptoms_returned"); free text stays in the referral service.
    reason: str | None = None
    raised_by: str | None = None
    # 42 CFR Part 2: a substance-use record travels only with the client's consent reference.
    substance_use_record: bool = False
    consent_reference: str | None = None


@register
class ReferralAccepted(_ReferralEvent):
    """The receiving service acknowledged the referral and took it on."""

    name = "continuum.referral.ReferralAccepted"
    version = 1

    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    # The clinician, coach or prescriber who accepted: the client's new contact there.
    accepted_by: str
    accepted_on: dt.date
    source: str
    origin: str | None


@register
class ReferralDeclined(_ReferralEvent):
    """The receiving service declined the referral, with the reason; the loop is closed."""

    name = "continuum.referral.ReferralDeclined"
    version = 1

    declined_by: str
    declined_on: dt.date
    reason: str


@register
class ReferralRedirected(_ReferralEvent):
    """The referral was sent on to another service instead; it is raised again there."""

    name = "continuum.referral.ReferralRedirected"
    version = 1

    from_to_service: CareService
    to_service: CareService
    redirected_by: str
    redirected_on: dt.date
    reason: str


@register
class ReferralScheduled(_ReferralEvent):
    """A first appointment was booked."""

    name = "continuum.referral.ReferralScheduled"
    version = 1

    appointment_on: dt.date
    scheduled_by: str
    scheduled_on: dt.date


@register
class ReferralCompleted(_ReferralEvent):
    """The referral's purpose was met; the outcome and the feedback go back to the referrer."""

    name = "continuum.referral.ReferralCompleted"
    version = 1

    client_id: str
    from_service: CareService
    to_service: CareService
    source: str
    origin: str | None
    completed_by: str
    completed_on: dt.date
    # An outcome code.
    outcome: str
    # Where the referrer reads the feedback ("referral-feedback/<referral id>", from the
    # referral service's GetReferral): the text is about the client, so it is not broadcast.
    feedback: str
    recommendation: Recommendation


@register
class ReferralClosedUnableToEngage(_ReferralEvent):
    """The client could not be engaged after the recorded attempts; the loop is closed."""

    name = "continuum.referral.ReferralClosedUnableToEngage"
    version = 1

    attempts: tuple[dt.date, ...]
    closed_by: str
    closed_on: dt.date


@register
class ReferralCancelled(_ReferralEvent):
    """The referrer withdrew the referral; the loop is closed."""

    name = "continuum.referral.ReferralCancelled"
    version = 1

    cancelled_by: str
    cancelled_on: dt.date
    reason: str


@register
class ReferralServiceLevelBreached(_ReferralEvent):
    """A referral missed a service-level target for its urgency (found by the service's clock).

    Recorded once per referral and target, while the referral is still waiting.
    """

    name = "continuum.referral.ReferralServiceLevelBreached"
    version = 1

    site_id: str
    to_service: CareService
    urgency: Urgency
    target: ServiceLevelTarget
    due_at: dt.datetime
    detected_at: dt.datetime
