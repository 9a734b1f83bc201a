"""The compliance projector: the services' published events into the read model, each applied
once. Compliance reads its own credential registry's facts from its topic like everyone else's,
so the read model has one input path."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.adapters import read_model
from contracts.topics import COMPLIANCE_EVENTS, REFERRAL_EVENTS, SUPERVISION_EVENTS
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import Handler, PermanentError, Subscription
from infra.runtime import Runtime

CONSUMER_GROUP = "continuum.compliance"
TOPICS = (SUPERVISION_EVENTS, REFERRAL_EVENTS, COMPLIANCE_EVENTS)


async def on_event(conn: AsyncConnection, event: IncomingEvent) -> None:
    """Projects one event in the consumer's transaction (the inbox row commits with it).

    An older version arrives upcast to the newest (a SessionLogged v1 as v2). The CloudEvent's
    time is when the producer recorded the fact: corrections are in force from then on.
    """
    contract = event.contract()
    try:
        await read_model.project(conn, contract, event.event_id, event.time)
    except read_model.NotProjected as error:
        raise PermanentError(str(error)) from error


def handlers() -> dict[str, Handler]:
    """The CloudEvents type of each projected event (newest version) and its handler."""
    return {contract.ce_type(): on_event for contract in read_model.PROJECTORS}


def subscriptions(runtime: Runtime) -> list[Subscription]:
    """What the composition root wires: one consumer group over the three producers' topics."""
    return [
        Subscription(runtime.broker, runtime.db, CONSUMER_GROUP, list(TOPICS), handlers()),
    ]
