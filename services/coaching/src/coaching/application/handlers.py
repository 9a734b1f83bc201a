"""Use cases of the coaching service: load the engagement, decide, append.

Every command, whether a coach sent it or another service's fact caused it, is decided on the
engagement's own stream, so the one handler serves both. With `conn`, the events are recorded
in the caller's transaction (a consumer's, which also records the source event as processed).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from coaching.domain import EVENT_TYPES, EngagementCommand, EngagementState, engagement
from coaching.domain.errors import EngagementMustExist
from infra.application import CommandContext, load
from infra.ddd import Command, Id
from infra.eventstore import EventStore, Translator


class EngagementLookup(Command):
    """A read of one engagement, by an id that must be well formed."""

    engagement_id: Id


async def handle(
    command: EngagementCommand,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    conn: AsyncConnection | None = None,
) -> bool:
    """Records the command; False when it had already been recorded and nothing changed."""
    record = await load(
        store, engagement.stream_id(command.engagement_id), engagement.fold, EVENT_TYPES
    )
    events = engagement.decide(record.state, command, ctx.today)
    if events:
        await store.append(
            [record.append(events, ctx.now)], ctx.metadata, outbox=publish, conn=conn
        )
    return bool(events)


async def get_engagement(query: EngagementLookup, store: EventStore) -> EngagementState:
    """The engagement as it stands; raises EngagementMustExist when it was never opened."""
    stream = engagement.stream_id(query.engagement_id)
    record = await load(store, stream, engagement.fold, EVENT_TYPES)
    if record.state.engagement is None:
        raise EngagementMustExist(query.engagement_id)
    return record.state
