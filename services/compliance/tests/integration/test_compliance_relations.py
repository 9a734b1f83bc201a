"""The Relations port of compliance, on each storage backend: a supervisee's current site and
their supervisors, as the read model holds them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from compliance.adapters.read_model import (
    MIGRATIONS,
    agreements,
    supervisee_transfers,
    supervisees,
)
from compliance.adapters.relations import SqlComplianceRelations
from conftest import DatabaseFactory
from infra.db import Database

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def recorded() -> dict[str, Any]:
    return {"recorded_at": AT, "source_event_id": str(uuid.uuid4())}


def agreement(supervisee: str, supervisor: str) -> dict[str, Any]:
    return {
        "agreement_id": f"agr-{supervisor}",
        "supervisee_id": supervisee,
        "supervisor_id": supervisor,
        "site_id": "site-a",
        "credential_track": "TX-LPC-A",
        "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31),
        "modalities": ["in_person"],
        "board_approval_required": False,
        **recorded(),
    }


@pytest.fixture
async def db(make_database: DatabaseFactory) -> Database:
    return await make_database(MIGRATIONS)


async def given_supervisee(db: Database, supervisee: str, *supervisors: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            supervisees.insert(),
            {
                "supervisee_id": supervisee,
                "credential_track": "TX-LPC-A",
                "license_number": "LPC-A-1",
                "home_site_id": "site-a",
                "registered_on": dt.date(2026, 1, 1),
                **recorded(),
            },
        )
        for supervisor in supervisors:
            await conn.execute(agreements.insert(), agreement(supervisee, supervisor))


async def test_a_supervisee_names_their_home_site_and_supervisors(db: Database) -> None:
    # given
    await given_supervisee(db, "see-1", "sup-1", "sup-2")
    # when
    facts = await SqlComplianceRelations(db).facts("supervisee", "see-1")
    # then
    assert facts is not None
    assert facts.site_id == "site-a"
    assert facts.parties == {"see-1", "sup-1", "sup-2"}


async def test_a_transferred_supervisee_is_at_their_last_transfers_site(db: Database) -> None:
    # given
    await given_supervisee(db, "see-1")
    async with db.transaction() as conn:
        for on, to in ((dt.date(2026, 2, 1), "site-b"), (dt.date(2026, 4, 1), "site-c")):
            await conn.execute(
                supervisee_transfers.insert(),
                {
                    "supervisee_id": "see-1",
                    "effective_on": on,
                    "to_site_id": to,
                    "from_site_id": "site-a",
                    **recorded(),
                },
            )
    # when
    facts = await SqlComplianceRelations(db).facts("supervisee", "see-1")
    # then
    assert facts is not None and facts.site_id == "site-c"


async def test_an_unknown_supervisee_has_no_facts(db: Database) -> None:
    relations = SqlComplianceRelations(db)
    assert await relations.facts("supervisee", "see-unknown") is None
    assert await relations.facts("session", "see-unknown") is None
