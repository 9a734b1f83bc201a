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
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from compliance.domain.engine import StatusLevel, SuperviseeEvaluation, Verdict
from compliance.domain.facts import UnappliedEvent


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


class StandingSource(Protocol):
    """Where the lists read standings from."""

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        """Every site that is some supervisee's home site at the end of `as_of`, by id."""
        ...

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        """The standing of every supervisee whose home site at the end of `as_of` is
        `site_id`, by supervisee id."""
        ...
