"""What the coaching service records. Private to the service; published as contracts."""

from __future__ import annotations

import datetime as dt

from coaching.domain.values import ConcernUrgency
from infra.ddd import DomainEvent, EventTypes


class EngagementOpened(DomainEvent):
    type = "EngagementOpened"

    engagement_id: str
    client_id: str
    coach_id: str
    site_id: str
    opened_on: dt.date


class CoachingConcernRaised(DomainEvent):
    """Symptoms resurfaced; carries the client and site so a referral can follow without
    reading the engagement."""

    type = "CoachingConcernRaised"

    engagement_id: str
    concern_id: str
    client_id: str
    site_id: str
    urgency: ConcernUrgency
    raised_on: dt.date


class EngagementPaused(DomainEvent):
    """Coaching stops while the concern is with therapy."""

    type = "EngagementPaused"

    engagement_id: str
    concern_id: str
    paused_on: dt.date


EVENT_TYPES = EventTypes([EngagementOpened, CoachingConcernRaised, EngagementPaused])
