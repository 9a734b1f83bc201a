"""What the referral service reacts to: a coaching concern becomes a referral back to therapy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CoachingConcernRaised
from infra.eventstore import EventStore, Translator
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from infra.runtime import reaction_context
from referral.application.handlers import refer_concern_to_therapy
from referral.domain import CoachingConcern

ACTOR = "service:referral"


class ConcernConsumer:
    def __init__(
        self, store: EventStore, publish: Translator, clock: Callable[[], dt.datetime]
    ) -> None:
        self._store = store
        self._publish = publish
        self._clock = clock

    async def on_concern_raised(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        concern = event.contract()
        if not isinstance(concern, CoachingConcernRaised):
            raise PermanentError(f"{event.ce_type} is not a coaching concern")
        ctx = reaction_context(event, ACTOR, self._clock())
        await refer_concern_to_therapy(
            CoachingConcern(**concern.model_dump()), ctx, self._store, self._publish, conn
        )
