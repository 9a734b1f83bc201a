"""The event store: an append-only log of streams, the source of truth of each service."""

from infra.eventstore.memory import InMemoryEventStore
from infra.eventstore.model import (
    ConcurrencyError,
    EventMetadata,
    EventStore,
    NewEvent,
    OutboxMessage,
    RecordedEvent,
    StreamAppend,
    Translator,
)
from infra.eventstore.sql import SqlEventStore

__all__ = [
    "ConcurrencyError",
    "EventMetadata",
    "EventStore",
    "InMemoryEventStore",
    "NewEvent",
    "OutboxMessage",
    "RecordedEvent",
    "SqlEventStore",
    "StreamAppend",
    "Translator",
]
