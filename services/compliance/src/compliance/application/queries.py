"""The compliance views: read the projected facts as known at a moment, let the domain compute
the figures as of a date, and say when a view lacks an event compliance could not apply.

Every view takes both time axes (see compliance.domain.facts): `as_of`, the date it describes,
and `known_at`, the moment whose record it shows. The reader applies `known_at`; the domain
applies `as_of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from compliance.domain.agreements import agreements_as_of
from compliance.domain.engine import SuperviseeEvaluation, evaluate_supervisee
from compliance.domain.engine.inputs import Decisions
from compliance.domain.facts import Concern, ConcernKind, ReferralFact, UnappliedEvent
from compliance.domain.hours import HoursSummary, hours_as_of
from compliance.domain.record import (
    Credentials,
    SuperviseeFacts,
    SuperviseeRecord,
    UnknownSupervisee,
    record_as_of,
    supervisors_of,
)
from compliance.domain.referrals import ReferralAsOf, breached_as_of, open_as_of
from compliance.domain.sessions import Withheld
from compliance.domain.standing import Expiring, expiring_within
from contracts.rulepacks.model import RulePacks

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class SuperviseePage:
    """One page of a site's supervisees, by id; `next_after` continues it (None: the last)."""

    supervisee_ids: tuple[str, ...]
    next_after: str | None


class FactsReader(Protocol):
    """Reads of the projected facts, each as known at a moment (only what had been recorded by
    then)."""

    async def supervisee_facts(self, supervisee_id: str, known_at: dt.datetime) -> SuperviseeFacts:
        """Everything projected about one supervisee, of any date."""
        ...

    async def supervisees_facts(
        self, supervisee_ids: Collection[str], known_at: dt.datetime
    ) -> dict[str, SuperviseeFacts]:
        """`supervisee_facts` of many supervisees at once, by id."""
        ...

    async def decisions(
        self, supervisee_ids: Collection[str], known_at: dt.datetime
    ) -> dict[str, Decisions]:
        """What compliance officers had recorded of each of these supervisees: approved
        leaves and resolutions of verdicts (none recorded: empty decisions), by id."""
        ...

    async def referrals_at(
        self, site_id: str, raised_by: dt.date, known_at: dt.datetime
    ) -> list[ReferralFact]:
        """The site's referrals raised on or before a date, with every step since."""
        ...

    async def credentials(
        self, holder_ids: Collection[str] | None, known_at: dt.datetime
    ) -> Credentials:
        """The licenses and designations of these holders, or of everyone (None)."""
        ...

    async def unapplied(
        self,
        known_at: dt.datetime,
        *,
        concerning: Collection[Concern] = (),
        kinds: Collection[ConcernKind] = (),
    ) -> tuple[UnappliedEvent, ...]:
        """The events compliance could not apply that a view known at `known_at` lacks, among
        those naming one of `concerning` or anything of one of `kinds`."""
        ...

    async def supervisees_at_site(
        self,
        site_id: str,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        after: str | None = None,
        limit: int = 100,
    ) -> SuperviseePage:
        """The supervisees whose home site at the end of `as_of` is `site_id`, by id."""
        ...

    async def home_sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        """Every site that is some supervisee's home site at the end of `as_of` (after the
        transfers effective by then), by id."""
        ...

    async def site_heard_of(self, site_id: str, known_at: dt.datetime) -> bool:
        """Whether the site was some supervisee's home site, on any date, as known at
        `known_at` (registered there, or transferred to or from it)."""
        ...

    async def referral_sites(self, raised_by: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        """Every site with a referral raised on or before `raised_by`, by id."""
        ...

    async def supervised_by(self, supervisor_id: str, known_at: dt.datetime) -> tuple[str, ...]:
        """The supervisees any agreement with this supervisor names, of any date, by id."""
        ...


class ProjectedFacts(Protocol):
    """Where the projected facts are read from."""

    def snapshot(self) -> AbstractAsyncContextManager[FactsReader]:
        """Reads that all see the same committed state, though the projector commits in
        between: one view's, so that no view shows half of a batch."""
        ...


@dataclass(frozen=True, slots=True)
class View(Generic[V]):
    """What a view shows, on its two time axes, and the events it lacks: a view with any is
    incomplete, and says so rather than pass for whole."""

    shown: V
    as_of: dt.date
    known_at: dt.datetime
    unapplied: tuple[UnappliedEvent, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unapplied


def _concerning_supervisee(facts: SuperviseeFacts) -> set[Concern]:
    """What an event must name to concern a supervisee's view: them, or one of their sessions,
    agreements or evaluations."""
    return {
        ("supervisee", facts.supervisee_id),
        *(("session", s.session_id) for s in facts.sessions),
        *(("agreement", a.agreement_id) for a in facts.agreements),
        *(("evaluation", e.evaluation_id) for e in facts.evaluations),
    }


async def _lacking(
    facts: FactsReader,
    known: SuperviseeFacts,
    known_at: dt.datetime,
    also_concerning: Iterable[Concern] = (),
) -> tuple[UnappliedEvent, ...]:
    """What the supervisee's view lacks; UnknownSupervisee when compliance had heard nothing of
    them by `known_at`, not even an event naming them it could not apply."""
    concerning = _concerning_supervisee(known) | set(also_concerning)
    unapplied = await facts.unapplied(known_at, concerning=concerning)
    named = any(("supervisee", known.supervisee_id) in u.concerns for u in unapplied)
    if not known.heard_of and not named:
        raise UnknownSupervisee(known.supervisee_id, known_at)
    return unapplied


def withheld_by_rules(evaluation: SuperviseeEvaluation) -> dict[str, Withheld]:
    """Per session, the minutes the record counts and the board's rules do not, with the voids
    that withhold them (rule, source tags, why)."""
    withheld: dict[str, Withheld] = {}
    for session in evaluation.sessions:
        if session.excluded is not None or session.counted_minutes >= session.minutes:
            continue
        voids = [evaluation.verdict(v) for v in session.verdict_ids]
        detail = "; ".join(
            f"{v.rule_id} ({', '.join(v.src)}): {v.reason}" for v in voids if v.severity == "void"
        )
        withheld[session.session_id] = Withheld(
            minutes=session.minutes - session.counted_minutes,
            detail=detail or "not counted by the board's rules",
        )
    return withheld


async def supervisee_hours(
    facts: ProjectedFacts,
    packs: RulePacks,
    supervisee_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[HoursSummary]:
    """The supervision minutes that count by the board's rules, and every minute that does not
    with its reason."""
    async with facts.snapshot() as read:
        known = await read.supervisee_facts(supervisee_id, known_at)
        judged = await _judged(read, packs, known, as_of, known_at)
    summary = hours_as_of(
        known.sessions,
        as_of,
        agreements_as_of(known.agreements, as_of),
        withheld_by_rules(judged.shown),
    )
    return View(summary, as_of, known_at, judged.unapplied)


async def supervisee_record(
    facts: ProjectedFacts, supervisee_id: str, as_of: dt.date, known_at: dt.datetime
) -> View[SuperviseeRecord]:
    async with facts.snapshot() as read:
        known = await read.supervisee_facts(supervisee_id, known_at)
        supervisors = supervisors_of(known)
        # The record shows the supervisors' licenses: an unapplied license event concerns it.
        unapplied = await _lacking(read, known, known_at, (("holder", s) for s in supervisors))
        credentials = await read.credentials(supervisors, known_at)
    return View(record_as_of(known, credentials, as_of), as_of, known_at, unapplied)


async def supervisee_evaluation(
    facts: ProjectedFacts,
    packs: RulePacks,
    supervisee_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[SuperviseeEvaluation]:
    """One supervisee judged by their board's rules at the end of `as_of`, from what had been
    recorded by `known_at`: their facts, their supervisors' credentials and the officers'
    decisions, all read in one snapshot."""
    async with facts.snapshot() as read:
        return await evaluation_in(read, packs, supervisee_id, as_of, known_at)


async def evaluation_in(
    read: FactsReader,
    packs: RulePacks,
    supervisee_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[SuperviseeEvaluation]:
    """`supervisee_evaluation` within a snapshot already open (a site's view evaluates many)."""
    known = await read.supervisee_facts(supervisee_id, known_at)
    return await _judged(read, packs, known, as_of, known_at)


async def evaluations_in(
    read: FactsReader,
    packs: RulePacks,
    supervisee_ids: Sequence[str],
    as_of: dt.date,
    known_at: dt.datetime,
) -> list[View[SuperviseeEvaluation]]:
    """`evaluation_in` of many supervisees, in the order given, their facts, their supervisors'
    credentials and the events lacking read once for all of them."""
    everyone = await read.supervisees_facts(supervisee_ids, known_at)
    concerning = {i: _concerning_supervisee(everyone[i]) for i in supervisee_ids}
    supervisors = {i: supervisors_of(everyone[i]) for i in supervisee_ids}
    for i in supervisee_ids:
        concerning[i] |= {("holder", s) for s in supervisors[i]}
    every_concern: set[Concern] = set().union(*concerning.values())
    unapplied = await read.unapplied(known_at, concerning=every_concern)
    every_supervisor: set[str] = set().union(*supervisors.values())
    credentials = await read.credentials(every_supervisor, known_at)
    decisions = await read.decisions(supervisee_ids, known_at)
    views = []
    for i in supervisee_ids:
        known = everyone[i]
        lacking = tuple(u for u in unapplied if concerning[i].intersection(u.concerns))
        if not known.heard_of and not any(("supervisee", i) in u.concerns for u in lacking):
            raise UnknownSupervisee(i, known_at)
        decided = decisions[i]
        evaluation = evaluate_supervisee(
            known,
            credentials,
            packs,
            as_of,
            leaves=decided.leaves,
            resolutions=decided.resolutions,
        )
        views.append(View(evaluation, as_of, known_at, lacking))
    return views


async def _judged(
    read: FactsReader,
    packs: RulePacks,
    known: SuperviseeFacts,
    as_of: dt.date,
    known_at: dt.datetime,
) -> View[SuperviseeEvaluation]:
    supervisors = supervisors_of(known)
    unapplied = await _lacking(read, known, known_at, (("holder", s) for s in supervisors))
    credentials = await read.credentials(supervisors, known_at)
    decided = (await read.decisions((known.supervisee_id,), known_at))[known.supervisee_id]
    evaluation = evaluate_supervisee(
        known,
        credentials,
        packs,
        as_of,
        leaves=decided.leaves,
        resolutions=decided.resolutions,
    )
    return View(evaluation, as_of, known_at, unapplied)


async def _referral_view(
    facts: ProjectedFacts, site_id: str, as_of: dt.date, known_at: dt.datetime
) -> tuple[list[ReferralFact], tuple[UnappliedEvent, ...]]:
    async with facts.snapshot() as read:
        at_site = await read.referrals_at(site_id, as_of, known_at)
        concerning: set[Concern] = {
            ("site", site_id),
            *(("referral", r.referral_id) for r in at_site),
        }
        unapplied = await read.unapplied(known_at, concerning=concerning)
    ours = {r.referral_id for r in at_site}
    # A referral event concerns the site's view if it names one of its referrals, or a referral
    # and this site (one that was raised here and could not be applied); a session at the site
    # does not.
    lacking = tuple(
        u
        for u in unapplied
        if any(
            kind == "referral" and (i in ours or ("site", site_id) in u.concerns)
            for kind, i in u.concerns
        )
    )
    return at_site, lacking


async def open_referrals(
    facts: ProjectedFacts, site_id: str, as_of: dt.date, known_at: dt.datetime
) -> View[tuple[ReferralAsOf, ...]]:
    at_site, unapplied = await _referral_view(facts, site_id, as_of, known_at)
    return View(open_as_of(at_site, as_of), as_of, known_at, unapplied)


async def service_level_breaches(
    facts: ProjectedFacts, site_id: str, as_of: dt.date, known_at: dt.datetime
) -> View[tuple[ReferralAsOf, ...]]:
    at_site, unapplied = await _referral_view(facts, site_id, as_of, known_at)
    return View(breached_as_of(at_site, as_of), as_of, known_at, unapplied)


async def licenses_expiring(
    facts: ProjectedFacts, as_of: dt.date, within_days: int, known_at: dt.datetime
) -> View[Expiring]:
    async with facts.snapshot() as read:
        credentials = await read.credentials(None, known_at)
        # Every holder's licenses are in this view: any unapplied credential event concerns it.
        unapplied = await read.unapplied(known_at, kinds=("holder", "license"))
    expiring = expiring_within(credentials.licenses, credentials.designations, as_of, within_days)
    return View(expiring, as_of, known_at, unapplied)


async def site_supervisees(
    facts: ProjectedFacts,
    site_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    after: str | None = None,
    limit: int = 100,
) -> SuperviseePage:
    """One page of the supervisees whose home site at the end of `as_of` is `site_id`."""
    async with facts.snapshot() as read:
        return await read.supervisees_at_site(site_id, as_of, known_at, after=after, limit=limit)
