"""Policies: what the referral service does when another service records a fact."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from referral.domain.commands import RaiseReferral
from referral.domain.referral import ReferralState
from referral.domain.values import Urgency

# Fixed for all time: changing it would give every past concern a new referral id, and a
# redelivered concern would then raise a second referral.
REFERRAL_ID_NAMESPACE = uuid.UUID("4f2e2952-e08d-4ca5-a107-65381c35d753")


class CoachingConcern(BaseModel):
    """The facts of a coaching concern this policy needs (read from the coaching contract)."""

    model_config = ConfigDict(frozen=True)

    engagement_id: str
    concern_id: str
    client_id: str
    site_id: str
    urgency: Urgency
    raised_on: dt.date
    # When coaching recorded the concern (the published event's time): the instant the referral
    # was made, the same on every redelivery.
    recorded_at: dt.datetime


def concern_source(concern_id: str) -> str:
    return f"coaching-concern/{concern_id}"


def engagement_origin(engagement_id: str) -> str:
    """The record at coaching that waits on the referral's outcome: its completion goes back
    there (coaching resumes the engagement when therapy recommends it)."""
    return f"coaching-engagement/{engagement_id}"


def referral_id_for(source: str) -> str:
    """The same source always yields the same referral id, so redelivery raises no duplicate."""
    return str(uuid.uuid5(REFERRAL_ID_NAMESPACE, source))


def referral_for_concern(concern: CoachingConcern) -> RaiseReferral:
    """A coach saw symptoms return: the client is referred back to therapy, as urgently as the
    coach judged."""
    source = concern_source(concern.concern_id)
    return RaiseReferral(
        referral_id=referral_id_for(source),
        client_id=concern.client_id,
        site_id=concern.site_id,
        from_service="coaching",
        to_service="therapy",
        urgency=concern.urgency,
        reason="symptoms_resurfaced",
        raised_on=concern.raised_on,
        raised_at=concern.recorded_at,
        source=source,
        origin=engagement_origin(concern.engagement_id),
    )


def already_raised(state: ReferralState, command: RaiseReferral) -> bool:
    """Whether the concern's referral is on record. Its id is derived from the concern, so a
    referral under that id from the same source IS the concern's referral, whatever else a
    later version of this policy would now put in it: a redelivered concern records nothing."""
    return state.referral is not None and state.referral.source == command.source
