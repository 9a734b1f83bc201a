"""The compliance read model on each storage backend: projection once, queries as of a date."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from compliance.adapters.read_model import (
    MIGRATIONS,
    SqlProjectedFacts,
    project_referral_raised,
    project_session_logged,
)
from compliance.application.queries import open_referrals, supervisee_hours
from conftest import DatabaseFactory
from contracts.events import ReferralRaised, SessionLogged

pytestmark = pytest.mark.integration


def session(session_id: str, day: dt.date, minutes: int, *supervisees: str) -> SessionLogged:
    return SessionLogged(
        session_id=session_id,
        format="group" if len(supervisees) > 2 else "individual",
        modality="in_person",
        date=day,
        minutes=minutes,
        supervisor_id="sup-1",
        supervisee_ids=supervisees,
        site_id="site-a",
    )


async def test_a_group_session_counts_for_each_supervisee_once_with_its_source_event(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    group, event_id = session("g-1", dt.date(2026, 10, 1), 120, "a", "b", "c"), uuid.uuid4()
    async with db.transaction() as conn:
        await project_session_logged(conn, group, event_id)
        await project_session_logged(
            conn, session("i-1", dt.date(2026, 10, 8), 60, "a"), uuid.uuid4()
        )
    async with db.transaction() as conn:
        # The same session again under another event id (a re-published log) adds nothing.
        await project_session_logged(conn, group, uuid.uuid4())
    facts = SqlProjectedFacts(db)

    a = await supervisee_hours(facts, "a", dt.date(2026, 12, 31))
    b = await supervisee_hours(facts, "b", dt.date(2026, 12, 31))
    before_second = await supervisee_hours(facts, "a", dt.date(2026, 10, 7))

    assert (a.total_minutes, b.total_minutes, before_second.total_minutes) == (180, 120, 120)
    assert a.by_format_and_modality[("group", "in_person")] == 120
    assert b.sessions[0].source_event_id == str(event_id)


async def test_open_referrals_are_those_raised_by_the_date(make_database: DatabaseFactory) -> None:
    db = await make_database(MIGRATIONS)
    raised, event_id = (
        ReferralRaised(
            referral_id="r-1",
            client_id="client-1",
            site_id="site-a",
            from_service="coaching",
            to_service="therapy",
            urgency="urgent",
            raised_on=dt.date(2026, 11, 2),
            source="coaching-concern/c-1",
        ),
        uuid.uuid4(),
    )
    async with db.transaction() as conn:
        await project_referral_raised(conn, raised, event_id)
        await project_referral_raised(conn, raised, uuid.uuid4())
    facts = SqlProjectedFacts(db)

    (open_now,) = await open_referrals(facts, "site-a", dt.date(2026, 11, 2))
    assert open_now.source_event_ids == (str(event_id),)
    assert await open_referrals(facts, "site-a", dt.date(2026, 11, 1)) == ()
    assert await open_referrals(facts, "site-b", dt.date(2026, 11, 2)) == ()
