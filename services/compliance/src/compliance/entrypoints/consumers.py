"""The compliance projector: the services' published events into the read model, each applied
once. Compliance reads its own credential registry's facts from its topic like everyone else's,
so the read model has one input path.

A batch is applied in one transaction, each table written once; should it fail, the runtime
applies its events one by one with `on_event`, so that only the one that cannot be applied is
set aside, and `record_unapplied` keeps in the read model what every view then lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.adapters import read_model
from contracts.topics import COMPLIANCE_EVENTS, REFERRAL_EVENTS, SUPERVISION_EVENTS
from infra.db import Database
from infra.messaging.authenticity import EventVerifier
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import DeadLetterHook, Handler, PermanentError, Subscription
from infra.runtime import Runtime

CONSUMER_GROUP = "continuum.compliance"
TOPICS = (SUPERVISION_EVENTS, REFERRAL_EVENTS, COMPLIANCE_EVENTS)


class ProjectionConsumer:
    """Translates delivered events into the projector's calls, and its refusals into the
    runtime's permanent errors."""

    def __init__(self, projector: read_model.Projector) -> None:
        self._projector = projector

    async def on_events(self, conn: AsyncConnection, events: Sequence[IncomingEvent]) -> None:
        """Projects a batch in the consumer's transaction (the inbox rows commit with it).

        An older version arrives upcast to the newest (a SessionLogged v1 as v2). The CloudEvent's
        time is when the producer recorded the fact: the `known_at` axis of every view.
        """
        try:
            await self._projector.apply(conn, events)
        except read_model.NotProjected as error:
            raise PermanentError(str(error)) from error

    async def on_event(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        """Projects one event: a batch of one."""
        await self.on_events(conn, (event,))


def handlers(consumer: ProjectionConsumer | None = None) -> dict[str, Handler]:
    """The CloudEvents type of each projected event (newest version) and its handler."""
    on_event = (consumer or ProjectionConsumer(read_model.Projector())).on_event
    return {contract.ce_type(): on_event for contract in read_model.PROJECTORS}


def subscription(
    broker: KafkaBroker,
    db: Database,
    projector: read_model.Projector,
    group: str = CONSUMER_GROUP,
    *,
    verifier: EventVerifier | None,
    on_dead_letter: DeadLetterHook = read_model.record_unapplied,
    **options: Any,
) -> Subscription:
    """The projector's subscription: one consumer group over the three producers' topics,
    each event checked by `verifier` to be its topic's producer's. `on_dead_letter` records,
    in the dead-letter transaction, what an event of its producer set aside names (a forgery,
    refused before it, names nothing)."""
    consumer = ProjectionConsumer(projector)
    return Subscription(
        broker,
        db,
        group,
        list(TOPICS),
        handlers(consumer),
        verifier=verifier,
        batch_handler=consumer.on_events,
        on_dead_letter=on_dead_letter,
        **options,
    )


def subscriptions(
    runtime: Runtime,
    projector: read_model.Projector | None = None,
    on_dead_letter: DeadLetterHook = read_model.record_unapplied,
) -> list[Subscription]:
    """What the composition root wires."""
    return [
        subscription(
            runtime.broker,
            runtime.db,
            projector or read_model.Projector(),
            verifier=runtime.event_verifier,
            on_dead_letter=on_dead_letter,
        )
    ]
