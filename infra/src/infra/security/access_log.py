"""The access log (HIPAA §164.312(b)): who read which subject's record, as what, through which
RPC, when and from where, recorded by the service that served it in its own database.

Entries are append-only: the port has no way to change or remove one, and on PostgreSQL a
trigger refuses UPDATE and DELETE on the table. One row per subject of an access (the rows of
one access share its `access_id`), so a subject's accesses are one indexed lookup.

Recording is group-committed: every read awaits the commit of the batch its entry is in, so
the entry is durable before the reply leaves, while concurrent reads share one transaction
rather than adding one each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    func,
    select,
    text,
    true,
)

from infra.db import Database, Migration, UtcDateTime

ANSWERED = "answered"
REFUSED = "refused"
FAILED = "failed"
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    id: str


@dataclass(frozen=True, slots=True)
class AccessEntry:
    at: dt.datetime
    actor: str
    roles: tuple[str, ...]
    rpc: str
    subjects: tuple[Subject, ...]
    outcome: str
    peer: str
    correlation_id: str
    site_id: str | None = None
    access_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class AccessQuery:
    """Exactly one of subject_id and actor; `sites` None reads every site's entries."""

    subject_id: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sites: frozenset[str] | None = None
    limit: int = 100
    after: int = 0
    """The position of the last entry of the previous page."""


@dataclass(frozen=True, slots=True)
class AccessPage:
    entries: tuple[AccessEntry, ...]
    last: int | None
    """The position to continue after; None when this was the last page."""


class AccessLog(Protocol):
    """A service's append-only log of accesses to its records."""

    async def append(self, entries: Sequence[AccessEntry]) -> None:
        """Records these entries durably, all or none."""
        ...

    async def find(self, query: AccessQuery) -> AccessPage:
        """The entries the query selects, oldest first."""
        ...


class MemoryAccessLog:
    """The access log held in memory (tests)."""

    def __init__(self) -> None:
        self._entries: list[AccessEntry] = []

    async def append(self, entries: Sequence[AccessEntry]) -> None:
        self._entries.extend(entries)

    async def find(self, query: AccessQuery) -> AccessPage:
        found: list[tuple[int, AccessEntry]] = []
        for position, entry in enumerate(self._entries, start=1):
            if position > query.after and _selects(query, entry):
                found.append((position, entry))
        page = found[: query.limit]
        last = page[-1][0] if len(found) > query.limit else None
        return AccessPage(tuple(e for _, e in page), last)


def _selects(query: AccessQuery, entry: AccessEntry) -> bool:
    if query.subject_id is not None and all(s.id != query.subject_id for s in entry.subjects):
        return False
    if query.actor is not None and entry.actor != query.actor:
        return False
    if query.since is not None and entry.at < query.since:
        return False
    if query.until is not None and entry.at > query.until:
        return False
    return query.sites is None or entry.site_id in query.sites


metadata = MetaData()
Position = BigInteger().with_variant(Integer(), "sqlite")
access_log = Table(
    "access_log",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("access_id", Uuid, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("roles", String(400), nullable=False),
    Column("rpc", String(300), nullable=False),
    Column("subject_kind", String(50), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("peer", String(200), nullable=False),
    Column("correlation_id", String(200), nullable=False),
    Column("site_id", String(200)),
    Index("ix_access_log_subject", "subject_id", "position"),
    Index("ix_access_log_actor", "actor", "position"),
    Index("ix_access_log_access", "access_id"),
)


def _create_access_log(conn: Connection) -> None:
    metadata.create_all(conn, tables=[access_log])
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION access_log_is_append_only() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                "'the access log is append-only: % refused', TG_OP; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                "ON access_log FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only()"
            )
        )


MIGRATION = Migration("infra", 3, "access log: who read which subject's record", _create_access_log)

_ROLES_SEPARATOR = ","


class SqlAccessLog:
    """The access log in the service's own database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, entries: Sequence[AccessEntry]) -> None:
        rows = [
            {
                "access_id": entry.access_id,
                "at": entry.at,
                "actor": entry.actor,
                "roles": _ROLES_SEPARATOR.join(entry.roles),
                "rpc": entry.rpc,
                "subject_kind": subject.kind,
                "subject_id": subject.id,
                "outcome": entry.outcome,
                "peer": entry.peer,
                "correlation_id": entry.correlation_id,
                "site_id": entry.site_id,
            }
            for entry in entries
            for subject in entry.subjects
        ]
        if not rows:
            return
        async with self._db.transaction() as conn:
            await conn.execute(access_log.insert(), rows)

    async def find(self, query: AccessQuery) -> AccessPage:
        t = access_log.c
        conditions = []
        if query.subject_id is not None:
            conditions.append(t.subject_id == query.subject_id)
        if query.actor is not None:
            conditions.append(t.actor == query.actor)
        if query.since is not None:
            conditions.append(t.at >= query.since)
        if query.until is not None:
            conditions.append(t.at <= query.until)
        if query.sites is not None:
            conditions.append(t.site_id.in_(sorted(query.sites)))
        # The first row of each access the filter selects, one more than a page to know whether
        # another follows; then every subject of those accesses.
        head = func.min(t.position)
        first = (
            select(t.access_id, head)
            .where(and_(true(), *conditions))
            .group_by(t.access_id)
            .having(head > query.after)
            .order_by(head)
            .limit(query.limit + 1)
        )
        async with self._db.read() as conn:
            heads = [(a, int(p)) for a, p in (await conn.execute(first)).all()]
            more = len(heads) > query.limit
            heads = heads[: query.limit]
            rows = (
                (
                    await conn.execute(
                        select(access_log)
                        .where(t.access_id.in_([a for a, _ in heads]))
                        .order_by(t.position)
                    )
                ).all()
                if heads
                else []
            )
        by_access: dict[uuid.UUID, list[Any]] = {}
        for row in rows:
            by_access.setdefault(row.access_id, []).append(row)
        entries = []
        for access_id, _ in heads:
            group = by_access[access_id]
            head = group[0]
            entries.append(
                AccessEntry(
                    access_id=access_id,
                    at=head.at,
                    actor=head.actor,
                    roles=tuple(r for r in head.roles.split(_ROLES_SEPARATOR) if r),
                    rpc=head.rpc,
                    subjects=tuple(Subject(r.subject_kind, r.subject_id) for r in group),
                    outcome=head.outcome,
                    peer=head.peer,
                    correlation_id=head.correlation_id,
                    site_id=head.site_id,
                )
            )
        return AccessPage(tuple(entries), heads[-1][1] if more and heads else None)


class AccessRecorder:
    """Group commit in front of an AccessLog: `record` returns once its entry is committed,
    with every entry that arrived while the previous batch was being written."""

    def __init__(self, log: AccessLog) -> None:
        self._log = log
        self._pending: list[tuple[AccessEntry, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, entry: AccessEntry) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="access-log-writer")
        await asyncio.shield(future)

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._log.append([entry for entry, _ in batch])
                except Exception as error:  # every reader of the batch learns it was not kept
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._writer = None
