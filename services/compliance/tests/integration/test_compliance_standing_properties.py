"""A property of the materialized standing, against the real SQLite read model: whatever the
facts, however they arrive in batches and whenever the keeper runs in between, a site's standings
read from the materialized source are those computed live from the same facts, and so are the
lists' pages and counts."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compliance.adapters import read_model, standing_store
from compliance.adapters.read_model import Projector, SqlProjectedFacts
from compliance.adapters.standing_store import SqlStandingStore, mark_touched
from compliance.application.live_standing import LiveStanding
from compliance.application.queries import site_supervisees, supervisee_evaluation
from compliance.application.standing import Standing, standing_of
from compliance.application.standing_keeper import StandingKeeper
from contracts import events as ev
from contracts.rulepacks.loader import rule_packs
from infra.db import Database
from infra.inbox import first_deliveries
from infra.messaging.cloudevents import IncomingEvent
from services.compliance.tests.integration.standing_given import (
    CREDENTIALS,
    SUPERVISOR,
    Clock,
    assert_lists_agree,
    at,
    logged,
    message,
    registered,
    signed,
)

pytestmark = pytest.mark.integration

D = dt.date.fromisoformat
SITES = ("site-austin", "site-dallas")
NOW = at("2026-03-31", 13)
TODAY = NOW.date()
FIRST = D("2026-01-05")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[ev.EventContract, dt.date]]:
    """Credentials, then a few supervisees each with sessions (some recorded late, some
    voided), maybe a transfer, maybe the supervisor's license suspended: each with the day it
    was recorded."""
    events: list[tuple[ev.EventContract, dt.date]] = [(e, D(day)) for e, day in CREDENTIALS]
    for n in range(draw(st.integers(1, 3))):
        see = f"see-{n}"
        home = draw(st.sampled_from(SITES))
        events += [(registered(see, home), FIRST), (signed(see, home), FIRST)]
        for s in range(draw(st.integers(0, 5))):
            held = FIRST + dt.timedelta(days=draw(st.integers(1, 84)))
            late = dt.timedelta(days=draw(st.sampled_from((0, 0, 3, 20))))
            session = logged(
                see, f"{see}-s{s}", held.isoformat(), draw(st.sampled_from((45, 60, 90)))
            )
            events.append((session, min(held + late, TODAY)))
            if draw(st.booleans()) and s % 3 == 2:
                void = ev.SessionVoided(
                    session_id=session.session_id,
                    supervisee_ids=(see,),
                    date=held,
                    reason="logged twice",
                    voided_by=SUPERVISOR,
                )
                events.append((void, TODAY))
        if draw(st.booleans()):
            moved = ev.SuperviseeTransferred(
                supervisee_id=see,
                from_site_id=home,
                to_site_id=SITES[1 - SITES.index(home)],
                effective_on=FIRST + dt.timedelta(days=draw(st.integers(10, 90))),
            )
            events.append((moved, TODAY))
    if draw(st.booleans()):
        suspended = ev.LicenseSuspended(
            holder_id=SUPERVISOR,
            license_id="lic-standing",
            effective_on=FIRST + dt.timedelta(days=draw(st.integers(20, 80))),
            reason="board order",
        )
        events.append((suspended, TODAY))
    return events


async def _live(db: Database, site_id: str) -> tuple[Standing, ...]:
    """The site's standings computed from the facts: its supervisees, each evaluated."""
    facts = SqlProjectedFacts(db)
    page = await site_supervisees(facts, site_id, TODAY, NOW, limit=500)
    standings = []
    for supervisee_id in page.supervisee_ids:
        view = await supervisee_evaluation(facts, rule_packs(), supervisee_id, TODAY, NOW)
        standings.append(standing_of(view.shown, site_id, view.unapplied))
    return tuple(standings)


async def _apply(db: Database, projector: Projector, batch: list[IncomingEvent]) -> None:
    async with db.transaction() as conn:
        new = await first_deliveries(conn, "continuum.compliance", (e.event_id for e in batch))
        await projector.apply(conn, [e for e in batch if e.event_id in new])


_databases = itertools.count()


@settings(
    max_examples=8,
    # Each example migrates and feeds a database of its own: shrinking one would take minutes.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    keeps=st.lists(st.booleans(), min_size=4, max_size=4),
)
async def test_the_standing_is_the_same_read_materialized_as_computed_live(
    tmp_path: Path,
    history: list[tuple[ev.EventContract, dt.date]],
    cuts: list[int],
    keeps: list[bool],
) -> None:
    db = Database.from_url(
        f"sqlite:///{tmp_path}/standing-{next(_databases)}.sqlite",
        (*read_model.MIGRATIONS, *standing_store.MIGRATIONS),
    )
    await db.migrate()
    clock = Clock(NOW)
    store = SqlStandingStore(db, rule_packs(), clock)
    keeper = StandingKeeper(store, clock=clock)
    projector = Projector(after_apply=mark_touched)
    messages = [
        message(e, dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)) for e, day in history
    ]
    try:
        # In batches of the drawn sizes, the keeper running after those the draw says.
        start = 0
        for size, keep in itertools.zip_longest(cuts, keeps, fillvalue=None):
            if size is None:
                break
            await _apply(db, projector, messages[start : start + size])
            start += size
            if keep:
                await keeper(clock())
        await _apply(db, projector, messages[start:])
        if keeps[-1]:
            await keeper(clock())

        occupied = []
        for site_id in SITES:
            live = await _live(db, site_id)
            assert await store.at_site(site_id, TODAY, NOW) == live
            occupied += [site_id] if live else []
        assert await store.sites(TODAY, NOW) == tuple(occupied)
        live_source = LiveStanding(SqlProjectedFacts(db), rule_packs())
        await assert_lists_agree(store, live_source, SITES, TODAY, NOW)
    finally:
        await db.dispose()
