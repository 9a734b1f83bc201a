"""What the referral service records. Private to the service; published as contracts."""

from __future__ import annotations

import datetime as dt

from infra.ddd import DomainEvent, EventTypes
from referral.domain.values import CareService, Urgency


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


EVENT_TYPES = EventTypes([ReferralRaised])
