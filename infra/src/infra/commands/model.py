"""What the command runner works with: the kinds of stream a command reads and writes, the unit
of work it hands over to be committed, and the port that commits units."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.ddd import DomainEvent, EventTypes
from infra.eventstore.model import EventMetadata, RecordedEvent, StreamAppend

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Aggregate(Generic[S]):
    """One kind of stream: how an id becomes its stream id and how its events fold into a state.

    `read_by_others`: other commands decide on this stream's state without writing to it (a
    supervisor's standing is read by every session logged under them, see `UnitOfWork.expect`).
    Its appends then lock the stream against those readers for the length of the transaction.

    `subject`: whose sensitive values the stream's events hold (the supervisee, the client, the
    license holder), read from its state; they are sealed for that subject when stored
    (`infra.commands.sealing`). None for a stream whose events hold nothing sensitive.
    """

    category: str
    initial: S
    fold: Callable[[Iterable[DomainEvent], S], S]
    types: EventTypes
    read_by_others: bool = False
    subject: Callable[[S], str | None] | None = None

    def stream_id(self, id: str) -> str:
        return f"{self.category}-{id}"


@dataclass(frozen=True, slots=True)
class IndexRow:
    """A row of a service's own index table (facts a decision needs, kept beside the events),
    written in the transaction of the events it is derived from, so it is never behind them.

    mode: "upsert" inserts or replaces by primary key; "insert" adds a row, and a clash with a
    primary or unique key makes the unit a conflict, decided again on fresh state; "update"
    changes the row with this primary key.
    """

    table: Table
    values: Mapping[str, Any]
    mode: Literal["upsert", "insert", "update"] = "upsert"

    def key(self) -> tuple[Any, ...]:
        return tuple(self.values[column.name] for column in self.table.primary_key.columns)


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command as recorded with its events: its identity, what it asked, what it answered."""

    command_type: str
    command_key: str
    fingerprint: str
    outcome: Mapping[str, Any]
    # Whether it recorded any event.
    changed: bool


@dataclass(frozen=True, slots=True)
class ReadCheck:
    """A stream a decision read without writing to: it must still be at `version` at commit."""

    stream_id: str
    version: int


@dataclass(frozen=True, slots=True)
class RowsCheck:
    """Rows of an index table a decision read: at commit, the rows matching `where` must still
    be exactly `rows` (their `columns`), or the unit is a conflict, decided again.

    Only as safe as the locks around it: use it in a unit that appends to a stream read by
    others (`Aggregate.read_by_others`), whose writers of those rows check that stream."""

    table: Table
    where: Mapping[str, Any]
    columns: tuple[str, ...]
    rows: frozenset[tuple[Any, ...]]

    def holds(self, rows: Iterable[Mapping[str, Any]]) -> bool:
        found = {
            tuple(row[c] for c in self.columns)
            for row in rows
            if all(row.get(k) == v for k, v in self.where.items())
        }
        return found == self.rows


@dataclass(slots=True)
class Unit:
    """Everything one command writes, committed atomically: appends (each at the version its
    stream was read at), read checks, index rows and the command's own record."""

    metadata: EventMetadata
    appends: list[StreamAppend] = field(default_factory=list)
    checks: list[ReadCheck] = field(default_factory=list)
    rows: list[IndexRow] = field(default_factory=list)
    row_checks: list[RowsCheck] = field(default_factory=list)
    record: CommandRecord | None = None
    # Streams read by others' decisions among those appended to (locked exclusively).
    guarded: frozenset[str] = frozenset()

    @property
    def writes_events(self) -> bool:
        return any(append.events for append in self.appends)


class Verdict(enum.Enum):
    COMMITTED = "committed"
    # A stream moved, a read check failed or an index row clashed: decide again on fresh state.
    CONFLICT = "conflict"
    # The command's identity is recorded already: answer with the first outcome.
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Committed:
    verdict: Verdict
    # For a conflict: the streams to read again (all those the unit touched when unknown).
    stale: tuple[str, ...] = ()


class UnitStore(Protocol):
    """Where units of work are committed, and what the runner reads back."""

    async def read(
        self, stream_id: str, *, after_version: int = 0, within: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        """A stream's committed events after a version, in order. `within`: as the caller's
        open transaction sees them (with what it appended and has not committed yet)."""
        ...

    async def commit(self, unit: Unit, *, within: AsyncConnection | None = None) -> Committed:
        """Commits the unit atomically and says how it went. `within`: in the caller's
        transaction (a consumer's), inside a savepoint that a conflict rolls back."""
        ...

    async def recorded(
        self, command_type: str, command_key: str, *, within: AsyncConnection | None = None
    ) -> CommandRecord | None:
        """The command recorded under this identity, if any."""
        ...


def touched(unit: Unit) -> tuple[str, ...]:
    """Every stream a unit reads or writes."""
    return tuple(
        dict.fromkeys([a.stream_id for a in unit.appends] + [c.stream_id for c in unit.checks])
    )


def appended_versions(appends: Sequence[StreamAppend]) -> dict[str, int]:
    """Each stream's version once the appends are committed."""
    return {a.stream_id: a.expected_version + len(a.events) for a in appends}
