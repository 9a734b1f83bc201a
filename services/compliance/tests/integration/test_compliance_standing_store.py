"""The materialized standing on each storage backend: marked in the projector's transaction,
kept up by the keeper on the service's clock, and never served older than the facts applied:
what it answers is what the live evaluation of the same facts answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from compliance.adapters import read_model, standing_store
from compliance.adapters.read_model import Projector, SqlProjectedFacts
from compliance.adapters.standing_store import SqlStandingStore, mark_touched
from compliance.application.live_standing import LiveStanding
from compliance.application.queries import supervisee_evaluation
from compliance.application.standing import (
    Standing,
    VerdictFilters,
    count_by_status,
    standing_of,
    verdict_key,
)
from compliance.application.standing_keeper import StandingKeeper
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.rulepacks.loader import rule_packs
from infra.db import Database
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from services.compliance.tests.integration.standing_given import (
    CREDENTIALS,
    LICENSED,
    SITE,
    SUPERVISOR,
    Clock,
    Record,
    assert_lists_agree,
    at,
    enrolled,
    logged,
    registered,
)

pytestmark = pytest.mark.integration

D = dt.date.fromisoformat
MIGRATIONS = (*read_model.MIGRATIONS, *standing_store.MIGRATIONS)


@dataclass
class Given:
    """A read model with the materialized standing, fed as the consumer feeds it."""

    db: Database
    feed: Any
    clock: Clock
    store: SqlStandingStore = field(init=False)
    projector: Projector = field(init=False)

    def __post_init__(self) -> None:
        self.store = SqlStandingStore(self.db, rule_packs(), self.clock)
        self.projector = Projector(after_apply=mark_touched)

    def messages(self, events: list[tuple[ev.EventContract, str]]) -> list[IncomingEvent]:
        return [self.feed.message(event, at(day)) for event, day in events]

    async def batch(self, events: list[tuple[ev.EventContract, str]]) -> None:
        await self.feed.as_one_batch(self.db, self.messages(events), self.projector)

    async def keep(self) -> None:
        await StandingKeeper(self.store, clock=self.clock)(self.clock())

    async def live(self, supervisee_id: str, as_of: dt.date, known_at: dt.datetime) -> Standing:
        """The standing computed live from the facts, the way every list computes it."""
        view = await supervisee_evaluation(
            SqlProjectedFacts(self.db), rule_packs(), supervisee_id, as_of, known_at
        )
        registration = view.shown.record.registration
        assert registration is not None
        return standing_of(view.shown, registration.home_site_id, view.unapplied)

    async def stored(self) -> int:
        async with self.db.read() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(standing_store.supervisee_standing)
            )
        return int(count or 0)


@pytest.fixture
async def given(make_database: DatabaseFactory, feed: Any) -> Given:
    db = await make_database(MIGRATIONS)
    return Given(db, feed, Clock(at("2026-03-10", 9)))


TODAY = D("2026-03-10")


async def test_a_batch_marks_its_supervisees_in_its_own_transaction(given: Given) -> None:
    class Refused(Exception):
        pass

    messages = given.messages([*enrolled("see-1"), *enrolled("see-2")])
    with pytest.raises(Refused):
        async with given.db.transaction() as conn:
            await given.projector.apply(conn, messages)
            raise Refused
    assert await given.store.stale(TODAY, 10) == ()

    await given.feed.as_one_batch(given.db, messages, given.projector)

    assert await given.store.stale(TODAY, 10) == ("see-1", "see-2")


async def test_the_keeper_brings_every_marked_standing_up_to_date(given: Given) -> None:
    await given.batch(CREDENTIALS)
    await given.batch([*enrolled("see-1"), *enrolled("see-2")])

    await given.keep()

    assert await given.store.stale(TODAY, 10) == ()
    assert await given.stored() == 2
    standings = await given.store.at_site(SITE, TODAY, given.clock())
    assert standings == (
        await given.live("see-1", TODAY, given.clock()),
        await given.live("see-2", TODAY, given.clock()),
    )
    assert standings[0].supervision_counted_minutes == 150


async def test_a_standing_marked_after_it_was_kept_is_evaluated_on_read_never_served(
    given: Given,
) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)

    await given.batch([(logged("see-1", "see-1-mar", "2026-03-09", 120), "2026-03-10")])

    (standing,) = await given.store.at_site(SITE, TODAY, given.clock())
    assert standing.supervision_counted_minutes == 270
    assert standing == await given.live("see-1", TODAY, given.clock())
    assert await given.store.stale(TODAY, 10) == ("see-1",)


async def test_a_view_of_another_date_or_an_earlier_moment_is_computed_from_the_facts(
    given: Given,
) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1")])
    await given.keep()

    # Known before the February session was recorded; as of the end of January.
    before = await given.store.at_site(SITE, TODAY, at("2026-02-01"))
    january = await given.store.at_site(SITE, D("2026-01-31"), given.clock())

    assert before == (await given.live("see-1", TODAY, at("2026-02-01")),)
    assert before[0].supervision_counted_minutes == 60
    assert january == (await given.live("see-1", D("2026-01-31"), given.clock()),)


async def test_the_day_changing_re_evaluates_everyone_and_forgets_the_day_before(
    given: Given,
) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1"), *enrolled("see-2")])
    await given.keep()
    tomorrow = TODAY + dt.timedelta(days=1)

    given.clock.now = at("2026-03-11", 0)

    assert await given.store.stale(tomorrow, 10) == ("see-1", "see-2")
    assert await given.store.at_site(SITE, tomorrow, given.clock()) == (
        await given.live("see-1", tomorrow, given.clock()),
        await given.live("see-2", tomorrow, given.clock()),
    )
    await given.keep()
    assert await given.store.stale(tomorrow, 10) == ()
    assert await given.stored() == 2


async def test_before_midnight_the_keeper_keeps_the_next_date_too(given: Given) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1")])
    tomorrow = TODAY + dt.timedelta(days=1)
    given.clock.now = at("2026-03-10", 23)

    await given.keep()
    given.clock.now = at("2026-03-11", 0)

    assert await given.store.stale(tomorrow, 10) == ()
    assert await given.store.at_site(SITE, tomorrow, given.clock()) == (
        await given.live("see-1", tomorrow, given.clock()),
    )


async def test_a_license_suspended_marks_everyone_its_holder_supervises(given: Given) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1"), *enrolled("see-2")])
    await given.batch([(registered("see-other"), "2026-01-05")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)
    suspended = ev.LicenseSuspended(
        holder_id=SUPERVISOR,
        license_id="lic-standing",
        effective_on=D("2026-02-01"),
        reason="board order",
    )

    await given.batch([(suspended, "2026-03-10")])

    assert await given.store.stale(TODAY, 10) == ("see-1", "see-2")
    standings = await given.store.at_site(SITE, TODAY, given.clock())
    assert standings[0] == await given.live("see-1", TODAY, given.clock())
    assert standings[0].open_voids > 0


async def test_an_event_set_aside_marks_whom_it_names_and_their_view_says_it_is_incomplete(
    given: Given,
) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)
    (message,) = given.messages([(logged("see-1", "see-1-bad", "2026-03-02"), "2026-03-10")])
    record = Record("continuum.supervision.events", 0, 7)

    async with given.db.transaction() as conn:
        await standing_store.record_unapplied(
            conn, message, record, PermanentError("a figure no view can show")
        )

    assert await given.store.stale(TODAY, 10) == ("see-1",)
    (standing,) = await given.store.at_site(SITE, TODAY, given.clock())
    assert standing.incomplete
    assert standing == await given.live("see-1", TODAY, given.clock())


async def test_a_transfer_moves_the_standing_to_the_new_site_from_its_date(given: Given) -> None:
    await given.batch([*CREDENTIALS, *enrolled("see-1")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)
    moved = ev.SuperviseeTransferred(
        supervisee_id="see-1",
        from_site_id=SITE,
        to_site_id="site-dallas",
        effective_on=TODAY,
    )

    await given.batch([(moved, "2026-03-10")])

    assert await given.store.at_site(SITE, TODAY, given.clock()) == ()
    assert await given.store.sites(TODAY, given.clock()) == ("site-dallas",)
    await given.keep()
    (standing,) = await given.store.at_site("site-dallas", TODAY, given.clock())
    assert standing.site_id == "site-dallas"


async def test_a_sites_page_and_the_organizations_counts_agree_with_its_standings(
    given: Given,
) -> None:
    await given.batch(CREDENTIALS)
    await given.batch([*enrolled("see-1"), *enrolled("see-2"), *enrolled("see-3", "site-b")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)
    # One of them out of date: evaluated live, counted with the rest.
    await given.batch([(logged("see-2", "see-2-mar", "2026-03-09"), "2026-03-10")])
    now = given.clock()
    standings = await given.store.at_site(SITE, TODAY, now)

    first = await given.store.summaries_at_site(SITE, TODAY, now, limit=1)
    second = await given.store.summaries_at_site(SITE, TODAY, now, after=first.next_after)
    organization = await given.store.organization(TODAY, now)

    assert [s.supervisee_id for s in (*first.standings, *second.standings)] == ["see-1", "see-2"]
    assert (first.next_after, second.next_after) == ("see-1", None)
    assert second.standings[0].supervision_counted_minutes == 210
    levels = count_by_status(s.level for s in standings)
    assert first.by_status == levels
    other_track = await given.store.summaries_at_site(SITE, TODAY, now, tracks=("CA-AMFT",))
    assert (other_track.standings, other_track.by_status) == ((), levels)
    level = standings[1].level
    of_level = await given.store.summaries_at_site(SITE, TODAY, now, statuses=(level,))
    assert [s.supervisee_id for s in of_level.standings] == [
        s.supervisee_id for s in standings if s.level == level
    ]
    sites = organization.sites
    assert [(c.site_id, c.supervisees) for c in sites] == [(SITE, 2), ("site-b", 1)]
    assert sites[0].by_status == levels
    assert sites[0].open_voids == sum(s.open_voids for s in standings)
    assert sites[0].open_findings == sum(s.open_findings for s in standings)
    live = LiveStanding(SqlProjectedFacts(given.db), rule_packs())
    await assert_lists_agree(given.store, live, (SITE, "site-b"), TODAY, now)


async def test_the_verdict_list_pages_through_every_verdict_of_the_site_in_the_lists_order(
    given: Given,
) -> None:
    # No designation: each session is void; a session recorded a month late is a finding too.
    await given.batch([(LICENSED, "2015-01-02"), *enrolled("see-1"), *enrolled("see-2")])
    await given.batch([*enrolled("see-3", "site-b")])
    await given.keep()
    given.clock.now = at("2026-03-10", 13)
    await given.batch([(logged("see-2", "see-2-late", "2026-02-03"), "2026-03-10")])
    now = given.clock()
    expected = sorted(
        (
            (s.supervisee_id, v)
            for s in await given.store.at_site(SITE, TODAY, now)
            for v in s.verdicts
        ),
        key=lambda found: verdict_key(*found),
    )

    first = await given.store.verdicts(TODAY, now, filters=VerdictFilters(site_id=SITE), limit=3)
    rest = await given.store.verdicts(
        TODAY, now, filters=VerdictFilters(site_id=SITE), after=first.next_after
    )
    findings = await given.store.verdicts(
        TODAY, now, filters=VerdictFilters(severity="finding", resolved=False)
    )

    listed = [(x.supervisee_id, x.verdict) for x in (*first.verdicts, *rest.verdicts)]
    assert len(expected) > 3
    assert listed == expected
    assert rest.next_after is None
    live = LiveStanding(SqlProjectedFacts(given.db), rule_packs())
    await assert_lists_agree(given.store, live, (SITE, "site-b"), TODAY, now)
    assert [(x.supervisee_id, x.verdict.session_id) for x in findings.verdicts] == [
        ("see-2", "see-2-late")
    ]
