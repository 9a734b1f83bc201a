"""What the event store keeps and the port every adapter implements."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


class ConcurrencyError(Exception):
    """Another writer appended to the stream first: reload and decide again (gRPC ABORTED)."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        found = "unknown" if actual_version is None else str(actual_version)
        super().__init__(f"stream {stream_id}: expected version {expected_version}, found {found}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


@dataclass(frozen=True, slots=True)
class EventMetadata:
    """Why and by whom an event was recorded, and the trace it belongs to."""

    correlation_id: str
    causation_id: str | None = None
    actor: str = "system"
    site_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in _metadata_items(self) if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventMetadata:
        return cls(
            correlation_id=str(data.get("correlation_id", "")),
            causation_id=data.get("causation_id"),
            actor=str(data.get("actor", "system")),
            site_id=data.get("site_id"),
            traceparent=data.get("traceparent"),
            tracestate=data.get("tracestate"),
        )


def _metadata_items(m: EventMetadata) -> list[tuple[str, str | None]]:
    return [
        ("correlation_id", m.correlation_id),
        ("causation_id", m.causation_id),
        ("actor", m.actor),
        ("site_id", m.site_id),
        ("traceparent", m.traceparent),
        ("tracestate", m.tracestate),
    ]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended."""

    type: str
    data: Mapping[str, Any]
    occurred_at: dt.datetime
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the store keeps it: never updated, never deleted."""

    event_id: uuid.UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    data: Mapping[str, Any]
    metadata: EventMetadata
    # Position in this store's log, assigned by the database; for reading, never a feed cursor.
    position: int


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, accepted only if the stream is at expected_version (0: new)."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to publish once the transaction that wrote it commits.

    Built from a recorded event by the service's translator (private event -> published contract).
    """

    event_id: uuid.UUID
    topic: str
    key: str
    ce_type: str
    source: str
    subject: str
    occurred_at: dt.datetime
    data: Mapping[str, Any]
    metadata: EventMetadata


class EventStore(Protocol):
    """An append-only log of streams with optimistic concurrency."""

    async def read(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """The events of one stream after `after_version`, in version order (every event by
        default; empty if the stream does not exist)."""
        ...

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: EventMetadata,
        *,
        outbox: Translator | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[RecordedEvent]:
        """Appends to one or more streams atomically, with their outbox messages; raises
        ConcurrencyError if any stream moved past the version it was read at (the unique
        stream and version of each event is the check: no read before the write). With conn,
        joins the caller's transaction (in a savepoint, which a conflict rolls back)."""
        ...

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Committed events of every stream in log order, for re-publishing and rebuilding."""
        ...


# Turns a recorded (private) event into its published message; None keeps it private.
Translator = Callable[[RecordedEvent], OutboxMessage | None]
