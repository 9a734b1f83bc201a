"""A decision that spans streams: the events per stream, to be appended in ONE transaction with
the versions the states were read at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.ddd import DomainEvent


@dataclass(frozen=True)
class Decision:
    """Events to append, by stream id, in append order. Empty when the command was already
    recorded. `lapse_marked` says whether the session decided on is marked for a supervisor
    lapse (by this decision or before)."""

    events_by_stream: Mapping[str, tuple[DomainEvent, ...]] = field(default_factory=dict)
    lapse_marked: bool = False

    @property
    def already_recorded(self) -> bool:
        return not self.events_by_stream

    def events(self) -> list[DomainEvent]:
        """Every event in append order."""
        return [event for events in self.events_by_stream.values() for event in events]
