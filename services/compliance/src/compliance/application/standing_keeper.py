"""The materialized standing kept up on the service's clock: each supervisee's standing for the
current date (and, before midnight, for the next one), re-evaluated when their facts change and
when the date moves on.

Why it is asynchronous. Evaluating a supervisee reads their whole record and judges every
window of it (tens to hundreds of milliseconds for a long record): done in the projector's
transaction it would hold the consumer far below the 500 events per second it must keep up with.
So the projector's transaction only marks what a batch touched (one statement, see
`compliance.adapters.standing_store`), and the keeper evaluates the marked supervisees later, in
batches, each from one read snapshot.

Why a view is never served stale. A standing is stored with the mark it was evaluated at and the
moment it was evaluated; the materialized source serves it only for its own date, to a view
known at or after that moment, while no later mark exists. Any other supervisee of the view is
evaluated live from the facts in the same snapshot as the stored rows are read, so an answer is
never older than the facts applied when it was asked.

Why the next date ahead of time. When the date changes every window that ended yesterday is
judged anew for everyone; waiting for midnight would leave every standing out of date at once,
and every view evaluating live until the keeper is through. From `ahead` before midnight the
keeper also keeps the next date's standing, so that at midnight it is already there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from compliance.application.standing import (
    OrganizationTotals,
    SiteSummaries,
    Standing,
    StandingSource,
    VerdictFilters,
    VerdictKey,
    VerdictPage,
)
from compliance.domain.engine import StatusLevel

log = logging.getLogger(__name__)

_DAY = dt.timedelta(days=1)


class StandingStore(Protocol):
    """Where the materialized standing is kept."""

    async def stale(self, as_of: dt.date, limit: int) -> tuple[str, ...]:
        """Supervisees whose standing for `as_of` is missing or older than their last mark."""
        ...

    async def refresh(self, supervisee_ids: tuple[str, ...], as_of: dt.date) -> int:
        """Evaluates these supervisees for `as_of` from one snapshot of the facts, as known at
        the moment it is taken, and keeps what it finds; returns how many it kept."""
        ...

    async def forget_before(self, as_of: dt.date) -> int:
        """Drops the standings of dates before `as_of`; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class KeeperRun:
    """What one run of the keeper did, per date kept."""

    refreshed: dict[dt.date, int]
    forgotten: int


def dates_kept(now: dt.datetime, ahead: dt.timedelta) -> tuple[dt.date, ...]:
    """The current date (UTC, as the views' empty as_of), and the next one from `ahead` before
    midnight."""
    today = now.astimezone(dt.UTC).date()
    midnight = dt.datetime.combine(today + _DAY, dt.time(), tzinfo=dt.UTC)
    return (today, today + _DAY) if now >= midnight - ahead else (today,)


class StandingKeeper:
    """A job of the service's clock (`infra.timers`): brings every stale standing of the dates
    kept up to date, `batch` supervisees per snapshot, and forgets past dates."""

    def __init__(
        self,
        store: StandingStore,
        *,
        ahead: dt.timedelta = dt.timedelta(hours=2),
        batch: int = 20,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch is {batch}; the keeper evaluates at least one supervisee")
        self._store = store
        self._ahead = ahead
        self._batch = batch
        self._clock = clock

    async def __call__(self, now: dt.datetime) -> KeeperRun:
        dates = dates_kept(now, self._ahead)
        forgotten = await self._store.forget_before(dates[0])
        refreshed: dict[dt.date, int] = {}
        for as_of in dates:
            refreshed[as_of] = 0
            while True:
                # A run that lasts past midnight stops keeping a date no longer current.
                if self._clock is not None and as_of < dates_kept(self._clock(), self._ahead)[0]:
                    break
                ids = await self._store.stale(as_of, self._batch)
                if not ids:
                    break
                refreshed[as_of] += await self._store.refresh(ids, as_of)
                if len(ids) < self._batch:
                    break
        if any(refreshed.values()):
            log.info("standing kept up: %s", {d.isoformat(): n for d, n in refreshed.items()})
        return KeeperRun(refreshed, forgotten)


class CurrentOrLive:
    """A `StandingSource` for every view: the materialized one for a date the keeper keeps,
    asked as known now (an empty known_at), the live one for any other date or moment, which
    only the facts answer (a stored standing is evaluated as known when it was kept)."""

    def __init__(
        self,
        materialized: StandingSource,
        live: StandingSource,
        clock: Callable[[], dt.datetime],
        *,
        ahead: dt.timedelta = dt.timedelta(hours=2),
        # How far before the moment it is answered a view still counts as known now: the
        # moment an empty known_at stands for is taken when the request arrives.
        now_within: dt.timedelta = dt.timedelta(minutes=1),
    ) -> None:
        self._materialized = materialized
        self._live = live
        self._clock = clock
        self._ahead = ahead
        self._now_within = now_within

    def source(self, as_of: dt.date, known_at: dt.datetime) -> StandingSource:
        now = self._clock()
        if as_of in dates_kept(now, self._ahead) and known_at >= now - self._now_within:
            return self._materialized
        return self._live

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        return await self.source(as_of, known_at).sites(as_of, known_at)

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        return await self.source(as_of, known_at).at_site(site_id, as_of, known_at)

    async def summaries_at_site(
        self,
        site_id: str,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        statuses: Collection[StatusLevel] = (),
        tracks: Collection[str] = (),
        after: str | None = None,
        limit: int = 100,
    ) -> SiteSummaries:
        return await self.source(as_of, known_at).summaries_at_site(
            site_id, as_of, known_at, statuses=statuses, tracks=tracks, after=after, limit=limit
        )

    async def organization(self, as_of: dt.date, known_at: dt.datetime) -> OrganizationTotals:
        return await self.source(as_of, known_at).organization(as_of, known_at)

    async def verdicts(
        self,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        filters: VerdictFilters | None = None,
        after: VerdictKey | None = None,
        limit: int = 100,
    ) -> VerdictPage:
        return await self.source(as_of, known_at).verdicts(
            as_of, known_at, filters=filters, after=after, limit=limit
        )
