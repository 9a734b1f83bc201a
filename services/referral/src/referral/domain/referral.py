"""The Referral aggregate: one stream per referral (`referral-<id>`).

Status: raised. Accepting, declining (with a reason), redirecting, scheduling, completing and
closing after documented attempts come later; each moves the status on and never back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from referral.domain.commands import RaiseReferral
from referral.domain.errors import ReferralIdMustNotBeReused
from referral.domain.events import ReferralRaised
from referral.domain.values import CareService, Urgency


def stream_id(referral_id: str) -> str:
    return f"referral-{referral_id}"


class Referral(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: str
    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    source: str


class ReferralState(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["not_raised", "raised"] = "not_raised"
    referral: Referral | None = None


INITIAL = ReferralState()


def decide(state: ReferralState, command: RaiseReferral) -> list[DomainEvent]:
    """The events raising a referral records; [] when the same referral is already recorded.

    `raised_on` is not checked against today: referrals are raised from records other services
    already dated and validated (for example a coaching concern), possibly in a site's calendar
    ahead of this service's clock, and refusing a redelivered fact would only dead-letter it.
    """
    proposed = Referral(**command.model_dump())
    if state.referral is not None:
        if state.referral == proposed:
            return []
        raise ReferralIdMustNotBeReused(command.referral_id)
    return [ReferralRaised(**proposed.model_dump())]


def evolve(state: ReferralState, event: DomainEvent) -> ReferralState:
    match event:
        case ReferralRaised():
            return ReferralState(status="raised", referral=Referral(**event.model_dump()))
        case _:
            raise TypeError(f"a referral stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: ReferralState = INITIAL) -> ReferralState:
    for event in events:
        state = evolve(state, event)
    return state
