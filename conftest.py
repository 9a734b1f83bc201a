"""Fixtures every test tier shares: the storage backends a storage test runs against.

SQLite always. PostgreSQL too when TEST_POSTGRES_URL is set (CI sets it; then a PostgreSQL test
never skips: an unreachable server fails it), or else in a testcontainers PostgreSQL where a
Docker engine answers. Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infra.db import Database, Migration, normalize_url


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _backends() -> list[str]:
    if os.environ.get("TEST_POSTGRES_URL") or _docker_answers():
        return ["sqlite", "postgresql"]
    return ["sqlite"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as container:
        yield container.get_connection_url()


STORAGE_BACKENDS = _backends()


class DatabaseFactory:
    """Makes migrated, empty databases on one backend and cleans them up."""

    def __init__(self, backend: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._postgres_url = postgres_url
        self._created: list[Database] = []
        self._schemas: list[str] = []

    async def __call__(self, migrations: Sequence[Migration] = ()) -> Database:
        if self._postgres_url is None:
            url = f"sqlite:///{self._tmp_path}/db-{len(self._created)}.sqlite"
            db = Database.from_url(url, migrations)
        else:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            self._schemas.append(schema)
            db = Database.from_url(self._postgres_url, migrations, schema=schema)
        await db.migrate()
        self._created.append(db)
        return db

    async def close(self) -> None:
        for db in self._created:
            await db.dispose()
        if self._postgres_url is not None and self._schemas:
            engine = create_async_engine(normalize_url(self._postgres_url))
            async with engine.begin() as conn:
                for schema in self._schemas:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


@asynccontextmanager
async def database_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseFactory]:
    """For fixtures parametrized over STORAGE_BACKENDS (plus their own extra backends)."""
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    factory = DatabaseFactory(backend, tmp_path, url)
    try:
        yield factory
    finally:
        await factory.close()


@pytest.fixture(params=STORAGE_BACKENDS)
async def make_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseFactory]:
    """A factory of migrated, empty databases on each storage backend in turn."""
    async with database_factory(request.param, request, tmp_path) as factory:
        yield factory


@pytest.fixture
async def database(make_database: DatabaseFactory) -> Database:
    """One migrated, empty database with the infra tables only, on each backend in turn."""
    return await make_database(())
