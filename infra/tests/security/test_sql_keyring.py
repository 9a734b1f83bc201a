"""What only the keyring in a database does: a first key that collides on the primary key with
one made meanwhile is not an error, the key made first is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from conftest import STORAGE_BACKENDS, database_factory
from infra.db import Database
from infra.security.crypto import KEYRING_MIGRATIONS, LocalKeyEncryptionKey, SqlSubjectKeys
from infra.security.crypto import sql as keyring_sql

pytestmark = pytest.mark.integration

KEK = LocalKeyEncryptionKey.generate()


@pytest.fixture(params=STORAGE_BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database_factory(request.param, request, tmp_path) as make:
        yield await make(KEYRING_MIGRATIONS, infra_tables=False)


async def test_a_first_key_colliding_with_one_made_meanwhile_answers_that_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a key made by one keyring, and another that does not see it twice (as if it had
    # been made between its looks)
    made = await SqlSubjectKeys(database, KEK).current("se-1")
    newest = keyring_sql._newest
    looks = 0

    async def blind_twice(conn: Any, subject: str) -> Any:
        nonlocal looks
        looks += 1
        return None if looks <= 2 else await newest(conn, subject)

    monkeypatch.setattr(keyring_sql, "_newest", blind_twice)
    # when
    found = await SqlSubjectKeys(database, KEK).current("se-1")
    # then its insert collided on (subject, key id), and it read the key made first
    assert looks == 3
    assert found == made
