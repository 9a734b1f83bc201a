"""One database per service: the engine, transactions, and versioned schema migrations.

SQLite is the embedded default, PostgreSQL is production. On SQLite every write transaction
starts with BEGIN IMMEDIATE: a deferred transaction that reads and then writes can fail at once
with "database is locked" when another writer got in between, whatever the busy timeout.

What a database holds is behavioral-health data: a SQLite file (and its -wal and -shm, which
SQLite creates with the file's own mode) is readable by its owner only, in a folder of its own
it creates as such; and no error of the engines carries the values of a statement
(`hide_parameters`), so nothing a person typed reaches a log line or a dead letter's reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TypeDecorator,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

# The modes of what a service stores: its folder and its files, its owner's only.
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# An execution option: a transaction that only reads (on SQLite it takes no write lock).
READ_ONLY = "continuum_read_only"
_READ_ONLY = READ_ONLY


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned schema change of one component (infra, or a service's read model)."""

    component: str
    version: int
    description: str
    apply: Callable[[Connection], None]


_migrations_metadata = MetaData()
schema_migrations = Table(
    "schema_migrations",
    _migrations_metadata,
    Column("component", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", String(300), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("component", "version"),
)


def normalize_url(url: str) -> str:
    """Accepts the URLs operators write (postgresql://, sqlite:///) and picks the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


class Database:
    """A service's database: transactions and migrations. Created by the composition root only."""

    def __init__(
        self,
        engine: AsyncEngine,
        migrations: Sequence[Migration] = (),
        *,
        schema: str | None = None,
        infra_tables: bool = True,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self._migrations = list(migrations)
        # A service's database has the event store, outbox, inbox and commands; a database
        # that is not a service's (the keyring) has only its own migrations' tables.
        self._infra_tables = infra_tables
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._blocking: Engine | None = None
        if self.is_sqlite:
            _take_over_sqlite_transactions(engine.sync_engine)

    @property
    def blocking_engine(self) -> Engine:
        """The same database through the blocking drivers (sqlite3, psycopg), for work that runs
        a whole transaction in a worker thread: one hop off the event loop per transaction
        rather than one per statement. Created on first use; `dispose` closes it."""
        if self._blocking is None:
            url = self.engine.url
            if self.is_sqlite:
                url = url.set(drivername="sqlite+pysqlite")
                # Its connections are used by the worker threads in turn, one at a time.
                args: dict[str, Any] = {"timeout": 30, "check_same_thread": False}
            else:
                args = {} if self.schema is None else {"options": f"-csearch_path={self.schema}"}
            self._blocking = create_engine(
                url, connect_args=args, pool_size=8, max_overflow=8, hide_parameters=True
            )
            if self.is_sqlite:
                _take_over_sqlite_transactions(self._blocking)
        return self._blocking

    @classmethod
    def from_url(
        cls,
        url: str,
        migrations: Sequence[Migration] = (),
        *,
        schema: str | None = None,
        infra_tables: bool = True,
    ) -> Database:
        """schema (PostgreSQL only) puts every table in that schema, created on migrate;
        without `infra_tables`, only `migrations` are applied (a database no service owns)."""
        url = normalize_url(url)
        # A statement's values never appear in an error's message (nor in what logs it).
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if url.startswith("sqlite"):
            # The busy timeout makes concurrent writers queue rather than fail.
            kwargs["connect_args"] = {"timeout": 30}
            database = make_url(url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                private_sqlite_file(Path(database))
        elif schema is not None:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        return cls(
            create_async_engine(url, **kwargs),
            migrations,
            schema=schema,
            infra_tables=infra_tables,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction: committed on exit, rolled back on an exception."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction; on SQLite it takes no write lock. With `snapshot`, all its
        statements see the same committed state, though writers commit in between (REPEATABLE
        READ on PostgreSQL; a SQLite read transaction in WAL mode always does): what a view
        read in several statements needs, so as never to show half of a transaction."""
        options: dict[str, Any] = {_READ_ONLY: True}
        if snapshot and not self.is_sqlite:
            options["isolation_level"] = "REPEATABLE READ"
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**options)
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Applies every migration not yet applied, in (component, version) order."""
        from infra.schema import INFRA_MIGRATIONS  # the tables every service has

        if self.schema is not None and not self.is_sqlite:
            async with self.engine.connect() as conn, conn.begin():
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        migrations = [*(INFRA_MIGRATIONS if self._infra_tables else ()), *self._migrations]
        async with self.transaction() as conn:
            await conn.run_sync(lambda sync: _migrate(sync, migrations))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._blocking is not None:
            self._blocking.dispose()
            self._blocking = None


def private_folder(folder: Path) -> Path:
    """`folder`, created if missing, readable and searchable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    folder.chmod(PRIVATE_FOLDER_MODE)
    return folder


def private_file(path: Path) -> Path:
    """`path`, created empty if missing, readable and writable by its owner only: created so
    (never readable by others for an instant), and tightened if it was made before."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def private_sqlite_file(path: Path) -> None:
    """A SQLite database file its owner only can read, before SQLite opens it: SQLite gives
    the -wal and -shm it creates the database file's mode. The folder is made private only
    when this creates it (a database may live in a folder shared with other things); -wal and
    -shm left by an earlier run are tightened too."""
    if not path.parent.exists():
        private_folder(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.chmod(PRIVATE_FILE_MODE)


def _migrate(conn: Connection, migrations: Sequence[Migration]) -> None:
    _migrations_metadata.create_all(conn, checkfirst=True)
    if conn.dialect.name == "postgresql":
        # Several replicas may start at once: one migrates, the others wait and then see it done.
        conn.execute(text("LOCK TABLE schema_migrations IN EXCLUSIVE MODE"))
    applied = {
        (row.component, row.version)
        for row in conn.execute(select(schema_migrations.c.component, schema_migrations.c.version))
    }
    for m in sorted(migrations, key=lambda m: (m.component, m.version)):
        if (m.component, m.version) in applied:
            continue
        log.info("applying migration %s v%d: %s", m.component, m.version, m.description)
        m.apply(conn)
        conn.execute(
            schema_migrations.insert().values(
                component=m.component,
                version=m.version,
                description=m.description,
                applied_at=dt.datetime.now(dt.UTC),
            )
        )


def _take_over_sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the driver, decides when a transaction begins (see the module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
