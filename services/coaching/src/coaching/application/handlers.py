"""Command handlers of the coaching service: load, decide, append."""

from __future__ import annotations

from coaching.domain import EVENT_TYPES, OpenEngagement, RaiseConcern, engagement
from infra.application import CommandContext, load
from infra.eventstore import EventStore, Translator


async def handle(
    command: OpenEngagement | RaiseConcern,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
) -> bool:
    """Records the command; False when it had already been recorded and nothing changed."""
    record = await load(
        store, engagement.stream_id(command.engagement_id), engagement.fold, EVENT_TYPES
    )
    events = engagement.decide(record.state, command, ctx.today)
    if events:
        await store.append([record.append(events, ctx.now)], ctx.metadata, outbox=publish)
    return bool(events)
