"""The keyring's contract, in memory, on SQLite and on PostgreSQL: a subject's key is made once
and reused, by however many keyrings share the storage; it is stored wrapped only; destroying
it is final; a KEK rotation rewraps every key; a keyring without the right KEK refuses."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import STORAGE_BACKENDS, database_factory
from infra.db import Database
from infra.security.crypto import (
    KEYRING_MIGRATIONS,
    KeyEncryptionKey,
    KeyEncryptionKeyUnavailable,
    LocalKeyEncryptionKey,
    MemoryKeyStore,
    MemorySubjectKeys,
    SqlSubjectKeys,
    SubjectErased,
    SubjectKeys,
    UnknownDataKey,
    UnwrapRefused,
)
from infra.security.crypto.keys import WrappedKey
from infra.security.crypto.sql import subject_keys

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
KEK = LocalKeyEncryptionKey.generate()
NEXT_KEK = LocalKeyEncryptionKey.generate()


def clock() -> dt.datetime:
    return T0


class Storage:
    """One keyring storage, and keyrings over it as separate processes would open them."""

    def __init__(self, name: str, store: MemoryKeyStore | None, db: Database | None) -> None:
        self.name, self._store, self._db = name, store, db
        self._opened: list[Database] = []

    def keyring(
        self, kek: KeyEncryptionKey = KEK, retired: Sequence[KeyEncryptionKey] = ()
    ) -> SubjectKeys:
        if self._db is None:
            return MemorySubjectKeys(kek, retired=retired, store=self._store, clock=clock)
        # A database object of its own, as another process has: its own connections.
        url = self._db.engine.url.render_as_string(hide_password=False)
        db = Database.from_url(url, KEYRING_MIGRATIONS, schema=self._db.schema, infra_tables=False)
        self._opened.append(db)
        return SqlSubjectKeys(db, kek, retired=retired, clock=clock)

    async def stored(self) -> dict[tuple[str, int], WrappedKey]:
        """What the storage holds: wrapped keys by (subject, key id)."""
        if self._db is None:
            assert self._store is not None
            return {
                (subject, key_id): wrapped
                for subject, keys in self._store.keys.items()
                for key_id, wrapped in keys.items()
            }
        t = subject_keys.c
        async with self._db.read() as conn:
            rows = (await conn.execute(select(t.subject, t.key_id, t.kek_id, t.wrapped))).all()
        return {(r.subject, r.key_id): WrappedKey(r.kek_id, r.wrapped) for r in rows}

    async def overwrite(self, subject: str, key_id: int, stored: WrappedKey) -> None:
        if self._db is None:
            assert self._store is not None
            self._store.keys[subject][key_id] = stored
            return
        t = subject_keys.c
        async with self._db.transaction() as conn:
            await conn.execute(
                subject_keys.update()
                .where(t.subject == subject, t.key_id == key_id)
                .values(kek_id=stored.kek_id, wrapped=stored.wrapped)
            )

    async def close(self) -> None:
        for db in self._opened:
            await db.dispose()


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield Storage("memory", MemoryKeyStore(), None)
        return
    async with database_factory(request.param, request, tmp_path) as make:
        db = await make(KEYRING_MIGRATIONS, infra_tables=False)
        opened = Storage(request.param, None, db)
        try:
            yield opened
        finally:
            await opened.close()


async def test_a_subjects_first_use_makes_a_key_that_is_used_from_then_on(
    storage: Storage,
) -> None:
    # given
    keys = storage.keyring()
    first = await keys.current("se-1")
    # when
    again = await keys.current("se-1")
    by_id = await keys.data_key("se-1", first.key_id)
    # then
    assert first.key_id == 1
    assert len(first.material) == 32
    assert again == first == by_id


async def test_each_subject_has_a_key_of_its_own(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    # when
    one, other = await keys.current("se-1"), await keys.current("client:c-9")
    # then
    assert one.material != other.material
    assert (one.subject, other.subject) == ("se-1", "client:c-9")


async def test_keyrings_sharing_the_storage_make_one_key_for_a_subject_first_used_at_once(
    storage: Storage,
) -> None:
    # given two keyrings, as two services would open it
    keyrings = [storage.keyring(), storage.keyring()]
    subjects = [f"se-{n}" for n in range(8)]
    # when every subject is first used by both at once, twice each
    found = await asyncio.gather(
        *(keys.current(subject) for subject in subjects for keys in keyrings for _ in range(2))
    )
    # then each subject has one key, the one every call got
    for subject in subjects:
        assert len({key.material for key in found if key.subject == subject}) == 1
    assert sorted(await storage.stored()) == sorted((s, 1) for s in subjects)


async def test_a_key_is_stored_wrapped_only_and_names_its_kek(storage: Storage) -> None:
    # given
    key = await storage.keyring().current("se-1")
    # when
    stored = (await storage.stored())[("se-1", 1)]
    # then
    assert stored.kek_id == KEK.id
    assert key.material not in stored.wrapped


async def test_a_key_that_was_never_made_is_unknown(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    await keys.current("se-1")
    # when / then
    with pytest.raises(UnknownDataKey, match="'se-1' has no key 2"):
        await keys.data_key("se-1", 2)
    with pytest.raises(UnknownDataKey, match="'se-2' has no key 1"):
        await keys.data_key("se-2", 1)
    assert await keys.destroyed("se-2") is None


async def test_a_destroyed_subjects_keys_are_gone_for_every_keyring(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    await keys.current("se-1")
    await keys.current("se-2")
    # when
    erasure = await keys.destroy("se-1", "consent_revoked")
    # then
    other = storage.keyring()
    for keyring in (keys, other):
        assert await keyring.destroyed("se-1") == erasure
        with pytest.raises(SubjectErased, match="'se-1' were destroyed"):
            await keyring.data_key("se-1", 1)
        with pytest.raises(SubjectErased):
            await keyring.current("se-1")
    assert (erasure.subject, erasure.at, erasure.reason) == ("se-1", T0, "consent_revoked")
    assert sorted(await storage.stored()) == [("se-2", 1)]
    assert (await keys.data_key("se-2", 1)).subject == "se-2"


async def test_a_destroyed_subject_stays_destroyed(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    await keys.current("se-1")
    first = await keys.destroy("se-1", "retention_ended")
    # when destroyed again, and asked for a key again by a keyring opened later
    again = await keys.destroy("se-1", "consent_revoked")
    later = storage.keyring()
    with pytest.raises(SubjectErased):
        await later.current("se-1")
    # then the first erasure stands, and no key was made again
    assert again == first
    assert await later.destroyed("se-1") == first
    assert await storage.stored() == {}


async def test_a_subject_destroyed_before_any_key_never_gets_one(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    # when
    await keys.destroy("client:c-1", "consent_revoked")
    # then
    with pytest.raises(SubjectErased):
        await keys.current("client:c-1")
    assert await storage.stored() == {}


async def test_first_uses_at_once_refuse_a_destroyed_subject_and_key_the_others(
    storage: Storage,
) -> None:
    # given a subject destroyed, and a keyring that makes concurrent first keys together
    keys = storage.keyring()
    await keys.destroy("c-gone", "retention_ended")
    subjects = [f"c-{n}" for n in range(20)]
    # when the destroyed subject is asked for among many new ones at once
    found = await asyncio.gather(
        *(keys.current(s) for s in [*subjects[:10], "c-gone", *subjects[10:]]),
        return_exceptions=True,
    )
    # then only the destroyed subject is refused, and each other has its own stored key
    refused = [f for f in found if isinstance(f, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], SubjectErased)
    made = [f for f in found if not isinstance(f, BaseException)]
    assert sorted(k.subject for k in made) == sorted(subjects)
    assert sorted(await storage.stored()) == sorted((s, 1) for s in subjects)
    for key in made:
        assert await keys.data_key(key.subject, 1) == key


async def test_a_destruction_racing_a_first_use_leaves_no_key(storage: Storage) -> None:
    # given two keyrings, one sealing for new subjects while the other destroys them
    sealer, eraser = storage.keyring(), storage.keyring()
    subjects = [f"c-{n}" for n in range(8)]
    # when
    await asyncio.gather(
        *(sealer.current(s) for s in subjects),
        *(eraser.destroy(s, "consent_revoked") for s in subjects),
        return_exceptions=True,
    )
    # then whichever came first, every subject is destroyed and has no key
    assert await storage.stored() == {}
    for subject in subjects:
        with pytest.raises(SubjectErased):
            await sealer.current(subject)


async def test_a_keyring_without_the_kek_that_wrapped_a_key_refuses_naming_it(
    storage: Storage,
) -> None:
    # given
    await storage.keyring(KEK).current("se-1")
    stranger = storage.keyring(NEXT_KEK)
    # when / then
    with pytest.raises(KeyEncryptionKeyUnavailable, match=rf"wrapped by the .* {KEK.id}"):
        await stranger.data_key("se-1", 1)
    with pytest.raises(KeyEncryptionKeyUnavailable, match=KEK.id):
        await stranger.current("se-1")
    with pytest.raises(KeyEncryptionKeyUnavailable, match=KEK.id):
        await stranger.rewrap()
    assert (await storage.stored())[("se-1", 1)].kek_id == KEK.id


async def test_a_wrapped_key_moved_to_another_subject_is_refused(storage: Storage) -> None:
    # given
    keys = storage.keyring()
    await keys.current("se-1")
    await keys.current("se-2")
    stored = await storage.stored()
    # when se-1's wrapped key is put in se-2's place
    await storage.overwrite("se-2", 1, stored[("se-1", 1)])
    # then
    with pytest.raises(UnwrapRefused, match="wrapped by another key or altered"):
        await keys.data_key("se-2", 1)


async def test_a_kek_rotation_rewraps_every_key_under_the_new_kek(storage: Storage) -> None:
    # given keys made under the old KEK
    old = storage.keyring(KEK)
    before = {s: await old.current(s) for s in ("se-1", "se-2", "client:c-1")}
    await old.destroy("se-2", "retention_ended")
    rotating = storage.keyring(NEXT_KEK, retired=[KEK])
    # when
    moved = await rotating.rewrap()
    # then every remaining key is wrapped by the new KEK, and reads the same without the old
    stored = await storage.stored()
    assert moved == 2
    assert {k: v.kek_id for k, v in stored.items()} == {
        ("se-1", 1): NEXT_KEK.id,
        ("client:c-1", 1): NEXT_KEK.id,
    }
    rotated = storage.keyring(NEXT_KEK)
    for subject in ("se-1", "client:c-1"):
        assert await rotated.data_key(subject, 1) == before[subject]
    with pytest.raises(KeyEncryptionKeyUnavailable):
        await storage.keyring(KEK).data_key("se-1", 1)
    assert await rotating.rewrap() == 0


async def test_while_a_kek_is_rotated_keys_under_either_are_read(storage: Storage) -> None:
    # given one key under the old KEK, then a keyring given the new one and the old as retired
    old_key = await storage.keyring(KEK).current("se-1")
    rotating = storage.keyring(NEXT_KEK, retired=[KEK])
    # when
    new_key = await rotating.current("se-2")
    # then
    assert await rotating.data_key("se-1", 1) == old_key
    assert await rotating.current("se-1") == old_key
    assert (await storage.stored())[("se-2", 1)].kek_id == NEXT_KEK.id
    assert await rotating.data_key("se-2", 1) == new_key


async def test_a_subject_must_be_an_id(storage: Storage) -> None:
    keys = storage.keyring()
    with pytest.raises(ValueError, match="a subject must be 1 to 64 characters"):
        await keys.current("se 1")
    with pytest.raises(ValueError, match="a subject must be"):
        await keys.destroy("x" * 65, "retention_ended")
