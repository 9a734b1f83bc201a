"""Use cases of the referral service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from infra.application import CommandContext, load
from infra.eventstore import EventStore, Translator
from referral.domain import (
    EVENT_TYPES,
    CoachingConcern,
    ReferralState,
    referral,
    referral_for_concern,
)


async def refer_concern_to_therapy(
    concern: CoachingConcern,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    conn: AsyncConnection | None = None,
) -> bool:
    """A coaching concern raises a referral back to therapy, once however often it arrives.

    With conn, the referral is recorded in the caller's transaction (the consumer's, which also
    records the concern's event as processed).
    """
    command = referral_for_concern(concern)
    record = await load(store, referral.stream_id(command.referral_id), referral.fold, EVENT_TYPES)
    events = referral.decide(record.state, command)
    if events:
        await store.append(
            [record.append(events, ctx.now)], ctx.metadata, outbox=publish, conn=conn
        )
    return bool(events)


async def get_referral(referral_id: str, store: EventStore) -> ReferralState:
    return (await load(store, referral.stream_id(referral_id), referral.fold, EVENT_TYPES)).state
