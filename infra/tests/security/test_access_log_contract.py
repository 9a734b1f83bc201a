"""The access log's contract: in memory, on SQLite and on PostgreSQL it keeps every entry, finds
a subject's and an actor's accesses, pages them, and keeps each officer to their sites; on
PostgreSQL the table itself refuses a change or a removal."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from conftest import STORAGE_BACKENDS, database_factory
from infra.db import Database
from infra.security.access_log import (
    ANSWERED,
    REFUSED,
    AccessEntry,
    AccessLog,
    AccessQuery,
    AccessRecorder,
    MemoryAccessLog,
    SqlAccessLog,
    Subject,
)

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def entry(
    minute: int,
    actor: str = "sv-1",
    *subjects: Subject,
    outcome: str = ANSWERED,
    site: str | None = "site-a",
) -> AccessEntry:
    return AccessEntry(
        at=T0 + dt.timedelta(minutes=minute),
        actor=actor,
        roles=("supervisor",),
        rpc="/continuum.supervision.v1.SupervisionService/GetSupervisee",
        subjects=subjects or (Subject("supervisee", "se-1"),),
        outcome=outcome,
        peer="ipv4:127.0.0.1:50000",
        correlation_id=f"corr-{minute}",
        site_id=site,
    )


class Backend:
    def __init__(self, log: AccessLog, db: Database | None) -> None:
        self.log, self.db = log, db


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield Backend(MemoryAccessLog(), None)
        return
    async with database_factory(request.param, request, tmp_path) as make:
        db = await make(())
        yield Backend(SqlAccessLog(db), db)


async def test_an_entry_is_found_by_its_subject_with_everything_it_recorded(
    backend: Backend,
) -> None:
    # given
    kept = entry(1, "sv-1", Subject("supervisee", "se-1"), Subject("site", "site-a"))
    await backend.log.append([kept])
    # when
    page = await backend.log.find(AccessQuery(subject_id="se-1"))
    # then
    assert page.entries == (kept,)
    assert page.last is None


async def test_a_subject_and_an_actor_each_find_only_their_accesses(backend: Backend) -> None:
    # given
    await backend.log.append(
        [
            entry(1, "sv-1", Subject("supervisee", "se-1")),
            entry(2, "sv-2", Subject("supervisee", "se-2")),
            entry(3, "sv-2", Subject("supervisee", "se-1"), outcome=REFUSED),
        ]
    )
    # when
    by_subject = await backend.log.find(AccessQuery(subject_id="se-1"))
    by_actor = await backend.log.find(AccessQuery(actor="sv-2"))
    # then
    assert [(e.actor, e.outcome) for e in by_subject.entries] == [
        ("sv-1", ANSWERED),
        ("sv-2", REFUSED),
    ]
    assert [e.subjects[0].id for e in by_actor.entries] == ["se-2", "se-1"]


async def test_a_time_window_bounds_the_accesses_found(backend: Backend) -> None:
    # given
    await backend.log.append([entry(minute) for minute in (1, 5, 9)])
    # when
    page = await backend.log.find(
        AccessQuery(
            subject_id="se-1",
            since=T0 + dt.timedelta(minutes=2),
            until=T0 + dt.timedelta(minutes=6),
        )
    )
    # then
    assert [e.correlation_id for e in page.entries] == ["corr-5"]


async def test_pages_follow_one_another_without_repeating_an_access(backend: Backend) -> None:
    # given: accesses with two subjects each, so rows and accesses differ in number
    await backend.log.append(
        [
            entry(m, "sv-1", Subject("supervisee", f"se-{m}"), Subject("site", "site-a"))
            for m in range(5)
        ]
    )
    # when
    seen: list[str] = []
    after = 0
    pages = 0
    while True:
        page = await backend.log.find(AccessQuery(actor="sv-1", limit=2, after=after))
        pages += 1
        seen += [e.correlation_id for e in page.entries]
        assert all(len(e.subjects) == 2 for e in page.entries)
        if page.last is None:
            break
        after = page.last
    # then
    assert seen == [f"corr-{m}" for m in range(5)]
    assert pages == 3


async def test_an_officer_finds_only_the_accesses_at_their_sites(backend: Backend) -> None:
    # given
    await backend.log.append(
        [entry(1, site="site-a"), entry(2, site="site-b"), entry(3, site=None)]
    )
    # when
    page = await backend.log.find(AccessQuery(subject_id="se-1", sites=frozenset({"site-b"})))
    # then
    assert [e.site_id for e in page.entries] == ["site-b"]


async def test_concurrent_reads_are_all_recorded_before_each_returns(backend: Backend) -> None:
    # given
    recorder = AccessRecorder(backend.log)
    # when
    await asyncio.gather(*(recorder.record(entry(m)) for m in range(20)))
    # then
    page = await backend.log.find(AccessQuery(subject_id="se-1"))
    assert sorted(e.correlation_id for e in page.entries) == sorted(f"corr-{m}" for m in range(20))


async def test_the_table_refuses_to_change_or_remove_an_entry(backend: Backend) -> None:
    if backend.db is None or backend.db.is_sqlite:
        pytest.skip("the append-only trigger is PostgreSQL's")
    # given
    await backend.log.append([entry(1)])
    # when / then
    for statement in ("UPDATE access_log SET actor = 'someone-else'", "DELETE FROM access_log"):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            async with backend.db.transaction() as conn:
                await conn.execute(text(statement))
    page = await backend.log.find(AccessQuery(subject_id="se-1"))
    assert [e.actor for e in page.entries] == ["sv-1"]
