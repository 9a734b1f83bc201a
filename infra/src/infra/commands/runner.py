"""The command runner: every command, timer job and consumed event's reaction of every service
goes through it.

A use case receives a `UnitOfWork`: it reads the states it needs (by aggregate and id), decides
(pure domain code), and stages what to record: events per stream, read checks on streams it
depends on without writing, and index rows. The runner commits that in ONE transaction with the
outbox rows and the command's own record (its identity, fingerprint and outcome), so that:

- a retry (same identity, same content) is answered with the first outcome, `already_recorded`,
  however much happened since; the same identity with other content is refused (ALREADY_EXISTS);
- a conflict (another command moved a stream first) is decided again on fresh state, with a
  jittered backoff, and only surfaces (ABORTED) when it keeps happening;
- nothing is read twice: states are kept after each commit in a bounded cache, with the version
  they stand at. A stale entry (another process wrote) only costs a conflict, then the events
  after its version are read and folded onto it.

Finding a retry costs nothing on the common path: no lookup precedes a command. The record is
inserted with the events; only when its identity is taken, or when the decision is refused (a
retry of a command whose effects are on record is typically refused by the domain), is the
earlier record read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Tracer
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.application import CommandContext
from infra.commands.model import (
    Aggregate,
    CommandRecord,
    IndexRow,
    ReadCheck,
    RowsCheck,
    Unit,
    UnitStore,
    Verdict,
    touched,
)
from infra.commands.sealing import EventSealing
from infra.ddd import AlreadyRecorded, Command, DomainError, DomainEvent
from infra.eventstore.model import ConcurrencyError, NewEvent, StreamAppend
from infra.security.crypto.keys import SubjectKeys

log = logging.getLogger(__name__)

S = TypeVar("S")
C = TypeVar("C", bound=Command)
R = TypeVar("R", bound=BaseModel)


class Done(BaseModel):
    """The outcome of a command that answers with nothing but its own ids."""

    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True, slots=True)
class UseCase(Generic[C, R]):
    """What a command does, given a unit of work; `outcome` is the type of what it answers
    (a retry is answered with the first outcome, read back from its record)."""

    outcome: type[R]
    decide: Callable[[UnitOfWork, C], Awaitable[R]]
    # The command's identity, when its class does not name it (see Command.key_fields).
    key_fields: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Ran(Generic[R]):
    """How a command went: its outcome, and whether it was the retry of one recorded before."""

    outcome: R
    retry: bool
    # Whether the command (the first one, for a retry) recorded any event.
    changed: bool

    @property
    def already_recorded(self) -> bool:
        """A retry, or a command that found nothing to change: what the APIs answer."""
        return self.retry or not self.changed


class CommandIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, command_type: str, command_key: str) -> None:
        super().__init__(
            f"{command_type} {command_key} is already recorded with other content: "
            "a different command needs an id of its own"
        )
        self.command_type = command_type
        self.command_key = command_key


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a command is decided again after a conflict, and how long it waits first:
    a random delay up to an exponentially growing bound, so that contenders spread out."""

    attempts: int = 12
    first_backoff: float = 0.002
    max_backoff: float = 0.1

    def backoff(self, failed_attempts: int) -> float:
        bound = min(self.max_backoff, self.first_backoff * 2 ** (failed_attempts - 1))
        return random.uniform(0, bound)


@dataclass(slots=True)
class _Entry:
    state: Any
    version: int
    stale: bool = False
    # When it was folded from the store (time.monotonic): see StateCache's max_age.
    read_at: float = 0.0


class StateCache:
    """The states of the streams used last, each with the version it stands at (bounded: the
    least recently used go first)."""

    def __init__(self, capacity: int, max_age: float | None = None) -> None:
        self._capacity = capacity
        # A state holds its sensitive values opened: kept at most this long, so that a subject
        # erased by another process reads `[erased]` here too once the keys cached expire.
        self._max_age = max_age
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, stream_id: str) -> _Entry | None:
        entry = self._entries.get(stream_id)
        if entry is None:
            return None
        if self._max_age is not None and time.monotonic() - entry.read_at > self._max_age:
            del self._entries[stream_id]
            return None
        self._entries.move_to_end(stream_id)
        return entry

    def put(self, stream_id: str, state: Any, version: int) -> None:
        entry = self._entries.get(stream_id)
        if entry is not None and not entry.stale and entry.version > version:
            return  # a slower read must not replace what a commit since put there
        # Read again from the store or folded on from a stale entry: as old as what it began
        # from (a commit's new events are sealed and opened in this process: no older).
        read_at = entry.read_at if entry is not None else time.monotonic()
        self._entries[stream_id] = _Entry(state, version, read_at=read_at)
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def mark_stale(self, stream_id: str, seen_version: int) -> None:
        """The stream moved past `seen_version` elsewhere: read what follows before using it,
        unless the entry already stands past that version (a commit here moved it)."""
        entry = self._entries.get(stream_id)
        if entry is not None and entry.version <= seen_version:
            entry.stale = True

    def forget(self, stream_id: str) -> None:
        self._entries.pop(stream_id, None)


@dataclass(slots=True)
class _Read:
    aggregate: Aggregate[Any]
    state: Any
    version: int
    staged: list[DomainEvent] = field(default_factory=list)


class UnitOfWork:
    """One attempt at a command: the states it read, and what it stages to be recorded."""

    def __init__(
        self,
        runner: CommandRunner,
        ctx: CommandContext,
        refresh: set[str],
        within: AsyncConnection | None = None,
    ) -> None:
        self.ctx = ctx
        self._runner = runner
        self._refresh = refresh
        self._within = within
        self._read: dict[str, _Read] = {}
        self._checks: dict[str, ReadCheck] = {}
        self._rows: list[IndexRow] = []
        self._row_checks: list[RowsCheck] = []

    @property
    def now(self) -> dt.datetime:
        return self.ctx.now

    @property
    def today(self) -> dt.date:
        return self.ctx.today

    async def get(self, aggregate: Aggregate[S], id: str, *, new: bool = False) -> S:
        """The state of the aggregate's stream for `id` (with what this unit staged on it).

        new: the command starts this stream (a session being logged, a supervisee registering):
        it is taken to be empty without reading it. When it is not, the commit finds out, and
        the command is decided again on what the stream holds."""
        stream_id = aggregate.stream_id(id)
        read = self._read.get(stream_id)
        if read is None:
            state, version = await self._runner._load(
                aggregate,
                stream_id,
                assume_new=new and stream_id not in self._refresh,
                within=self._within,
            )
            read = self._read[stream_id] = _Read(aggregate, state, version)
        return read.state  # type: ignore[no-any-return]

    def record(self, aggregate: Aggregate[S], id: str, events: Sequence[DomainEvent]) -> S:
        """Stages events on a stream read in this unit; returns its state after them."""
        read = self._read.get(aggregate.stream_id(id))
        if read is None:
            raise RuntimeError(f"{aggregate.stream_id(id)} is recorded to before it was read")
        if events:
            read.staged.extend(events)
            read.state = aggregate.fold(events, read.state)
        return read.state  # type: ignore[no-any-return]

    def expect(self, aggregate: Aggregate[Any], id: str) -> None:
        """The decision depends on this stream as read, without writing to it: the commit
        checks that nobody appended to it since (a conflict otherwise)."""
        if not aggregate.read_by_others:
            raise RuntimeError(f"{aggregate.category} streams are not declared read_by_others")
        stream_id = aggregate.stream_id(id)
        read = self._read.get(stream_id)
        if read is None:
            raise RuntimeError(f"{stream_id} is expected before it was read")
        self._checks[stream_id] = ReadCheck(stream_id, read.version)

    def write(self, *rows: IndexRow) -> None:
        """Stages rows of the service's own index tables, written with the events."""
        self._rows.extend(rows)

    def expect_rows(self, check: RowsCheck) -> None:
        """The decision depends on these index rows as read: the commit checks that they
        still are (see RowsCheck for the locks that make it safe)."""
        self._row_checks.append(check)

    async def _unit(self) -> Unit:
        sealing = self._runner.sealing
        appends = []
        for stream_id, read in self._read.items():
            if not read.staged:
                continue
            subject_of = read.aggregate.subject
            subject = subject_of(read.state) if subject_of is not None else None
            events = [
                NewEvent(
                    type=event.type,
                    data=await sealing.sealed_data(event, subject),
                    occurred_at=self.ctx.now,
                    schema_version=event.schema_version,
                )
                for event in read.staged
            ]
            appends.append(StreamAppend(stream_id, read.version, events))
        appended = {append.stream_id for append in appends}
        return Unit(
            metadata=self.ctx.metadata,
            appends=appends,
            checks=[c for s, c in self._checks.items() if s not in appended],
            rows=list(self._rows),
            row_checks=list(self._row_checks),
            guarded=frozenset(s for s in appended if self._read[s].aggregate.read_by_others),
        )

    def _committed(self, cache: StateCache) -> None:
        for stream_id, read in self._read.items():
            if read.staged:
                cache.put(stream_id, read.state, read.version + len(read.staged))

    def _versions(self) -> dict[str, int]:
        return {stream_id: read.version for stream_id, read in self._read.items()}


class CommandRunner:
    """Runs use cases: decides, commits, answers retries, decides again after a conflict."""

    def __init__(
        self,
        store: UnitStore,
        keys: SubjectKeys,
        *,
        retry: RetryPolicy | None = None,
        cache_size: int = 4096,
        state_max_age: float | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.store = store
        # Seals the events' sensitive fields before they are stored, opens them when read.
        self.sealing = EventSealing(keys)
        self._retry = retry or RetryPolicy()
        self._cache = StateCache(cache_size, state_max_age)
        self._tracer = tracer or trace.get_tracer(__name__)

    @property
    def cached_streams(self) -> int:
        return len(self._cache)

    async def run(
        self,
        use_case: UseCase[C, R],
        command: C,
        ctx: CommandContext,
        *,
        within: AsyncConnection | None = None,
    ) -> Ran[R]:
        """Runs the command to its outcome. `within`: in the caller's open transaction (a
        consumed event's reaction, committed with the consumer's inbox row)."""
        command_type = command.command_type()
        with self._tracer.start_as_current_span(f"command {command_type}"):
            return await self._run(use_case, command, ctx, within)

    async def _run(
        self,
        use_case: UseCase[C, R],
        command: C,
        ctx: CommandContext,
        within: AsyncConnection | None,
    ) -> Ran[R]:
        command_type = command.command_type()
        key = command.command_key(use_case.key_fields)
        fingerprint = command.fingerprint() if key is not None else ""
        refresh: set[str] = set()
        for attempt in range(1, self._retry.attempts + 1):
            uow = UnitOfWork(self, ctx, refresh, within)
            try:
                outcome = await use_case.decide(uow, command)
            except DomainError as refused:
                if key is None:
                    raise
                earlier = await self.store.recorded(command_type, key, within=within)
                if earlier is None:
                    raise
                return self._answer(use_case, earlier, fingerprint, refused)
            try:
                unit = await uow._unit()
            except DomainError as refused:  # a sensitive value for an erased subject
                if key is None:
                    raise
                earlier = await self.store.recorded(command_type, key, within=within)
                if earlier is None:
                    raise
                return self._answer(use_case, earlier, fingerprint, refused)
            if key is not None:
                unit.record = CommandRecord(
                    command_type=command_type,
                    command_key=key,
                    fingerprint=fingerprint,
                    outcome=outcome.model_dump(mode="json"),
                    changed=unit.writes_events,
                )
            if not unit.appends and not unit.rows and unit.record is None:
                return Ran(outcome, retry=False, changed=False)
            stale = self._known_stale(uow)
            if stale:
                verdict, streams = Verdict.CONFLICT, stale
            else:
                committed = await self.store.commit(unit, within=within)
                verdict, streams = committed.verdict, committed.stale or touched(unit)
            if verdict is Verdict.COMMITTED:
                if within is None:
                    uow._committed(self._cache)
                else:
                    # The caller's transaction may still roll back: keep nothing it wrote.
                    for stream_id in touched(unit):
                        self._cache.forget(stream_id)
                return Ran(outcome, retry=False, changed=unit.writes_events)
            if verdict is Verdict.DUPLICATE:
                earlier = await self.store.recorded(command_type, key or "", within=within)
                if earlier is not None:
                    if earlier.fingerprint != fingerprint:
                        await self._refuse_reuse(use_case, command, ctx, uow, earlier, within)
                    return self._answer(use_case, earlier, fingerprint, None)
                streams = touched(unit)  # recorded and gone? decide again
            versions = uow._versions()
            for stream_id in streams:
                self._cache.mark_stale(stream_id, versions.get(stream_id, 0))
                refresh.add(stream_id)
            if attempt < self._retry.attempts:
                await asyncio.sleep(self._retry.backoff(attempt))
        log.warning("%s %s: still conflicting after %d attempts", command_type, key, attempt)
        first = next(iter(refresh), command_type)
        raise ConcurrencyError(first, 0, None)

    def _known_stale(self, uow: UnitOfWork) -> tuple[str, ...]:
        """Streams this process has since committed past the version the unit read: certain
        conflicts, found without asking the database."""
        stale = []
        for stream_id, version in uow._versions().items():
            entry = self._cache.get(stream_id)
            if entry is not None and not entry.stale and entry.version > version:
                stale.append(stream_id)
        return tuple(stale)

    def _answer(
        self,
        use_case: UseCase[Any, R],
        earlier: CommandRecord,
        fingerprint: str,
        refused: DomainError | None,
    ) -> Ran[R]:
        if earlier.fingerprint != fingerprint:
            if refused is not None:
                # Another command under this identity, which the record as it stands refuses
                # anyway: the domain's words say why (a referral cancelled already).
                raise refused
            raise CommandIdMustNotBeReused(earlier.command_type, earlier.command_key)
        outcome = use_case.outcome.model_validate(earlier.outcome)
        return Ran(outcome, retry=True, changed=earlier.changed)

    async def _refuse_reuse(
        self,
        use_case: UseCase[C, R],
        command: C,
        ctx: CommandContext,
        uow: UnitOfWork,
        earlier: CommandRecord,
        within: AsyncConnection | None,
    ) -> None:
        """An identity taken by other content, found at commit (the decision took a stream to
        be new): decided once more on what the streams hold, so that the domain's own refusal
        is the answer when it has one."""
        refresh = set(uow._versions())
        for stream_id in refresh:
            self._cache.mark_stale(stream_id, uow._versions()[stream_id])
        await use_case.decide(UnitOfWork(self, ctx, refresh, within), command)
        raise CommandIdMustNotBeReused(earlier.command_type, earlier.command_key)

    async def _load(
        self,
        aggregate: Aggregate[S],
        stream_id: str,
        *,
        assume_new: bool,
        within: AsyncConnection | None = None,
    ) -> tuple[S, int]:
        """A stream's state: from the cache where it is current, else read on from the cache's
        version. `within` a caller's transaction the read sees what that transaction appended
        (a batch's earlier reactions), and the state is not cached, since the transaction may
        still roll back; the streams it appended to were dropped from the cache on commit."""
        entry = self._cache.get(stream_id)
        if entry is not None and not entry.stale:
            return entry.state, entry.version
        if entry is None and assume_new:
            return aggregate.initial, 0
        base, after = (entry.state, entry.version) if entry is not None else (aggregate.initial, 0)
        recorded = await self.store.read(stream_id, after_version=after, within=within)
        types, sealing = aggregate.types, self.sealing
        events = []
        for e in recorded:
            event_class = types.event_class(e.type)
            events.append(event_class.from_data(await sealing.opened_data(event_class, e.data)))
        state = aggregate.fold(events, base)
        version = recorded[-1].version if recorded else after
        if within is None:
            self._cache.put(stream_id, state, version)
        return state, version

    async def state(self, aggregate: Aggregate[S], id: str) -> tuple[S, int]:
        """A stream's state as committed (for queries), through the same cache."""
        stream_id = aggregate.stream_id(id)
        entry = self._cache.get(stream_id)
        if entry is not None:
            # A query reads what it can see now: catch up on anything another process wrote.
            self._cache.mark_stale(stream_id, entry.version)
        return await self._load(aggregate, stream_id, assume_new=False)
