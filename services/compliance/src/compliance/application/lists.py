"""The rules' views of many supervisees: a site's list, the organization's overview, the verdicts
across sites, and one supervisor's standing.

Written once over a `StandingSource` (live from the facts, or materialized for the current date)
for the supervisees' standings, and over the projected facts for the rest (whether a site or a
supervisor is known, the referrals, the credentials). Each view says which events compliance
could not apply it lacks, as every other view does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from compliance.application.queries import (
    ProjectedFacts,
    View,
    evaluation_in,
    licenses_expiring,
    service_level_breaches,
)
from compliance.application.standing import (
    ListedVerdict,
    Standing,
    StandingSource,
    VerdictFilters,
    VerdictKey,
    count_by_status,
    lacking,
)
from compliance.domain.agreements import AgreementAsOf
from compliance.domain.engine import ReasonKind, StatusLevel, StatusReason
from compliance.domain.facts import UnappliedEvent
from compliance.domain.record import UnknownSite, UnknownSupervisor
from compliance.domain.referrals import ReferralAsOf
from compliance.domain.standing import Expiring, SupervisorStanding, expiring_within, standing_on
from contracts.rulepacks.model import RulePacks, Severity

# The rule kind whose open verdicts are evaluations overdue.
EVALUATION_CADENCE = "evaluation_cadence"
_CREDENTIAL_EXPIRING: ReasonKind = "credential_expiring"


# The overview's overdue evaluations are read in pages of this many verdicts.
_OVERDUE_PAGE = 1000


# --- one site --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteList:
    site_id: str
    # One page, by supervisee id, of those the filters keep.
    supervisees: tuple[Standing, ...]
    # The last id of the page when more follow; None on the last page.
    next_after: str | None
    # The whole site, over every page and filter.
    by_status: dict[StatusLevel, int]


async def site_list(
    source: StandingSource,
    facts: ProjectedFacts,
    site_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    statuses: Collection[StatusLevel] = (),
    tracks: Collection[str] = (),
    page_size: int = 100,
    after: str | None = None,
) -> View[SiteList]:
    """A site's supervisees (home site at the end of `as_of`), with their standing, filtered by
    status and track (none given: all), one page after the supervisee id `after`.

    UnknownSite when no supervisee was ever at the site as known at `known_at`."""
    if page_size < 1:
        raise ValueError(f"page_size is {page_size}; a page holds at least one supervisee")
    async with facts.snapshot() as read:
        if not await read.site_heard_of(site_id, known_at):
            raise UnknownSite(site_id, known_at)
    found = await source.summaries_at_site(
        site_id, as_of, known_at, statuses=statuses, tracks=tracks, after=after, limit=page_size
    )
    shown = SiteList(
        site_id=site_id,
        supervisees=found.standings,
        next_after=found.next_after,
        by_status=found.by_status,
    )
    return View(shown, as_of, known_at, found.unapplied)


# --- the organization ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteCounts:
    site_id: str
    supervisees: int
    by_status: dict[StatusLevel, int]
    open_voids: int
    open_findings: int
    # Referrals raised at the site that had missed a target by the view's date and were open.
    referrals_past_target: int


@dataclass(frozen=True, slots=True)
class OverdueEvaluation:
    supervisee_id: str
    site_id: str | None
    due_on: dt.date
    verdict_id: str


@dataclass(frozen=True, slots=True)
class OrganizationOverview:
    # By site id: every home site of a supervisee, and every site with a referral past target.
    sites: tuple[SiteCounts, ...]
    overdue_evaluations: tuple[OverdueEvaluation, ...]
    # Within the organization's warning period (policy.credential_expiring_within_days).
    expiring: Expiring
    # Open referrals past a target, at every site, oldest raised first.
    referrals_past_target: tuple[ReferralAsOf, ...]


async def _overdue_evaluations(
    source: StandingSource, as_of: dt.date, known_at: dt.datetime
) -> tuple[OverdueEvaluation, ...]:
    """The open verdicts of the evaluation cadence at every site, earliest due first."""
    overdue_only = VerdictFilters(rule_kinds=(EVALUATION_CADENCE,), resolved=False)
    overdue: list[OverdueEvaluation] = []
    after: VerdictKey | None = None
    while True:
        page = await source.verdicts(
            as_of, known_at, filters=overdue_only, after=after, limit=_OVERDUE_PAGE
        )
        overdue.extend(
            OverdueEvaluation(lv.supervisee_id, lv.site_id, lv.verdict.on, lv.verdict.verdict_id)
            for lv in page.verdicts
        )
        if page.next_after is None:
            return tuple(sorted(overdue, key=lambda o: (o.due_on, o.supervisee_id)))
        after = page.next_after


async def organization_overview(
    source: StandingSource,
    facts: ProjectedFacts,
    packs: RulePacks,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[OrganizationOverview]:
    totals = await source.organization(as_of, known_at)
    home_sites = {t.site_id: t for t in totals.sites}
    async with facts.snapshot() as read:
        referral_sites = await read.referral_sites(as_of, known_at)
    missing: list[Iterable[UnappliedEvent]] = [totals.unapplied]
    past_target: dict[str, tuple[ReferralAsOf, ...]] = {}
    for site_id in referral_sites:
        breached = await service_level_breaches(facts, site_id, as_of, known_at)
        past_target[site_id] = tuple(r for r in breached.shown if r.open)
        missing.append(breached.unapplied)
    counts: list[SiteCounts] = []
    for site_id in sorted({*home_sites, *(s for s, found in past_target.items() if found)}):
        at_site = home_sites.get(site_id)
        counts.append(
            SiteCounts(
                site_id=site_id,
                supervisees=at_site.supervisees if at_site else 0,
                by_status=at_site.by_status if at_site else count_by_status(()),
                open_voids=at_site.open_voids if at_site else 0,
                open_findings=at_site.open_findings if at_site else 0,
                referrals_past_target=len(past_target.get(site_id, ())),
            )
        )
    overdue = await _overdue_evaluations(source, as_of, known_at)
    expiring = await licenses_expiring(
        facts, as_of, packs.policy.credential_expiring_within_days, known_at
    )
    missing.append(expiring.unapplied)
    referrals = sorted(
        (r for found in past_target.values() for r in found),
        key=lambda r: (r.raised_on, r.referral_id),
    )
    shown = OrganizationOverview(
        sites=tuple(counts),
        overdue_evaluations=overdue,
        expiring=expiring.shown,
        referrals_past_target=tuple(referrals),
    )
    return View(shown, as_of, known_at, lacking(*missing))


# --- verdicts across sites -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerdictList:
    site_id: str | None
    # By supervisee id, then the day they concern.
    verdicts: tuple[ListedVerdict, ...]
    next_after: VerdictKey | None


async def verdict_list(
    source: StandingSource,
    facts: ProjectedFacts,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    site_id: str | None = None,
    tracks: Collection[str] = (),
    rule_ids: Collection[str] = (),
    severity: Severity | None = None,
    resolved: bool | None = None,
    page_size: int = 100,
    after: VerdictKey | None = None,
) -> View[VerdictList]:
    """Voids and findings of one site's supervisees (or every site's, `site_id` None), filtered
    by track, rule, severity and whether resolved (none given: all), one page after `after`."""
    if page_size < 1:
        raise ValueError(f"page_size is {page_size}; a page holds at least one verdict")
    if site_id is not None:
        async with facts.snapshot() as read:
            if not await read.site_heard_of(site_id, known_at):
                raise UnknownSite(site_id, known_at)
    found = await source.verdicts(
        as_of,
        known_at,
        filters=VerdictFilters(
            site_id=site_id,
            tracks=tuple(tracks),
            rule_ids=tuple(rule_ids),
            severity=severity,
            resolved=resolved,
        ),
        after=after,
        limit=page_size,
    )
    shown = VerdictList(site_id=site_id, verdicts=found.verdicts, next_after=found.next_after)
    return View(shown, as_of, known_at, found.unapplied)


# --- one supervisor --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Supervised:
    """A supervisee under one of the supervisor's agreements in force on the view's date."""

    supervisee_id: str
    agreement: AgreementAsOf
    track: str | None
    site_id: str | None
    level: StatusLevel


@dataclass(frozen=True, slots=True)
class SupervisorView:
    supervisor_id: str
    supervised: tuple[Supervised, ...]
    # The organization's cap of active supervisees per supervisor; None when it sets none.
    max_active_supervisees: int | None
    credentials: SupervisorStanding
    expiring: tuple[StatusReason, ...]

    @property
    def active_supervisees(self) -> int:
        return len({s.supervisee_id for s in self.supervised})

    @property
    def over_cap(self) -> bool:
        cap = self.max_active_supervisees
        return cap is not None and self.active_supervisees > cap


def _expiring_reasons(supervisor_id: str, expiring: Expiring) -> tuple[StatusReason, ...]:
    licenses = (
        StatusReason(
            kind=_CREDENTIAL_EXPIRING,
            detail=(
                f"{e.license.kind} license {e.license.number} expires on "
                f"{e.license.expires_on.isoformat()}, in {e.days_left} days"
            ),
            on=e.license.expires_on,
            supervisor_id=supervisor_id,
        )
        for e in expiring.licenses
    )
    designations = (
        StatusReason(
            kind=_CREDENTIAL_EXPIRING,
            detail=(
                f"{e.designation.designation} designation expires on "
                f"{e.designation.expires_on.isoformat() if e.designation.expires_on else ''}, "
                f"in {e.days_left} days"
            ),
            on=e.designation.expires_on,
            supervisor_id=supervisor_id,
        )
        for e in expiring.designations
    )
    return tuple(sorted((*licenses, *designations), key=lambda r: (r.on or dt.date.max, r.detail)))


async def supervisor_standing(
    facts: ProjectedFacts,
    packs: RulePacks,
    supervisor_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[SupervisorView]:
    """One supervisor on `as_of`: the supervisees under an agreement in force then (each judged
    by their board's rules), against the organization's cap, and the supervisor's licenses and
    designations standing that day, those expiring within the warning period named.

    UnknownSupervisor when no agreement names them and they hold no credential, as known at
    `known_at`."""
    within = packs.policy.credential_expiring_within_days
    async with facts.snapshot() as read:
        supervisee_ids = await read.supervised_by(supervisor_id, known_at)
        credentials = await read.credentials((supervisor_id,), known_at)
        if not supervisee_ids and not (credentials.licenses or credentials.designations):
            raise UnknownSupervisor(supervisor_id, known_at)
        credential_events = await read.unapplied(known_at, concerning={("holder", supervisor_id)})
        supervised: list[Supervised] = []
        missing: list[Iterable[UnappliedEvent]] = [credential_events]
        for supervisee_id in supervisee_ids:
            view = await evaluation_in(read, packs, supervisee_id, as_of, known_at)
            evaluation = view.shown
            registration = evaluation.record.registration
            in_force = [
                a
                for a in evaluation.record.agreements
                if a.supervisor_id == supervisor_id and a.covers(as_of)
            ]
            if in_force:
                missing.append(view.unapplied)
            supervised.extend(
                Supervised(
                    supervisee_id=supervisee_id,
                    agreement=a,
                    track=evaluation.track,
                    site_id=registration.home_site_id if registration else None,
                    level=evaluation.status.level,
                )
                for a in in_force
            )
    expiring = expiring_within(credentials.licenses, credentials.designations, as_of, within)
    shown = SupervisorView(
        supervisor_id=supervisor_id,
        supervised=tuple(supervised),
        max_active_supervisees=packs.policy.max_active_supervisees_per_supervisor,
        credentials=standing_on(
            supervisor_id, credentials.licenses, credentials.designations, as_of
        ),
        expiring=_expiring_reasons(supervisor_id, expiring),
    )
    return View(shown, as_of, known_at, lacking(*missing))
