"""The command runner's contract: every unit store (in memory, SQLite, PostgreSQL) behaves alike.

A small tally domain stands in for a service's: entries are added to a tally (one stream each),
each at most once, within a limit kept on another stream that adding only reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
    text,
)

from conftest import STORAGE_BACKENDS, database_factory
from infra.application import CommandContext, to_new_events
from infra.commands import (
    Aggregate,
    CommandIdMustNotBeReused,
    CommandRunner,
    Done,
    IndexRow,
    InMemoryUnitStore,
    Ran,
    SqlUnitStore,
    UnitOfWork,
    UnitStore,
    UseCase,
)
from infra.commands.sql import lock_key
from infra.db import Database, Migration
from infra.ddd import AlreadyRecorded, Command, DomainEvent, EventTypes, Id, RuleViolated
from infra.eventstore import (
    ConcurrencyError,
    EventMetadata,
    OutboxMessage,
    RecordedEvent,
    StreamAppend,
)
from infra.eventstore.sql import event_rows
from infra.schema import commands, events, outbox
from infra.security.crypto import memory_keyring

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)
CTX = CommandContext(now=NOW, metadata=EventMetadata(correlation_id="corr-1", actor="clerk-1"))


class Added(DomainEvent):
    type: ClassVar[str] = "Added"
    entry_id: str
    n: int


class LimitSet(DomainEvent):
    type: ClassVar[str] = "LimitSet"
    limit: int


class Tally(BaseModel):
    model_config = ConfigDict(frozen=True)
    total: int = 0
    entries: tuple[str, ...] = ()
    limit: int | None = None


def fold(events: Iterable[DomainEvent], state: Tally) -> Tally:
    for event in events:
        match event:
            case Added():
                state = state.model_copy(
                    update={
                        "total": state.total + event.n,
                        "entries": (*state.entries, event.entry_id),
                    }
                )
            case LimitSet():
                state = state.model_copy(update={"limit": event.limit})
    return state


TYPES = EventTypes([Added, LimitSet])
TALLY = Aggregate("tally", Tally(), fold, TYPES)
LIMIT = Aggregate("limit", Tally(), fold, TYPES, read_by_others=True)

index = MetaData()
# Entry names are unique across tallies: a clash is decided again (and then refused).
entries = Table(
    "test_entries",
    index,
    Column("tally_id", String(64), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    UniqueConstraint("name", name="uq_test_entries_name"),
)
MIGRATIONS = (Migration("test", 1, "entries", lambda conn: index.create_all(conn)),)


class EntryMustBeNew(AlreadyRecorded):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"entry {entry_id} is already on the tally")


class TotalMustStayWithinLimit(RuleViolated):
    def __init__(self, total: int, limit: int) -> None:
        super().__init__(f"a total of {total} exceeds the limit of {limit}")


class NameMustBeFree(RuleViolated):
    def __init__(self, name: str) -> None:
        super().__init__(f"the name {name} is taken")


class Add(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("tally_id", "entry_id")
    tally_id: Id
    entry_id: Id
    n: int
    limit_id: Id | None = None
    name: str | None = None


class SetLimit(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("limit_id", "command_id")
    limit_id: Id
    limit: int
    command_id: Id | None = None


class Total(BaseModel):
    model_config = ConfigDict(frozen=True)
    total: int


async def _add(uow: UnitOfWork, command: Add) -> Total:
    tally = await uow.get(TALLY, command.tally_id)
    if command.entry_id in tally.entries:
        raise EntryMustBeNew(command.entry_id)
    after = uow.record(TALLY, command.tally_id, [Added(entry_id=command.entry_id, n=command.n)])
    if command.limit_id is not None:
        limit = await uow.get(LIMIT, command.limit_id)
        uow.expect(LIMIT, command.limit_id)
        if limit.limit is not None and after.total > limit.limit:
            raise TotalMustStayWithinLimit(after.total, limit.limit)
    if command.name is not None:
        row = {"tally_id": command.tally_id, "entry_id": command.entry_id}
        uow.write(IndexRow(entries, {**row, "name": command.name, "n": command.n}, "insert"))
    return Total(total=after.total)


async def _set_limit(uow: UnitOfWork, command: SetLimit) -> Done:
    await uow.get(LIMIT, command.limit_id)
    uow.record(LIMIT, command.limit_id, [LimitSet(limit=command.limit)])
    return Done()


ADD = UseCase(Total, _add)
SET_LIMIT = UseCase(Done, _set_limit)


def translate(event: RecordedEvent) -> OutboxMessage | None:
    if event.type != "Added":
        return None
    return OutboxMessage(
        event_id=event.event_id,
        topic="test.tallies",
        key=event.stream_id,
        ce_type="continuum.test.Added.v1",
        source="/test",
        subject=event.stream_id,
        occurred_at=event.occurred_at,
        data=event.data,
        metadata=event.metadata,
    )


class Backend:
    """A unit store on one backend, and how to look inside it."""

    def __init__(self, store: UnitStore, db: Database | None) -> None:
        self.store = store
        self.db = db
        # The keyring every process shares.
        self.keys = memory_keyring()

    def runner(self) -> CommandRunner:
        """A runner of its own: another process, as far as caches go."""
        return CommandRunner(self.store, self.keys)

    async def published(self) -> int:
        if isinstance(self.store, InMemoryUnitStore):
            return len(self.store.events.published)
        assert self.db is not None
        async with self.db.read() as conn:
            return len(list(await conn.execute(select(outbox.c.id))))

    async def recorded_commands(self) -> int:
        if isinstance(self.store, InMemoryUnitStore):
            return len(self.store._commands)
        assert self.db is not None
        async with self.db.read() as conn:
            return len(list(await conn.execute(select(commands.c.command_key))))

    async def names(self) -> list[str]:
        if isinstance(self.store, InMemoryUnitStore):
            return sorted(row["name"] for row in self.store.rows("test_entries"))
        assert self.db is not None
        async with self.db.read() as conn:
            return sorted(row.name for row in await conn.execute(select(entries.c.name)))


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield Backend(InMemoryUnitStore(translate, now=lambda: NOW), None)
        return
    async with database_factory(request.param, request, tmp_path) as make:
        db = await make(MIGRATIONS)
        yield Backend(SqlUnitStore(db, translate, now=lambda: NOW), db)


async def stream(backend: Backend, stream_id: str) -> list[RecordedEvent]:
    return await backend.store.read(stream_id)


# Recording


async def test_a_command_records_its_events_and_answers_with_its_outcome(backend: Backend) -> None:
    ran = await backend.runner().run(ADD, Add(tally_id="t-1", entry_id="e-1", n=3), CTX)

    assert ran.outcome == Total(total=3)
    assert (ran.retry, ran.changed, ran.already_recorded) == (False, True, False)
    (added,) = await stream(backend, "tally-t-1")
    assert (added.type, added.version, added.data) == ("Added", 1, {"entry_id": "e-1", "n": 3})
    assert added.metadata == CTX.metadata
    assert await backend.published() == 1
    assert await backend.recorded_commands() == 1


async def test_commands_on_one_stream_continue_it(backend: Backend) -> None:
    runner = backend.runner()
    for i in range(1, 4):
        await runner.run(ADD, Add(tally_id="t-1", entry_id=f"e-{i}", n=i), CTX)
    assert [e.version for e in await stream(backend, "tally-t-1")] == [1, 2, 3]


async def test_a_refused_command_records_nothing(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5, command_id="c-1"), CTX)
    command = Add(tally_id="t-1", entry_id="e-1", n=9, limit_id="l-1")

    with pytest.raises(TotalMustStayWithinLimit):
        await runner.run(ADD, command, CTX)

    assert await stream(backend, "tally-t-1") == []
    assert await backend.recorded_commands() == 1


# Retries


async def test_a_retry_is_answered_with_the_first_outcome_and_records_nothing(
    backend: Backend,
) -> None:
    runner = backend.runner()
    command = Add(tally_id="t-1", entry_id="e-1", n=3)
    await runner.run(ADD, command, CTX)

    again = await runner.run(ADD, command, CTX)

    assert (again.outcome, again.retry, again.already_recorded) == (Total(total=3), True, True)
    assert len(await stream(backend, "tally-t-1")) == 1


async def test_a_retry_after_later_commands_is_answered_with_the_first_outcome(
    backend: Backend,
) -> None:
    runner = backend.runner()
    first = SetLimit(limit_id="l-1", limit=5, command_id="c-1")
    await runner.run(SET_LIMIT, first, CTX)
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=8, command_id="c-2"), CTX)

    again = await runner.run(SET_LIMIT, first, CTX)

    assert again.retry
    assert [e.data["limit"] for e in await stream(backend, "limit-l-1")] == [5, 8]


async def test_a_retry_reaching_another_process_is_recognised_by_its_record(
    backend: Backend,
) -> None:
    command = Add(tally_id="t-1", entry_id="e-1", n=3)
    await backend.runner().run(ADD, command, CTX)

    again = await backend.runner().run(ADD, command, CTX)

    assert (again.outcome, again.retry) == (Total(total=3), True)


async def test_the_same_id_with_other_content_is_refused_naming_it(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5, command_id="c-1"), CTX)

    with pytest.raises(CommandIdMustNotBeReused) as refused:
        await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=6, command_id="c-1"), CTX)

    assert "SetLimit l-1/c-1 is already recorded with other content" in refused.value.message
    assert len(await stream(backend, "limit-l-1")) == 1


async def test_a_clash_the_domain_names_keeps_the_domains_words(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=3), CTX)

    with pytest.raises(EntryMustBeNew):
        await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=4), CTX)


async def test_a_new_command_like_an_earlier_one_is_recorded_again(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5, command_id="c-1"), CTX)

    again = await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5, command_id="c-2"), CTX)

    assert not again.retry
    assert len(await stream(backend, "limit-l-1")) == 2


async def test_a_command_without_an_id_is_known_by_its_content(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5), CTX)

    again = await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5), CTX)

    assert again.retry
    assert len(await stream(backend, "limit-l-1")) == 1


# Conflicts


async def test_concurrent_commands_on_one_stream_all_succeed(backend: Backend) -> None:
    runner = backend.runner()
    commands_ = [Add(tally_id="t-1", entry_id=f"e-{i}", n=1) for i in range(20)]

    ran = await asyncio.gather(*(runner.run(ADD, command, CTX) for command in commands_))

    assert sorted(r.outcome.total for r in ran) == list(range(1, 21))
    assert [e.version for e in await stream(backend, "tally-t-1")] == list(range(1, 21))


async def test_a_stream_another_process_moved_is_read_again_and_decided_on(
    backend: Backend,
) -> None:
    here, elsewhere = backend.runner(), backend.runner()
    await here.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX)
    await elsewhere.run(ADD, Add(tally_id="t-1", entry_id="e-2", n=10), CTX)

    ran = await here.run(ADD, Add(tally_id="t-1", entry_id="e-3", n=100), CTX)

    assert ran.outcome == Total(total=111)
    assert [e.version for e in await stream(backend, "tally-t-1")] == [1, 2, 3]


async def test_a_stream_taken_to_be_new_that_is_not_is_decided_on_what_it_holds(
    backend: Backend,
) -> None:
    await backend.runner().run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX)

    async def add_to_new(uow: UnitOfWork, command: Add) -> Total:
        tally = await uow.get(TALLY, command.tally_id, new=True)
        after = uow.record(TALLY, command.tally_id, [Added(entry_id=command.entry_id, n=1)])
        assert after.total == tally.total + 1
        return Total(total=after.total)

    ran = await backend.runner().run(
        UseCase(Total, add_to_new), Add(tally_id="t-1", entry_id="e-2", n=1), CTX
    )

    assert ran.outcome == Total(total=2)


async def test_a_dependency_that_moved_meanwhile_is_decided_on_again(backend: Backend) -> None:
    here, elsewhere = backend.runner(), backend.runner()
    await here.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=10, command_id="c-1"), CTX)
    await here.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=4, limit_id="l-1"), CTX)
    # Another process lowers the limit: this process still holds the old one.
    await elsewhere.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=5, command_id="c-2"), CTX)

    with pytest.raises(TotalMustStayWithinLimit):
        await here.run(ADD, Add(tally_id="t-1", entry_id="e-2", n=4, limit_id="l-1"), CTX)

    assert len(await stream(backend, "tally-t-1")) == 1


async def test_reading_a_dependency_never_conflicts_with_other_readers(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=1000, command_id="c-1"), CTX)
    adds = [Add(tally_id=f"t-{i}", entry_id="e", n=1, limit_id="l-1") for i in range(16)]

    ran = await asyncio.gather(*(runner.run(ADD, a, CTX) for a in adds))

    assert all(not r.retry for r in ran)
    assert len(await stream(backend, "limit-l-1")) == 1


# Index rows


async def test_index_rows_are_written_with_the_events(backend: Backend) -> None:
    await backend.runner().run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1, name="a"), CTX)
    assert await backend.names() == ["a"]


async def test_an_index_row_that_clashes_fails_the_command_alone(backend: Backend) -> None:
    runner = backend.runner()
    await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1, name="a"), CTX)

    async def add_named(uow: UnitOfWork, command: Add) -> Total:
        # The domain would refuse a taken name; a clash found at commit decides again.
        if command.name in await backend.names():
            raise NameMustBeFree(command.name or "")
        return await _add(uow, command)

    clashing = runner.run(ADD, Add(tally_id="t-2", entry_id="e", n=1, name="a"), CTX)
    fine = runner.run(ADD, Add(tally_id="t-3", entry_id="e", n=1, name="b"), CTX)
    clashed, committed = await asyncio.gather(clashing, fine, return_exceptions=True)

    # Without a rule to refuse it, the clash recurs until the runner gives up on it.
    assert isinstance(clashed, ConcurrencyError)
    assert isinstance(committed, Ran) and committed.outcome == Total(total=1)
    assert await backend.names() == ["a", "b"]
    assert await stream(backend, "tally-t-2") == []
    with pytest.raises(NameMustBeFree):
        await runner.run(
            UseCase(Total, add_named), Add(tally_id="t-2", entry_id="e", n=1, name="a"), CTX
        )


# In a caller's transaction (a consumed event's reaction)


@pytest.fixture(params=STORAGE_BACKENDS)
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with database_factory(request.param, request, tmp_path) as make:
        db = await make(MIGRATIONS)
        yield Backend(SqlUnitStore(db, translate, now=lambda: NOW), db)


async def test_a_reaction_commits_with_the_callers_transaction(sql: Backend) -> None:
    assert sql.db is not None
    runner = sql.runner()
    async with sql.db.transaction() as conn:
        await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX, within=conn)
    assert len(await stream(sql, "tally-t-1")) == 1


async def test_a_reaction_rolled_back_with_its_caller_leaves_nothing_behind(sql: Backend) -> None:
    assert sql.db is not None
    runner = sql.runner()
    with pytest.raises(RuntimeError):
        async with sql.db.transaction() as conn:
            await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX, within=conn)
            raise RuntimeError("the consumer failed after the reaction")

    assert await stream(sql, "tally-t-1") == []
    # Nothing of the rolled-back attempt is remembered: the same command records anew.
    ran = await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX)
    assert (ran.retry, ran.outcome) == (False, Total(total=1))


async def test_reactions_in_one_transaction_see_what_the_earlier_ones_staged(
    sql: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """A consumer applies a batch in one transaction: the second event of a stream is decided
    on the first one's append, at once, without conflicting with its own transaction."""
    assert sql.db is not None
    runner = sql.runner()
    await runner.run(ADD, Add(tally_id="t-1", entry_id="e-0", n=1), CTX)

    async with sql.db.transaction() as conn:
        first = await runner.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX, within=conn)
        second = await runner.run(ADD, Add(tally_id="t-1", entry_id="e-2", n=1), CTX, within=conn)

    assert (first.outcome, second.outcome) == (Total(total=2), Total(total=3))
    assert [e.version for e in await stream(sql, "tally-t-1")] == [1, 2, 3]
    assert "conflicting" not in caplog.text
    # What the committed transaction wrote is what the next command decides on.
    after = await runner.run(ADD, Add(tally_id="t-1", entry_id="e-3", n=1), CTX)
    assert after.outcome == Total(total=4)


async def test_a_conflict_in_a_reaction_leaves_the_callers_transaction_usable(
    sql: Backend,
) -> None:
    assert sql.db is not None
    here, elsewhere = sql.runner(), sql.runner()
    await here.run(ADD, Add(tally_id="t-1", entry_id="e-1", n=1), CTX)
    await elsewhere.run(ADD, Add(tally_id="t-1", entry_id="e-2", n=1), CTX)

    async with sql.db.transaction() as conn:
        ran = await here.run(ADD, Add(tally_id="t-1", entry_id="e-3", n=1), CTX, within=conn)

    assert ran.outcome == Total(total=3)
    assert [e.version for e in await stream(sql, "tally-t-1")] == [1, 2, 3]


# A read check racing an append (PostgreSQL READ COMMITTED: advisory locks; SQLite: one writer)


async def test_a_check_waits_for_an_uncommitted_append_and_sees_it(sql: Backend) -> None:
    db = sql.db
    assert db is not None
    runner = sql.runner()
    await runner.run(SET_LIMIT, SetLimit(limit_id="l-1", limit=10, command_id="c-1"), CTX)
    await runner.run(ADD, Add(tally_id="t-0", entry_id="e", n=1, limit_id="l-1"), CTX)
    loop = asyncio.get_running_loop()
    appending = asyncio.Event()

    def lower_the_limit_slowly() -> None:
        """Another process's append to the limit, held uncommitted for a while: as the store
        would write it (the exclusive lock first, on PostgreSQL)."""
        with db.blocking_engine.connect() as conn, conn.begin():
            if not db.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("limit-l-1")})
            lowered = StreamAppend("limit-l-1", 1, to_new_events([LimitSet(limit=1)], NOW))
            conn.execute(insert(events), event_rows([lowered], CTX.metadata, NOW))
            loop.call_soon_threadsafe(appending.set)
            time.sleep(0.5)  # the check below runs meanwhile, and must not pass it unseen

    holder = asyncio.create_task(asyncio.to_thread(lower_the_limit_slowly))
    await appending.wait()

    with pytest.raises(TotalMustStayWithinLimit):
        await runner.run(ADD, Add(tally_id="t-1", entry_id="e", n=2, limit_id="l-1"), CTX)

    await holder
    assert await stream(sql, "tally-t-1") == []
