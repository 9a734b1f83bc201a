"""Events the referral service publishes on `continuum.referral.events`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.events.base import EventContract, register
from contracts.topics import REFERRAL_EVENTS

CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
Urgency = Literal["routine", "urgent"]


@register
class ReferralRaised(EventContract):
    """A client was referred from one service to another; the loop stays open until it closes."""

    name = "continuum.referral.ReferralRaised"
    version = 1
    topic = REFERRAL_EVENTS.name

    referral_id: str
    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    # The record the referral came from, for example "coaching-concern/<concern id>".
    source: str

    def key(self) -> str:
        return self.referral_id
