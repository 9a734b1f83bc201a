"""What the coaching service reacts to: the referral loop's answers.

- ReferralCompleted whose origin is "coaching-engagement/<id>": therapy's answer to a concern.
  The concern is settled; with the recommendation `resume_coaching` the engagement resumes,
  otherwise it stays paused (the coach then closes it).
- ReferralAccepted to coaching: therapy recommended coaching and a coach took the client on, so
  an engagement opens on its own (its id derived from the referral's).

Each happens once however often the event is delivered: the inbox drops a redelivery, and the
command's own record answers a reaction already recorded (a re-published log
carries the same facts under the same ids). A fact coaching cannot apply (an engagement it does
not know, no open concern to settle) is a permanent failure: the message is dead-lettered with
the rule it broke, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from coaching.application.handlers import RECORD
from coaching.domain import EngagementCommand, OpenEngagementForReferral, SettleConcern
from coaching.domain.policy import engagement_of_origin
from contracts.events import ReferralAccepted, ReferralCompleted
from infra.commands import CommandRunner
from infra.ddd import DomainError
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from infra.runtime import reaction_context

ACTOR = "service:coaching"


class ReferralConsumer:
    def __init__(self, runner: CommandRunner, clock: Callable[[], dt.datetime]) -> None:
        self._runner = runner
        self._clock = clock

    async def on_referral_completed(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        completed = event.contract()
        if not isinstance(completed, ReferralCompleted):
            raise PermanentError(f"{event.ce_type} is not a referral completion")
        engagement_id = engagement_of_origin(completed.origin)
        if engagement_id is None:
            return  # a referral no coaching engagement waits on
        command = SettleConcern(
            engagement_id=engagement_id,
            referral_id=completed.referral_id,
            completed_on=completed.completed_on,
            recommendation=completed.recommendation,
        )
        await self._apply(command, conn, event)

    async def on_referral_accepted(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        accepted = event.contract()
        if not isinstance(accepted, ReferralAccepted):
            raise PermanentError(f"{event.ce_type} is not a referral acceptance")
        if accepted.to_service != "coaching":
            return
        command = OpenEngagementForReferral(
            referral_id=accepted.referral_id,
            client_id=accepted.client_id,
            coach_id=accepted.accepted_by,
            site_id=accepted.site_id,
            accepted_on=accepted.accepted_on,
        )
        await self._apply(command, conn, event)

    async def _apply(
        self, command: EngagementCommand, conn: AsyncConnection, event: IncomingEvent
    ) -> None:
        ctx = reaction_context(event, ACTOR, self._clock())
        try:
            await self._runner.run(RECORD, command, ctx, within=conn)
        except DomainError as refused:
            # Delivering it again would decide the same: set it aside with the rule it broke.
            raise PermanentError.refusal(refused) from refused
