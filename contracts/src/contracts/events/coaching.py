"""Events the coaching service publishes on `continuum.coaching.events`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.events.base import EventContract, register
from contracts.topics import COACHING_EVENTS

__all__ = ["CoachingConcernRaised", "EngagementOpened"]

ConcernUrgency = Literal["routine", "urgent"]


@register
class EngagementOpened(EventContract):
    """A coaching engagement began for a client (a pseudonymous id)."""

    name = "continuum.coaching.EngagementOpened"
    version = 1
    topic = COACHING_EVENTS.name

    engagement_id: str
    client_id: str
    coach_id: str
    site_id: str
    opened_on: dt.date

    def key(self) -> str:
        return self.engagement_id


@register
class CoachingConcernRaised(EventContract):
    """A coach saw symptoms return: the engagement is paused and the client goes back to therapy."""

    name = "continuum.coaching.CoachingConcernRaised"
    version = 1
    topic = COACHING_EVENTS.name

    engagement_id: str
    concern_id: str
    client_id: str
    site_id: str
    urgency: ConcernUrgency
    raised_on: dt.date

    def key(self) -> str:
        return self.engagement_id
