"""The keyring in a database: SQLite or PostgreSQL, one database that several services share as
they would share a key service (`CONTINUUM_KEYRING_URL`), or a service's own.

Two tables. `keyring_subjects` has a row per subject the keyring has seen; once their keys are
destroyed it stays, as their tombstone (when, why). `subject_keys` has the wrapped data keys,
one row per (subject, key id), the id of the KEK that wrapped each beside it.

Creating a subject's first key and destroying a subject's keys both lock the subject's row
first (SELECT ... FOR UPDATE on PostgreSQL; a SQLite write transaction holds the database), so
the two never interleave: a key is made only for a subject without a tombstone, and a
destruction removes every key made before it. Two keyrings asking for a new subject's key at
once get the same key: the second waits for the first's row and then finds its key; the
primary key on (subject, key id) stands behind that, and a collision is retried.

Destroyed keys are deleted rows. SQLite overwrites what it deletes (`secure_delete`, set by
`keyring_database`); PostgreSQL leaves dead rows until VACUUM, and backups of the keyring
keep wrapped keys as long as they are kept: they are wrapped by the KEK, and erasure is final
for them once the KEK that wrapped them is retired or the backups expire.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    and_,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.db import Database, Migration, UtcDateTime
from infra.security.crypto.kek import KeyEncryptionKey, KeyringError
from infra.security.crypto.keys import (
    FIRST_KEY_ID,
    Clock,
    DataKey,
    Erasure,
    ErasureReason,
    SubjectErased,
    UnknownDataKey,
    WrappedKey,
    Wrapping,
    check_subject,
    utc_now,
)

REWRAP_BATCH = 200
_CREATE_ATTEMPTS = 3

metadata = MetaData()
keyring_subjects = Table(
    "keyring_subjects",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set once, when the subject's keys are destroyed: the tombstone.
    Column("destroyed_at", UtcDateTime),
    Column("erasure_reason", String(40)),
)
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject", String(64), ForeignKey(keyring_subjects.c.subject), nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("kek_id", String(200), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("subject", "key_id"),
    Index("ix_subject_keys_kek", "kek_id"),
)


def _create_keyring(conn: Connection) -> None:
    metadata.create_all(conn, tables=[keyring_subjects, subject_keys])


MIGRATION = Migration("keyring", 1, "keyring: subjects, their wrapped data keys", _create_keyring)
KEYRING_MIGRATIONS: tuple[Migration, ...] = (MIGRATION,)


def keyring_database(url: str, *, schema: str | None = None) -> Database:
    """A database holding a keyring only (no event store, outbox or inbox); on SQLite, what it
    deletes is overwritten. Migrate it before use."""
    db = Database.from_url(url, KEYRING_MIGRATIONS, schema=schema, infra_tables=False)
    if db.is_sqlite:
        event.listen(db.engine.sync_engine, "connect", _secure_delete)
    return db


def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class SqlSubjectKeys:
    """The keyring in `db` (migrated with KEYRING_MIGRATIONS)."""

    def __init__(
        self,
        db: Database,
        kek: KeyEncryptionKey,
        *,
        retired: Sequence[KeyEncryptionKey] = (),
        clock: Clock = utc_now,
    ) -> None:
        self.database = db
        self._wrapping = Wrapping(kek, retired)
        self._clock = clock
        # First keys asked for while a transaction makes others wait for the next, and are made
        # together in one: registering a supervisee per call makes a subject per call.
        self._waiting: dict[str, tuple[WrappedKey, asyncio.Future[Erasure | bool | None]]] = {}
        self._maker: asyncio.Task[None] | None = None

    async def current(self, subject: str) -> DataKey:
        check_subject(subject)
        for _ in range(_CREATE_ATTEMPTS):
            async with self.database.read() as conn:
                await _refuse_erased(conn, subject)
                found = await _newest(conn, subject)
            if found is not None:
                return await self._wrapping.unwrap(subject, *found)
            key, wrapped = await self._wrapping.new_key(subject, FIRST_KEY_ID)
            try:
                made = await self._create(subject, wrapped)
            except IntegrityError:
                continue  # another keyring made it between our lock and our insert: read it
            if made:
                return key
        raise KeyringError(f"no key could be made for subject {subject!r}: the keyring is busy")

    async def _create(self, subject: str, wrapped: WrappedKey) -> bool:
        """Stores the subject's first key unless one exists; False when one did. Raises
        SubjectErased for a subject with a tombstone. Concurrent first keys are made in one
        transaction (`_make_waiting`)."""
        waiting = self._waiting.get(subject)
        if waiting is not None:
            outcome = await asyncio.shield(waiting[1])
            return False if outcome is True else _made(outcome, mine=False)
        done: asyncio.Future[Erasure | bool | None] = asyncio.get_running_loop().create_future()
        self._waiting[subject] = (wrapped, done)
        if self._maker is None or self._maker.done():
            self._maker = asyncio.create_task(self._make_waiting(), name="keyring-first-keys")
        return _made(await asyncio.shield(done), mine=True)

    async def _make_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                outcomes = await self._create_many(
                    {subject: wrapped for subject, (wrapped, _) in batch.items()}
                )
            except BaseException as failed:
                for _, done in batch.values():
                    if not done.done():
                        done.set_exception(failed)
                if not isinstance(failed, Exception):
                    raise
                continue
            for subject, (_, done) in batch.items():
                if not done.done():
                    done.set_result(outcomes[subject])

    async def _create_many(self, wanted: dict[str, WrappedKey]) -> dict[str, Erasure | bool | None]:
        """In one transaction, for each subject: its tombstone (nothing made), None when its
        first key was made here, True when it already had one."""
        now = self._clock()
        subjects = sorted(wanted)
        s, t = keyring_subjects.c, subject_keys.c
        async with self.database.transaction() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            await conn.execute(
                insert(keyring_subjects).on_conflict_do_nothing(index_elements=["subject"]),
                [{"subject": subject, "created_at": now} for subject in subjects],
            )
            # Held until the end of the transaction, in one order (no two makers deadlock).
            await conn.execute(
                select(s.subject)
                .where(s.subject.in_(subjects))
                .order_by(s.subject)
                .with_for_update()
            )
            tombstones = {
                row.subject: Erasure(row.subject, row.destroyed_at, row.erasure_reason)
                for row in await conn.execute(
                    select(s.subject, s.destroyed_at, s.erasure_reason).where(
                        s.subject.in_(subjects), s.destroyed_at.is_not(None)
                    )
                )
            }
            keyed = set(
                (await conn.execute(select(t.subject).where(t.subject.in_(subjects)).distinct()))
                .scalars()
                .all()
            )
            new = [x for x in subjects if x not in tombstones and x not in keyed]
            if new:
                await conn.execute(
                    subject_keys.insert(),
                    [
                        {
                            "subject": subject,
                            "key_id": FIRST_KEY_ID,
                            "kek_id": wanted[subject].kek_id,
                            "wrapped": wanted[subject].wrapped,
                            "created_at": now,
                        }
                        for subject in new
                    ],
                )
        return {x: tombstones.get(x) or (True if x in keyed else None) for x in subjects}

    async def data_key(self, subject: str, key_id: int) -> DataKey:
        t = subject_keys.c
        async with self.database.read() as conn:
            await _refuse_erased(conn, subject)
            row = (
                await conn.execute(
                    select(t.kek_id, t.wrapped).where(t.subject == subject, t.key_id == key_id)
                )
            ).first()
        if row is None:
            raise UnknownDataKey(f"subject {subject!r} has no key {key_id}")
        return await self._wrapping.unwrap(subject, key_id, WrappedKey(row.kek_id, row.wrapped))

    async def destroy(self, subject: str, reason: ErasureReason) -> Erasure:
        check_subject(subject)
        now = self._clock()
        s = keyring_subjects.c
        async with self.database.transaction() as conn:
            await self._lock_subject(conn, subject, now)
            erasure = await _erasure(conn, subject)
            if erasure is None:
                await conn.execute(
                    keyring_subjects.update()
                    .where(s.subject == subject)
                    .values(destroyed_at=now, erasure_reason=reason)
                )
                erasure = Erasure(subject, now, reason)
            await conn.execute(subject_keys.delete().where(subject_keys.c.subject == subject))
        return erasure

    async def destroyed(self, subject: str) -> Erasure | None:
        async with self.database.read() as conn:
            return await _erasure(conn, subject)

    async def rewrap(self) -> int:
        t = subject_keys.c
        current = self._wrapping.current.id
        async with self.database.read() as conn:
            kek_ids = (await conn.execute(select(t.kek_id).distinct())).scalars().all()
        self._wrapping.check_available(set(kek_ids) - {current})
        moved = 0
        after: tuple[str, int] = ("", 0)
        while True:
            async with self.database.read() as conn:
                rows = (
                    await conn.execute(
                        select(t.subject, t.key_id, t.kek_id, t.wrapped)
                        .where(t.kek_id != current, _after(after))
                        .order_by(t.subject, t.key_id)
                        .limit(REWRAP_BATCH)
                    )
                ).all()
            if not rows:
                return moved
            updates = []
            for row in rows:
                old = WrappedKey(row.kek_id, row.wrapped)
                key = await self._wrapping.unwrap(row.subject, row.key_id, old)
                new = await self._wrapping.wrap(row.subject, row.key_id, key.material)
                updates.append((row.subject, row.key_id, old.kek_id, new))
            async with self.database.transaction() as conn:
                for subject, key_id, old_kek, new in updates:
                    # Only if it is still there as read: a key destroyed meanwhile stays gone.
                    result = await conn.execute(
                        subject_keys.update()
                        .where(t.subject == subject, t.key_id == key_id, t.kek_id == old_kek)
                        .values(kek_id=new.kek_id, wrapped=new.wrapped)
                    )
                    moved += cast(Any, result).rowcount
            after = (rows[-1].subject, rows[-1].key_id)

    async def _lock_subject(self, conn: AsyncConnection, subject: str, now: dt.datetime) -> None:
        """Makes the subject's row if it is missing, and holds it until the transaction ends."""
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        await conn.execute(
            insert(keyring_subjects)
            .values(subject=subject, created_at=now)
            .on_conflict_do_nothing(index_elements=["subject"])
        )
        s = keyring_subjects.c
        await conn.execute(select(s.subject).where(s.subject == subject).with_for_update())


def _made(outcome: Erasure | bool | None, *, mine: bool) -> bool:
    """Whether the caller's own wrapped key is the one stored; SubjectErased for a tombstone.
    A caller who joined another's request for the same subject made nothing of its own: it
    reads the key stored."""
    if isinstance(outcome, Erasure):
        raise SubjectErased(outcome)
    return outcome is None and mine


def _after(position: tuple[str, int]) -> Any:
    t = subject_keys.c
    subject, key_id = position
    return (t.subject > subject) | and_(t.subject == subject, t.key_id > key_id)


async def _newest(conn: AsyncConnection, subject: str) -> tuple[int, WrappedKey] | None:
    t = subject_keys.c
    newest = select(func.max(t.key_id)).where(t.subject == subject).scalar_subquery()
    row = (
        await conn.execute(
            select(t.key_id, t.kek_id, t.wrapped).where(t.subject == subject, t.key_id == newest)
        )
    ).first()
    return None if row is None else (row.key_id, WrappedKey(row.kek_id, row.wrapped))


async def _erasure(conn: AsyncConnection, subject: str) -> Erasure | None:
    s = keyring_subjects.c
    row = (
        await conn.execute(
            select(s.destroyed_at, s.erasure_reason).where(
                s.subject == subject, s.destroyed_at.is_not(None)
            )
        )
    ).first()
    return None if row is None else Erasure(subject, row.destroyed_at, row.erasure_reason)


async def _refuse_erased(conn: AsyncConnection, subject: str) -> None:
    erasure = await _erasure(conn, subject)
    if erasure is not None:
        raise SubjectErased(erasure)
