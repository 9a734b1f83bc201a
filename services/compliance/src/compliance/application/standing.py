"""Each supervisee's standing as the lists show it (a site's supervisees, the organization's
counts, the verdicts across sites), and where it comes from.

A standing is what the engine says of one supervisee on a date, reduced to what a list needs:
status, counts and the verdicts. It comes from a `StandingSource`: computed live from the facts
(any `as_of` and `known_at`), or read from the standing the projector keeps materialized for the
current date. Both give the same standing for the same supervisee, date and record; the lists
are written once, over the protocol.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, get_args

from compliance.domain.engine import StatusLevel, SuperviseeEvaluation, Verdict
from compliance.domain.facts import UnappliedEvent
from contracts.rulepacks.model import Severity

STATUS_LEVELS: tuple[StatusLevel, ...] = get_args(StatusLevel)


@dataclass(frozen=True, slots=True)
class Standing:
    """One supervisee's standing at the end of `as_of`, as known at the view's moment."""

    supervisee_id: str
    site_id: str | None
    track: str | None
    level: StatusLevel
    open_voids: int
    open_findings: int
    resolved_verdicts: int
    supervision_counted_minutes: Decimal
    # None: the board's figure is not known.
    supervision_required_minutes: int | None
    projected_completion: dt.date | None
    # Every verdict, resolved or not, by the day it concerns.
    verdicts: tuple[Verdict, ...]
    # The events compliance could not apply that this supervisee's view lacks.
    unapplied: tuple[UnappliedEvent, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.unapplied)


def standing_of(
    evaluation: SuperviseeEvaluation,
    site_id: str | None,
    unapplied: tuple[UnappliedEvent, ...] = (),
) -> Standing:
    """The standing a list shows of one evaluation."""
    open_verdicts = evaluation.open_verdicts
    supervision = evaluation.progress.supervision
    return Standing(
        supervisee_id=evaluation.supervisee_id,
        site_id=site_id,
        track=evaluation.track,
        level=evaluation.status.level,
        open_voids=sum(1 for v in open_verdicts if v.severity == "void"),
        open_findings=sum(1 for v in open_verdicts if v.severity == "finding"),
        resolved_verdicts=len(evaluation.verdicts) - len(open_verdicts),
        supervision_counted_minutes=supervision.counted_minutes,
        supervision_required_minutes=supervision.required_minutes,
        projected_completion=evaluation.progress.projected_completion,
        verdicts=evaluation.verdicts,
        unapplied=unapplied,
    )


def lacking(*groups: Iterable[UnappliedEvent]) -> tuple[UnappliedEvent, ...]:
    """Every unapplied event of the groups once, oldest recorded first."""
    seen: dict[str, UnappliedEvent] = {}
    for group in groups:
        for event in group:
            seen.setdefault(event.event_key, event)
    return tuple(sorted(seen.values(), key=lambda u: (u.recorded_at, u.event_key)))


def count_by_status(levels: Iterable[StatusLevel]) -> dict[StatusLevel, int]:
    """Supervisees per status, every status listed (zeros too), in the order of StatusLevel."""
    counts = dict.fromkeys(STATUS_LEVELS, 0)
    for level in levels:
        counts[level] += 1
    return counts


# --- what the lists read ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteSummaries:
    """One page of a site's standings (their verdicts left out when read from the store: the
    page shows counts, the verdicts have their own list), and the whole site's counts."""

    standings: tuple[Standing, ...]
    # The last id of the page when more follow; None on the last page.
    next_after: str | None
    # The whole site, over every page and filter, every status listed.
    by_status: dict[StatusLevel, int]
    # What the views of the whole site lack.
    unapplied: tuple[UnappliedEvent, ...]


@dataclass(frozen=True, slots=True)
class SiteTotals:
    """One home site's supervisees by status, and their open verdicts."""

    site_id: str
    by_status: dict[StatusLevel, int]
    open_voids: int
    open_findings: int

    @property
    def supervisees(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class OrganizationTotals:
    # By site id, every home site of a supervisee.
    sites: tuple[SiteTotals, ...]
    # What the views of every site lack.
    unapplied: tuple[UnappliedEvent, ...]


@dataclass(frozen=True, slots=True)
class VerdictFilters:
    """Which verdicts a list shows: of the supervisees at a site (None: at any), of these
    tracks, rules and rule kinds (empty: any), of a severity, resolved or open (None: both)."""

    site_id: str | None = None
    tracks: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    rule_kinds: tuple[str, ...] = ()
    severity: Severity | None = None
    resolved: bool | None = None

    def admits_site(self, site_id: str | None) -> bool:
        return site_id is not None and (self.site_id is None or site_id == self.site_id)

    def admits(self, verdict: Verdict) -> bool:
        return (
            (not self.tracks or verdict.track in self.tracks)
            and (not self.rule_ids or verdict.rule_id in self.rule_ids)
            and (not self.rule_kinds or verdict.rule_kind in self.rule_kinds)
            and (self.severity is None or verdict.severity == self.severity)
            and (self.resolved is None or verdict.resolved == self.resolved)
        )


# Where a page of verdicts ends, in the lists' order: (supervisee id, day concerned, rule id,
# verdict id).
VerdictKey = tuple[str, str, str, str]


def verdict_key(supervisee_id: str, verdict: Verdict) -> VerdictKey:
    return (supervisee_id, verdict.on.isoformat(), verdict.rule_id, verdict.verdict_id)


@dataclass(frozen=True, slots=True)
class ListedVerdict:
    supervisee_id: str
    # The supervisee's home site at the end of the view's date.
    site_id: str | None
    verdict: Verdict

    @property
    def key(self) -> VerdictKey:
        return verdict_key(self.supervisee_id, self.verdict)


@dataclass(frozen=True, slots=True)
class VerdictPage:
    # By supervisee id, then the day they concern.
    verdicts: tuple[ListedVerdict, ...]
    # None: the last page.
    next_after: VerdictKey | None
    # What the views of the supervisees the filters' sites hold lack.
    unapplied: tuple[UnappliedEvent, ...]


# --- the lists' reads over standings in memory -----------------------------------------------


def page_of(
    standings: Iterable[Standing],
    *,
    statuses: Collection[StatusLevel] = (),
    tracks: Collection[str] = (),
    after: str | None = None,
    limit: int = 100,
) -> tuple[tuple[Standing, ...], str | None]:
    """The standings the filters keep, by supervisee id after `after`, at most `limit`, and
    the last id when more follow."""
    kept = sorted(
        (
            s
            for s in standings
            if (not statuses or s.level in statuses)
            and (not tracks or s.track in tracks)
            and (after is None or s.supervisee_id > after)
        ),
        key=lambda s: s.supervisee_id,
    )
    page = tuple(kept[:limit])
    return page, page[-1].supervisee_id if len(kept) > limit else None


def verdicts_of(
    standings: Iterable[Standing], filters: VerdictFilters, after: VerdictKey | None
) -> list[ListedVerdict]:
    """The verdicts of these standings the filters keep, after `after`, in the lists' order."""
    listed = (
        ListedVerdict(s.supervisee_id, s.site_id, v)
        for s in standings
        if filters.admits_site(s.site_id)
        for v in s.verdicts
        if filters.admits(v)
    )
    return sorted((lv for lv in listed if after is None or lv.key > after), key=lambda lv: lv.key)


def _check_limit(limit: int, what: str) -> None:
    if limit < 1:
        raise ValueError(f"limit is {limit}; a page holds at least one {what}")


class SiteStandings(Protocol):
    """What the lists' reads are answered from when a source has nothing faster."""

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]: ...

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]: ...


async def summaries_from(
    source: SiteStandings,
    site_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    statuses: Collection[StatusLevel] = (),
    tracks: Collection[str] = (),
    after: str | None = None,
    limit: int = 100,
) -> SiteSummaries:
    """`StandingSource.summaries_at_site` over every standing of the site."""
    _check_limit(limit, "supervisee")
    standings = await source.at_site(site_id, as_of, known_at)
    page, next_after = page_of(
        standings, statuses=statuses, tracks=tracks, after=after, limit=limit
    )
    return SiteSummaries(
        standings=page,
        next_after=next_after,
        by_status=count_by_status(s.level for s in standings),
        unapplied=lacking(*(s.unapplied for s in standings)),
    )


async def organization_from(
    source: SiteStandings, as_of: dt.date, known_at: dt.datetime
) -> OrganizationTotals:
    """`StandingSource.organization` over every standing of every site."""
    totals: list[SiteTotals] = []
    unapplied: list[Iterable[UnappliedEvent]] = []
    for site_id in await source.sites(as_of, known_at):
        standings = await source.at_site(site_id, as_of, known_at)
        if not standings:
            continue
        unapplied.extend(s.unapplied for s in standings)
        totals.append(
            SiteTotals(
                site_id=site_id,
                by_status=count_by_status(s.level for s in standings),
                open_voids=sum(s.open_voids for s in standings),
                open_findings=sum(s.open_findings for s in standings),
            )
        )
    return OrganizationTotals(tuple(totals), lacking(*unapplied))


async def verdicts_from(
    source: SiteStandings,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    filters: VerdictFilters | None = None,
    after: VerdictKey | None = None,
    limit: int = 100,
) -> VerdictPage:
    """`StandingSource.verdicts` over every standing of the filters' sites."""
    _check_limit(limit, "verdict")
    chosen = filters or VerdictFilters()
    sites = (chosen.site_id,) if chosen.site_id is not None else await source.sites(as_of, known_at)
    standings = [s for site in sites for s in await source.at_site(site, as_of, known_at)]
    listed = verdicts_of(standings, chosen, after)
    page = tuple(listed[:limit])
    return VerdictPage(
        verdicts=page,
        next_after=page[-1].key if len(listed) > limit else None,
        unapplied=lacking(*(s.unapplied for s in standings)),
    )


# --- where they come from --------------------------------------------------------------------


class ListedFromStandings:
    """The lists' reads of a source that has nothing faster: its standings, read per site and
    filtered, counted and paged in memory (`summaries_from`, `organization_from`,
    `verdicts_from`). A source gives `sites` and `at_site`; this gives the rest."""

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        raise NotImplementedError

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        raise NotImplementedError

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
        return await summaries_from(
            self,
            site_id,
            as_of,
            known_at,
            statuses=statuses,
            tracks=tracks,
            after=after,
            limit=limit,
        )

    async def organization(self, as_of: dt.date, known_at: dt.datetime) -> OrganizationTotals:
        return await organization_from(self, as_of, known_at)

    async def verdicts(
        self,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        filters: VerdictFilters | None = None,
        after: VerdictKey | None = None,
        limit: int = 100,
    ) -> VerdictPage:
        return await verdicts_from(self, as_of, known_at, filters=filters, after=after, limit=limit)


class StandingSource(SiteStandings, Protocol):
    """Where the lists read standings from.

    The three list-shaped reads say what a list shows, so that a source able to answer them
    without every standing's verdicts (the materialized one, in SQL) does; `summaries_from`,
    `organization_from` and `verdicts_from` answer them over `at_site` for any other."""

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        """Every site that is some supervisee's home site at the end of `as_of`, by id."""
        ...

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        """The standing of every supervisee whose home site at the end of `as_of` is
        `site_id`, by supervisee id."""
        ...

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
        """A page of the site's standings (by supervisee id, after `after`), only those of
        `statuses` and `tracks` when given (none: all), with the whole site's counts by status
        and what its views lack. A standing's verdicts may be left out."""
        ...

    async def organization(self, as_of: dt.date, known_at: dt.datetime) -> OrganizationTotals:
        """Every home site's counts by status and open verdicts, by site id."""
        ...

    async def verdicts(
        self,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        filters: VerdictFilters | None = None,
        after: VerdictKey | None = None,
        limit: int = 100,
    ) -> VerdictPage:
        """A page of the verdicts the filters keep of the supervisees at a site (or at any),
        by supervisee id, then the day they concern, rule and verdict id."""
        ...
