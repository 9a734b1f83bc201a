"""What the referral service reacts to: a coaching concern becomes a referral back to therapy,
raised when the concern was recorded, with the engagement that waits on it as its origin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CoachingConcernRaised
from infra.commands import CommandRunner
from infra.ddd import DomainError
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from infra.runtime import reaction_context
from referral.application.handlers import ReferConcernToTherapy, Referrals
from referral.domain import CoachingConcern

ACTOR = "service:referral"


class ConcernConsumer:
    def __init__(
        self, runner: CommandRunner, referrals: Referrals, clock: Callable[[], dt.datetime]
    ) -> None:
        self._runner = runner
        self._referrals = referrals
        self._clock = clock

    async def on_concern_raised(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        concern = event.contract()
        if not isinstance(concern, CoachingConcernRaised):
            raise PermanentError(f"{event.ce_type} is not a coaching concern")
        ctx = reaction_context(event, ACTOR, self._clock())
        # The referral was made when coaching recorded the concern: the event's own time, the
        # same on every redelivery (the referral's content must not depend on when it arrives).
        facts = CoachingConcern(**concern.model_dump(), recorded_at=event.time)
        try:
            await self._runner.run(
                self._referrals.refer_concern,
                ReferConcernToTherapy(concern=facts),
                ctx,
                within=conn,
            )
        except DomainError as refused:
            # Delivering it again would decide the same: set it aside with the rule it broke.
            raise PermanentError.refusal(refused) from refused
