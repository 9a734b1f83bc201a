"""Units of work committed to SQLite or PostgreSQL, concurrent ones together (group commit).

Why together: a command's cost is mostly the transaction around it (BEGIN, a few inserts,
COMMIT and its fsync), not its rows. Units that arrive while a batch is being committed wait for
the next batch; a batch is one transaction with one multi-row insert per table, so a burst of 64
commands pays for a few statements and one fsync. At one command in flight a batch holds one
unit and nothing waits.

Isolation: a unit that conflicts fails alone. The batch is first tried whole; the few clashes
known before writing (two units of the batch on the same stream version or command id, a read
check that failed, a command id already recorded) are set aside without failing it. If an
insert still fails (another process moved a stream), the batch is rolled back and written again
with a savepoint per unit, so the conflict fails only its own unit.

Read checks under PostgreSQL READ COMMITTED: a unit that read a stream without writing to it (a
supervisor's standing, read by each session logged under them) checks at commit that nobody
appended since. A check and a concurrent append could pass each other unseen, both uncommitted,
so each takes a transaction-scoped advisory lock on the stream first: shared for a check,
exclusive for an append to a stream others read. A check then either waits for the appender to
commit and sees its events, or holds the appender back until the check's transaction commits.
Every lock of a batch is taken in one statement, in key order, so batches never deadlock. SQLite
runs one write transaction at a time (BEGIN IMMEDIATE) and needs none of this.

The transaction runs in a worker thread on the blocking drivers: one hop off the event loop per
batch rather than one per statement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.commands.model import (
    CommandRecord,
    Committed,
    IndexRow,
    ReadCheck,
    RowsCheck,
    Unit,
    Verdict,
    touched,
)
from infra.db import READ_ONLY, Database
from infra.eventstore.model import RecordedEvent, Translator
from infra.eventstore.sql import event_rows, outbox_rows, recorded_from, recorded_row
from infra.schema import commands, events, outbox


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def lock_key(stream_id: str) -> int:
    """The advisory lock of a stream: a signed 64-bit digest of its id."""
    digest = hashlib.blake2b(stream_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Clash(Exception):
    """A unit's write met a key another transaction holds (rolled back to its savepoint)."""


class SqlUnitStore:
    """UnitStore on a service's database."""

    def __init__(
        self,
        db: Database,
        translate: Translator | None = None,
        *,
        now: Callable[[], dt.datetime] = _utcnow,
        max_batch: int = 256,
    ) -> None:
        self._db = db
        self._translate = translate
        self._now = now
        self._max_batch = max_batch
        self._pending: list[tuple[Unit, asyncio.Future[Committed]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._postgres = not db.is_sqlite
        self._sql = _Statements(db.blocking_engine.dialect)
        # What a violated key raises, from the driver (statements run on its cursor) or wrapped.
        driver = db.blocking_engine.dialect.dbapi
        assert driver is not None
        self._clash: tuple[type[Exception], ...] = (IntegrityError, driver.IntegrityError)
        errors = getattr(driver, "errors", None)
        rollback = getattr(errors, "TransactionRollback", None)
        self._rolled_back: tuple[type[Exception], ...] = () if rollback is None else (rollback,)
        self.batches = 0
        self.units = 0

    # --- reading -----------------------------------------------------------------------------

    async def read(
        self, stream_id: str, *, after_version: int = 0, within: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        if within is not None:
            query = _stream_query(stream_id, after_version)
            return [recorded_row(row) for row in await within.execute(query)]
        return await asyncio.to_thread(self._read, stream_id, after_version)

    def _read(self, stream_id: str, after_version: int) -> list[RecordedEvent]:
        query = _stream_query(stream_id, after_version)
        with self._reading() as conn:
            return [recorded_row(row) for row in conn.execute(query)]

    async def recorded(
        self, command_type: str, command_key: str, *, within: AsyncConnection | None = None
    ) -> CommandRecord | None:
        query = select(commands).where(
            commands.c.command_type == command_type, commands.c.command_key == command_key
        )
        if within is not None:
            row = (await within.execute(query)).first()
        else:
            row = await asyncio.to_thread(self._first, query)
        if row is None:
            return None
        return CommandRecord(
            command_type=row.command_type,
            command_key=row.command_key,
            fingerprint=row.fingerprint,
            outcome=row.outcome,
            changed=row.changed,
        )

    def _first(self, query: Any) -> Any:
        with self._reading() as conn:
            return conn.execute(query).first()

    def _reading(self) -> Any:
        conn = self._db.blocking_engine.connect()
        if self._postgres:
            # One statement needs no transaction around it: no BEGIN and COMMIT round trips.
            return conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn.execution_options(**{READ_ONLY: True})

    # --- committing --------------------------------------------------------------------------

    async def commit(self, unit: Unit, *, within: AsyncConnection | None = None) -> Committed:
        if within is not None:
            return await within.run_sync(lambda conn: self._commit_within(conn, unit))
        done: asyncio.Future[Committed] = asyncio.get_running_loop().create_future()
        self._pending.append((unit, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._drain(), name="group-commit")
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        """Commits batches until nothing waits; a unit arriving meanwhile joins the next."""
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                verdicts = await asyncio.to_thread(self._commit_batch, [u for u, _ in batch])
            except Exception as error:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            self.batches += 1
            self.units += len(batch)
            for (_, done), verdict in zip(batch, verdicts, strict=True):
                if not done.done():
                    done.set_result(verdict)

    def _commit_batch(self, units: Sequence[Unit]) -> list[Committed]:
        verdicts: list[Committed | None] = [None] * len(units)
        versions: set[tuple[str, int]] = set()
        identities: set[tuple[str, str]] = set()
        live: list[int] = []
        for i, unit in enumerate(units):
            mine = {(a.stream_id, a.expected_version) for a in unit.appends if a.events}
            identity = _identity(unit)
            clash = mine & versions
            if clash or (identity is not None and identity in identities):
                # Another unit of this batch writes the same version or command first.
                verdicts[i] = Committed(Verdict.CONFLICT, tuple(s for s, _ in clash))
                continue
            versions |= mine
            if identity is not None:
                identities.add(identity)
            live.append(i)
        batch = [units[i] for i in live]
        if not batch:
            return [v for v in verdicts if v is not None]
        try:
            with self._db.blocking_engine.connect() as conn:
                try:
                    with conn.begin():
                        written = self._write(conn, batch, isolated=False)
                except self._clash:
                    with conn.begin():
                        written = self._write(conn, batch, isolated=True)
        except self._rolled_back:
            # The database gave up on this transaction for another's sake (a deadlock between
            # replicas): nothing of it was written, and every unit is decided again.
            written = [Committed(Verdict.CONFLICT, touched(unit)) for unit in batch]
        for i, verdict in zip(live, written, strict=True):
            verdicts[i] = verdict
        return [v for v in verdicts if v is not None]

    def _commit_within(self, conn: Connection, unit: Unit) -> Committed:
        with conn.begin_nested():
            return self._write(conn, [unit], isolated=True)[0]

    def _write(self, conn: Connection, units: Sequence[Unit], *, isolated: bool) -> list[Committed]:
        """Writes the units in the open transaction; each verdict in order. Not isolated: one
        clash raises IntegrityError for the caller to write them again, isolated."""
        verdicts: list[Committed | None] = [None] * len(units)
        if self._postgres:
            self._lock(conn, units)
        moved = self._moved(conn, [check for unit in units for check in unit.checks])
        now = self._now()
        live: list[int] = []
        for i, unit in enumerate(units):
            failed = [check.stream_id for check in unit.checks if check.stream_id in moved]
            if failed:
                verdicts[i] = Committed(Verdict.CONFLICT, tuple(failed))
            elif not all(self._rows_hold(conn, check) for check in unit.row_checks):
                verdicts[i] = Committed(Verdict.CONFLICT, touched(unit))
            else:
                live.append(i)
        if not isolated:
            taken = self._record_commands(conn, [units[i] for i in live], now)
            batch = []
            for i in live:
                if _identity(units[i]) in taken:
                    verdicts[i] = Committed(Verdict.DUPLICATE)
                else:
                    batch.append(i)
            self._insert(conn, [units[i] for i in batch], now)
            for i in batch:
                verdicts[i] = Committed(Verdict.COMMITTED)
        else:
            for i in live:
                verdicts[i] = self._write_alone(conn, units[i], now)
        return [v for v in verdicts if v is not None]

    def _write_alone(self, conn: Connection, unit: Unit, now: dt.datetime) -> Committed:
        savepoint = conn.begin_nested()
        try:
            try:
                duplicate = bool(self._record_commands(conn, [unit], now))
            except self._clash:
                # Recorded by another transaction since this one began looking.
                duplicate = True
            if duplicate:
                savepoint.rollback()
                return Committed(Verdict.DUPLICATE)
            self._insert(conn, [unit], now)
        except self._clash:
            savepoint.rollback()
            return Committed(Verdict.CONFLICT, touched(unit))
        savepoint.commit()
        return Committed(Verdict.COMMITTED)

    def _lock(self, conn: Connection, units: Sequence[Unit]) -> None:
        modes: dict[int, bool] = {}
        for unit in units:
            for stream_id in unit.guarded:
                modes[lock_key(stream_id)] = True
            for check in unit.checks:
                key = lock_key(check.stream_id)
                modes[key] = modes.get(key, False)
        if not modes:
            return
        keys = sorted(modes)
        # Evaluated in the order of the array, which is sorted: every batch locks in one order.
        _cursor(conn).execute(
            "SELECT CASE WHEN x THEN pg_advisory_xact_lock(k) "
            "ELSE pg_advisory_xact_lock_shared(k) END "
            "FROM unnest(%s::BIGINT[], %s::BOOLEAN[]) AS t(k, x)",
            (keys, [modes[k] for k in keys]),
        )

    def _rows_hold(self, conn: Connection, check: RowsCheck) -> bool:
        table = check.table
        query = select(*(table.c[c] for c in check.columns)).where(
            *(table.c[k] == v for k, v in check.where.items())
        )
        return {tuple(row) for row in conn.execute(query)} == check.rows

    def _moved(self, conn: Connection, checks: Sequence[ReadCheck]) -> set[str]:
        """The checked streams someone appended to since they were read."""
        if not checks:
            return set()
        # Versions have no gaps: a stream moved past v when its version v + 1 exists.
        wanted = list({(c.stream_id, c.version + 1) for c in checks})
        mark = self._sql.mark
        where = " OR ".join([f"(stream_id = {mark} AND version = {mark})"] * len(wanted))
        cursor = _cursor(conn)
        cursor.execute(
            f"SELECT stream_id FROM events WHERE {where}",
            [value for pair in wanted for value in pair],
        )
        return {row[0] for row in cursor.fetchall()}

    def _record_commands(
        self, conn: Connection, units: Sequence[Unit], now: dt.datetime
    ) -> set[tuple[str, str]]:
        """Inserts the units' command records; returns the identities already recorded (those
        units record nothing). Nothing is looked up first: the insert skips a recorded identity
        and says which rows it inserted."""
        records = [u.record for u in units if u.record is not None]
        if not records:
            return set()
        rows = [
            {
                "command_type": r.command_type,
                "command_key": r.command_key,
                "fingerprint": r.fingerprint,
                "outcome": r.outcome,
                "changed": r.changed,
                "recorded_at": now,
            }
            for r in sorted(records, key=lambda r: (r.command_type, r.command_key))
        ]
        inserted = self._sql.insert_new(conn, commands, rows)
        return {(r.command_type, r.command_key) for r in records} - inserted

    def _insert(self, conn: Connection, units: Sequence[Unit], now: dt.datetime) -> None:
        rows: list[dict[str, Any]] = []
        for unit in units:
            rows.extend(event_rows([a for a in unit.appends if a.events], unit.metadata, now))
        # In one global order of keys, so that two transactions writing some of the same keys
        # wait for each other in turn rather than each for the other (replicas would deadlock).
        rows.sort(key=lambda row: (row["stream_id"], row["version"]))
        if rows:
            self._sql.insert(conn, events, rows)
            if self._translate is not None:
                # The translator reads what the event says, never its position in the log.
                recorded = [recorded_from(row, 0) for row in rows]
                self._sql.insert(conn, outbox, outbox_rows(recorded, self._translate, now))
        by_kind: defaultdict[tuple[str, str], list[IndexRow]] = defaultdict(list)
        for unit in units:
            for row in unit.rows:
                by_kind[(row.table.name, row.mode)].append(row)
        for (_, mode), index_rows in by_kind.items():
            table = index_rows[0].table
            if mode == "insert":
                self._sql.insert(conn, table, [dict(row.values) for row in index_rows])
            elif mode == "update":
                self._sql.update(conn, table, [dict(row.values) for row in index_rows])
            else:
                # The last row of the batch for a key wins, as if written one after another.
                latest = {row.key(): dict(row.values) for row in index_rows}
                ordered = [latest[key] for key in sorted(latest, key=repr)]
                self._sql.insert(conn, table, ordered, upsert=True)


class _Statements:
    """Statements written once per table and column set, run on the driver's cursor: a batch
    pays for its rows, not for building and compiling SQL (what a query builder costs per
    statement). Values go through the column types' own conversions."""

    def __init__(self, dialect: Any) -> None:
        self._dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        self._sql: dict[tuple[Any, ...], str] = {}
        self._processors: dict[tuple[str, tuple[str, ...]], list[Any]] = {}

    def insert(
        self,
        conn: Connection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        *,
        upsert: bool = False,
    ) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        key = ("insert", table.name, columns, upsert)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._insert_sql(table, columns, upsert)
        _cursor(conn).executemany(sql, self._params(table, columns, rows))

    def insert_new(
        self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> set[tuple[Any, ...]]:
        """Inserts the rows whose primary key is not recorded yet (the others are left out, not
        an error); returns the keys of those it inserted."""
        if not rows:
            return set()
        columns = tuple(rows[0])
        keys = [c.name for c in table.primary_key.columns]
        params = self._params(table, columns, rows)
        cursor = _cursor(conn)
        if not self.postgres:
            # In-process: a statement per row is cheap, and its row count says if it inserted.
            sql = (
                self._insert_sql(table, columns, False)
                + f" ON CONFLICT ({', '.join(keys)}) DO NOTHING"
            )
            inserted = set()
            for row, values in zip(rows, params, strict=True):
                cursor.execute(sql, values)
                if cursor.rowcount:
                    inserted.add(tuple(row[k] for k in keys))
            return inserted
        # One round trip for the whole batch, returning the keys it inserted.
        one = "(" + ", ".join(self._bind(table, c) for c in columns) + ")"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
            + ", ".join([one] * len(rows))
            + f" ON CONFLICT ({', '.join(keys)}) DO NOTHING RETURNING {', '.join(keys)}"
        )
        cursor.execute(sql, [value for values in params for value in values])
        return {tuple(row) for row in cursor.fetchall()}

    def update(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        keys = [c.name for c in table.primary_key.columns]
        values = [c for c in columns if c not in keys]
        key = ("update", table.name, columns)
        sql = self._sql.get(key)
        if sql is None:
            assignments = ", ".join(f"{c} = {self._bind(table, c)}" for c in values)
            where = " AND ".join(f"{c} = {self._bind(table, c)}" for c in keys)
            sql = self._sql[key] = f"UPDATE {table.name} SET {assignments} WHERE {where}"
        ordered = (*values, *keys)
        _cursor(conn).executemany(sql, self._params(table, ordered, rows))

    def _insert_sql(self, table: Table, columns: tuple[str, ...], upsert: bool) -> str:
        binds = ", ".join(self._bind(table, c) for c in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({binds})"
        if upsert:
            keys = [c.name for c in table.primary_key.columns]
            changes = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
            sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {changes}"
        return sql

    def _bind(self, table: Table, column: str) -> str:
        if self.postgres and isinstance(table.c[column].type, JSON):
            return "%s::JSON"
        return self.mark

    def _params(
        self, table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]]
    ) -> list[tuple[Any, ...]]:
        key = (table.name, columns)
        processors = self._processors.get(key)
        if processors is None:
            processors = self._processors[key] = [
                table.c[c].type._cached_bind_processor(self._dialect) for c in columns
            ]
        pairs = list(zip(columns, processors, strict=True))
        return [tuple(row[c] if p is None else p(row[c]) for c, p in pairs) for row in rows]


def _cursor(conn: Connection) -> Any:
    return conn.connection.cursor()


def _identity(unit: Unit) -> tuple[str, str] | None:
    record = unit.record
    return None if record is None else (record.command_type, record.command_key)


def _stream_query(stream_id: str, after_version: int) -> Any:
    return (
        select(events)
        .where(events.c.stream_id == stream_id, events.c.version > after_version)
        .order_by(events.c.version)
    )
