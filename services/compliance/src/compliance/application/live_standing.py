"""Standings computed live from the projected facts: any `as_of`, any `known_at`.

Every supervisee of a site is judged from one snapshot of the read model, so that a site's list
never mixes two states of the record, their facts read table by table for the whole site; what
is known is applied by the reader, the date by the engine, exactly as in one supervisee's view
(`evaluations_in`).
"""

from __future__ import annotations

import datetime as dt

from compliance.application.queries import FactsReader, ProjectedFacts, evaluations_in
from compliance.application.standing import (
    ListedFromStandings,
    Standing,
    standing_of,
)
from contracts.rulepacks.model import RulePacks

# How many of a site's supervisees are read per query of the site's list.
_PAGE = 500


async def supervisees_of_site(
    read: FactsReader, site_id: str, as_of: dt.date, known_at: dt.datetime
) -> list[str]:
    """Every supervisee whose home site at the end of `as_of` is `site_id`, by id."""
    ids: list[str] = []
    after: str | None = None
    while True:
        page = await read.supervisees_at_site(site_id, as_of, known_at, after=after, limit=_PAGE)
        ids.extend(page.supervisee_ids)
        if page.next_after is None:
            return ids
        after = page.next_after


class LiveStanding(ListedFromStandings):
    """A `StandingSource` that judges every supervisee from the facts, each time it is asked."""

    def __init__(self, facts: ProjectedFacts, packs: RulePacks) -> None:
        self._facts = facts
        self._packs = packs

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        async with self._facts.snapshot() as read:
            return await read.home_sites(as_of, known_at)

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        async with self._facts.snapshot() as read:
            ids = await supervisees_of_site(read, site_id, as_of, known_at)
            views = await evaluations_in(read, self._packs, ids, as_of, known_at)
        return tuple(standing_of(v.shown, site_id, v.unapplied) for v in views)
