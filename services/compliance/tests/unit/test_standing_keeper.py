"""The keeper of the materialized standing, on the service's clock: which dates it keeps, how it
works through what is out of date, and which source answers a view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from compliance.application.standing import (
    ListedFromStandings,
    Standing,
)
from compliance.application.standing_keeper import CurrentOrLive, StandingKeeper, dates_kept

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TWO_HOURS = dt.timedelta(hours=2)


def at(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour, minute), tzinfo=dt.UTC)


@dataclass
class InMemoryStandingStore:
    """Standings out of date per date; refreshing one brings it up to date."""

    out_of_date: dict[dt.date, set[str]]
    refreshed: list[tuple[dt.date, tuple[str, ...]]] = field(default_factory=list)
    forgotten_before: list[dt.date] = field(default_factory=list)

    async def stale(self, as_of: dt.date, limit: int) -> tuple[str, ...]:
        return tuple(sorted(self.out_of_date.get(as_of, set())))[:limit]

    async def refresh(self, supervisee_ids: tuple[str, ...], as_of: dt.date) -> int:
        self.refreshed.append((as_of, supervisee_ids))
        self.out_of_date[as_of] -= set(supervisee_ids)
        return len(supervisee_ids)

    async def forget_before(self, as_of: dt.date) -> int:
        self.forgotten_before.append(as_of)
        return 0


@dataclass
class Answering(ListedFromStandings):
    """A standing source that says it was asked."""

    name: str
    asked: list[str] = field(default_factory=list)

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        self.asked.append(self.name)
        return (self.name,)

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        self.asked.append(self.name)
        return ()


def test_the_current_date_is_kept_and_the_next_one_from_the_lead_before_midnight() -> None:
    assert dates_kept(at("2026-03-10", 21, 59), TWO_HOURS) == (D("2026-03-10"),)
    assert dates_kept(at("2026-03-10", 22), TWO_HOURS) == (D("2026-03-10"), D("2026-03-11"))
    assert dates_kept(at("2026-03-11", 0), TWO_HOURS) == (D("2026-03-11"),)


async def test_the_keeper_works_through_the_stale_in_batches_and_forgets_past_dates() -> None:
    today = D("2026-03-10")
    store = InMemoryStandingStore({today: {"see-1", "see-2", "see-3", "see-4", "see-5"}})

    run = await StandingKeeper(store, batch=2)(at("2026-03-10", 9))

    assert store.refreshed == [
        (today, ("see-1", "see-2")),
        (today, ("see-3", "see-4")),
        (today, ("see-5",)),
    ]
    assert run.refreshed == {today: 5}
    assert store.forgotten_before == [today]


async def test_before_midnight_the_keeper_also_keeps_the_next_date() -> None:
    today, tomorrow = D("2026-03-10"), D("2026-03-11")
    store = InMemoryStandingStore({today: {"see-1"}, tomorrow: {"see-1", "see-2"}})

    run = await StandingKeeper(store)(at("2026-03-10", 23))

    assert run.refreshed == {today: 1, tomorrow: 2}


def test_a_keeper_evaluates_at_least_one_supervisee_per_batch() -> None:
    with pytest.raises(ValueError, match="at least one"):
        StandingKeeper(InMemoryStandingStore({}), batch=0)


async def test_a_view_of_today_known_now_reads_the_materialized_one_any_other_the_facts() -> None:
    now = at("2026-03-10", 9)
    materialized, live = Answering("materialized"), Answering("live")
    source = CurrentOrLive(materialized, live, lambda: now)

    await source.at_site("site-a", D("2026-03-10"), now - dt.timedelta(seconds=2))
    await source.sites(D("2026-03-09"), now)
    await source.sites(D("2026-03-10"), at("2026-03-01", 9))
    await source.sites(D("2026-03-11"), now)

    assert materialized.asked == ["materialized"]
    assert live.asked == ["live", "live", "live"]


async def test_the_lists_reads_go_to_the_same_source_as_the_standings() -> None:
    now = at("2026-03-10", 9)
    materialized, live = Answering("materialized"), Answering("live")
    source = CurrentOrLive(materialized, live, lambda: now)

    await source.summaries_at_site("site-a", D("2026-03-10"), now)
    await source.organization(D("2026-03-10"), now)
    await source.verdicts(D("2026-03-09"), now)
    await source.summaries_at_site("site-a", D("2026-03-10"), at("2026-03-01", 9))

    # The organization and the verdicts across sites read the sites, then each site's standings.
    assert materialized.asked == ["materialized"] * 3
    assert live.asked == ["live"] * 3
