"""A service's SQLite database is its owner's only: the file, its -wal and -shm, and the folder
it creates for them, whatever the process's umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from infra.db import Database

pytestmark = pytest.mark.integration


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The umask of most shells: files 0644 and folders 0755 unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
async def test_a_sqlite_database_and_the_folder_made_for_it_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    path = folder / "supervision.sqlite"
    db = Database.from_url(f"sqlite:///{path}")
    try:
        await db.migrate()
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE notes (body TEXT)"))
            await conn.execute(text("INSERT INTO notes VALUES ('kept private')"))
        async with db.read() as conn:  # a reader keeps the -wal and -shm in place
            files = sorted(p.name for p in folder.iterdir())
            assert files == [
                "supervision.sqlite",
                "supervision.sqlite-shm",
                "supervision.sqlite-wal",
            ]
            assert {name: mode(folder / name) for name in files} == dict.fromkeys(files, 0o600)
            await conn.execute(text("SELECT 1"))
    finally:
        await db.dispose()
    assert mode(folder) == 0o700


@pytest.mark.usefixtures("permissive_umask")
async def test_a_database_made_readable_before_is_made_private_when_opened(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    path = shared / "compliance.sqlite"
    for name in (path.name, f"{path.name}-wal"):
        (shared / name).touch(mode=0o644)

    db = Database.from_url(f"sqlite:///{path}")
    await db.dispose()

    assert (mode(path), mode(shared / f"{path.name}-wal")) == (0o600, 0o600)
    assert mode(shared) == 0o755, "a folder it did not make is left as it was"
