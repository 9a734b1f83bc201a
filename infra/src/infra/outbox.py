"""The outbox relay: publishes what the event store committed, then marks it published.

No dual writes: a request only writes its events and their outbox rows in one transaction; this
relay publishes afterwards. Delivery is at least once (a crash between publishing and marking
publishes again), and consumers are idempotent.

Several relay replicas may run against one PostgreSQL database. Each claims a batch of pending
rows with FOR UPDATE SKIP LOCKED and a short lease, publishes outside any transaction, then marks
the rows. A row is only claimed when no earlier row of its stream is still pending in someone
else's hands, so each aggregate's events reach Kafka in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Row, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.db import Database
from infra.eventstore.model import EventMetadata, EventStore, OutboxMessage, Translator
from infra.eventstore.sql import enqueue
from infra.schema import outbox

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Where the relay sends messages; raises if the broker did not take them all."""

    async def publish(self, messages: Sequence[OutboxMessage]) -> None: ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher: Publisher,
        *,
        batch_size: int = 200,
        lease: dt.timedelta = dt.timedelta(seconds=30),
        idle_interval: float = 0.1,
        max_backoff: float = 5.0,
        relay_id: str | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._batch_size = batch_size
        self._lease = lease
        self._idle_interval = idle_interval
        self._max_backoff = max_backoff
        self._now = now
        self.relay_id = relay_id or f"relay-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Hint that rows were just written, so the relay need not wait for its next poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Claims, publishes and marks one batch; returns how many messages were published.

        If publishing fails the claim is released, the error recorded on the rows, and the
        exception raised: nothing is lost, the rows are tried again.
        """
        claimed = await self._claim()
        if not claimed:
            return 0
        ids = [row.id for row in claimed]
        try:
            await self._publisher.publish([_message(row) for row in claimed])
        except Exception as exc:
            await self._release(ids, repr(exc))
            raise
        async with self._db.transaction() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(published_at=self._now(), claimed_by=None, claimed_until=None)
            )
        return len(ids)

    async def run(self, stop: asyncio.Event) -> None:
        """Relays until stop is set; a broker that is down is waited for, with backoff."""
        backoff = self._idle_interval
        while not stop.is_set():
            try:
                published = await self.relay_once()
                backoff = self._idle_interval
            except Exception:
                log.warning("outbox relay could not publish; retrying in %.1fs", backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if published == 0:
                self._wake.clear()
                wake = asyncio.create_task(self._wake.wait())
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait(
                    {wake, stopped}, timeout=self._idle_interval, return_when="FIRST_COMPLETED"
                )
                wake.cancel()
                stopped.cancel()

    async def pending(self) -> int:
        """How many messages wait to be published (the backlog operators watch)."""
        async with self._db.read() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
            return int(count or 0)

    async def _claim(self) -> list[Row[Any]]:
        now = self._now()
        async with self._db.transaction() as conn:
            claimable = and_(
                outbox.c.published_at.is_(None),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            rows = list(
                await conn.execute(
                    select(outbox)
                    .where(claimable)
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return []
            rows = await self._keep_stream_order(conn, rows)
            if rows:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(claimed_by=self.relay_id, claimed_until=now + self._lease)
                )
            return rows

    async def _keep_stream_order(
        self, conn: AsyncConnection, rows: list[Row[Any]]
    ) -> list[Row[Any]]:
        """Drops rows whose stream has an earlier pending row this batch does not hold."""
        streams = {row.stream_id for row in rows}
        result = await conn.execute(
            select(outbox.c.stream_id, func.min(outbox.c.id))
            .where(outbox.c.published_at.is_(None), outbox.c.stream_id.in_(streams))
            .group_by(outbox.c.stream_id)
        )
        earliest: dict[str, int] = {stream: first for stream, first in result}
        held = {row.id for row in rows}
        blocked = {stream for stream, first in earliest.items() if first not in held}
        return [row for row in rows if row.stream_id not in blocked]

    async def _release(self, ids: list[int], error: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.relay_id)
                .values(
                    claimed_by=None,
                    claimed_until=None,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:2000],
                )
            )


async def republish_log(
    db: Database, store: EventStore, translate: Translator, *, page: int = 1000
) -> int:
    """Queues every event of the store for publishing again, in log order.

    For an operator re-publishing a service's whole log to its topic (a new broker, a projection
    rebuilt from scratch). Consumers skip what they already applied.
    """
    queued = 0
    after = 0
    while True:
        batch = await store.read_all(after_position=after, limit=page)
        if not batch:
            return queued
        async with db.transaction() as conn:
            queued += await enqueue(conn, batch, translate, now=_utcnow())
        after = batch[-1].position


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        event_id=row.event_id,
        topic=row.topic,
        key=row.message_key,
        ce_type=row.ce_type,
        source=row.source,
        subject=row.subject,
        occurred_at=row.occurred_at,
        data=row.data,
        metadata=EventMetadata.from_dict(row.metadata),
    )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
