"""An in-memory event store for unit tests of application handlers.

It passes the same contract tests as the SQL store, so a handler tested against it behaves the
same against the real one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from infra.eventstore.model import (
    ConcurrencyError,
    EventMetadata,
    OutboxMessage,
    RecordedEvent,
    StreamAppend,
    Translator,
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class InMemoryEventStore:
    def __init__(self, *, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self._now = now
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._lock = asyncio.Lock()
        # What the outbox would publish, in order; tests read it.
        self.published: list[OutboxMessage] = []

    async def read(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        return list(self._streams.get(stream_id, [])[after_version:])

    def version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, []))

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        return [e for e in self._log if e.position > after_position][:limit]

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: EventMetadata,
        *,
        outbox: Translator | None = None,
        conn: Any = None,
    ) -> list[RecordedEvent]:
        async with self._lock:
            for append in appends:
                current = len(self._streams.get(append.stream_id, []))
                if current != append.expected_version:
                    raise ConcurrencyError(append.stream_id, append.expected_version, current)
            recorded_at = self._now()
            recorded: list[RecordedEvent] = []
            for append in appends:
                for offset, new in enumerate(append.events, start=1):
                    event = RecordedEvent(
                        event_id=new.event_id,
                        stream_id=append.stream_id,
                        version=append.expected_version + offset,
                        type=new.type,
                        schema_version=new.schema_version,
                        occurred_at=new.occurred_at,
                        recorded_at=recorded_at,
                        data=dict(new.data),
                        metadata=metadata,
                        position=len(self._log) + len(recorded) + 1,
                    )
                    recorded.append(event)
            for event in recorded:
                self._log.append(event)
                self._streams.setdefault(event.stream_id, []).append(event)
                message = outbox(event) if outbox is not None else None
                if message is not None:
                    self.published.append(message)
            return recorded
