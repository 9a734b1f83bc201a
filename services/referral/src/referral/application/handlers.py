"""Use cases of the referral service: load, decide, record.

Every referral is appended to with the version it was read at, so a concurrent change makes the
append fail (ConcurrencyError) rather than record a stale decision: a staff command then reads
and decides again, a few times, before giving up (gRPC ABORTED); the clock leaves a referral
that moved under it to its next tick; a consumed event runs in the consumer's transaction,
which the consumer itself retries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from infra.application import CommandContext, Loaded
from infra.ddd import DomainEvent
from infra.eventstore import ConcurrencyError, EventMetadata
from referral.domain import (
    DEFAULT_SERVICE_LEVELS,
    CoachingConcern,
    ReferralCommand,
    ReferralState,
    ServiceLevelPolicy,
    already_raised,
    breaches_due,
    decide,
    referral_for_concern,
)
from referral.domain.errors import ReferralMustExist
from referral.domain.values import ReferralStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often a staff command is decided again when another command changed the referral.
ATTEMPTS = 3
# Who the service's clock records its findings as.
CLOCK_ACTOR = "service:referral-clock"


class ReferralRecords(Protocol):
    """The referrals' streams, and the service's own index of them (by site, status and the
    next deadline), kept in the same transaction as the events."""

    async def load(self, referral_id: str) -> Loaded[ReferralState]:
        """The referral's state and the version it was read at."""
        ...

    async def record(
        self,
        loaded: Loaded[ReferralState],
        events: Sequence[DomainEvent],
        ctx: CommandContext,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Appends the events (with their outbox messages) and updates the index, atomically;
        with conn, in the caller's transaction."""
        ...

    async def due(self, now: dt.datetime, limit: int) -> list[str]:
        """Referrals with a deadline still pending that has passed by `now`, oldest first."""
        ...

    async def listed(self, site_id: str, status: ReferralStatus | None, limit: int) -> list[str]:
        """A site's referrals (with the status, if given), oldest first."""
        ...


async def _retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    for remaining in reversed(range(ATTEMPTS)):
        try:
            return await attempt()
        except ConcurrencyError:
            if not remaining:
                raise
    raise AssertionError("unreachable")


async def handle(
    command: ReferralCommand,
    ctx: CommandContext,
    records: ReferralRecords,
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
) -> bool:
    """A staff command on one referral; False when it was already recorded (a retry)."""

    async def attempt() -> bool:
        loaded = await records.load(command.referral_id)
        events = decide(loaded.state, command, ctx.now, policy)
        if events:
            await records.record(loaded, events, ctx)
        return bool(events)

    return await _retrying(attempt)


async def refer_concern_to_therapy(
    concern: CoachingConcern,
    ctx: CommandContext,
    records: ReferralRecords,
    conn: AsyncConnection | None = None,
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
) -> bool:
    """A coaching concern raises a referral back to therapy, once however often it arrives.

    With conn, the referral is recorded in the caller's transaction (the consumer's, which also
    records the concern's event as processed).
    """
    command = referral_for_concern(concern)
    loaded = await records.load(command.referral_id)
    if already_raised(loaded.state, command):
        return False
    events = decide(loaded.state, command, ctx.now, policy)
    if events:
        await records.record(loaded, events, ctx, conn)
    return bool(events)


async def check_service_levels(
    now: dt.datetime, records: ReferralRecords, *, batch: int = 500
) -> int:
    """The service's clock: records every service-level breach that is due by `now` and not
    yet on record; returns how many it recorded. Deterministic in `now`: run twice with the
    same `now` it records nothing the second time.

    Candidates come from the service's index (`ReferralRecords.due`): only referrals whose next
    pending deadline has passed are read, so a tick costs nothing when nothing is late.
    """
    recorded = 0
    ctx = CommandContext(
        now=now,
        metadata=EventMetadata(
            correlation_id=f"service-levels/{now.isoformat()}", actor=CLOCK_ACTOR
        ),
    )
    for referral_id in await records.due(now, batch):
        loaded = await records.load(referral_id)
        events = breaches_due(loaded.state, now)
        try:
            # Also with no events: the index then learns the referral needs no more watching.
            await records.record(loaded, events, ctx)
        except ConcurrencyError:
            log.info("referral %s changed while checked; next tick decides again", referral_id)
            continue
        recorded += len(events)
    return recorded


async def get_referral(referral_id: str, records: ReferralRecords) -> ReferralState:
    state = (await records.load(referral_id)).state
    if state.referral is None:
        raise ReferralMustExist(referral_id)
    return state


async def list_referrals(
    site_id: str, status: ReferralStatus | None, limit: int, records: ReferralRecords
) -> list[ReferralState]:
    states = [
        (await records.load(rid)).state for rid in await records.listed(site_id, status, limit)
    ]
    return [s for s in states if s.referral is not None]
