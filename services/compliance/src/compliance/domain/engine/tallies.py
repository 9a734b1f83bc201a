"""What a window holds, and what of it counts: a tally per (window, site).

A tally is the whole input of a window rule: its sessions (each with the minutes that still
count), its practice (recorded and counted, direct and indirect), its days of approved leave,
the view's date. A rule reads nothing else, so a materialized projection can keep tallies per
(supervisee, window, site) and re-run only the rules of the windows an event touched.

`span` None is the program so far: every session and every week of practice up to the view's
date, which the cumulative rules (shares, ratios over the program) judge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from math import lcm

from pydantic import BaseModel, ConfigDict

from compliance.domain.engine.inputs import ApprovedLeave
from compliance.domain.engine.record import PracticeSums, Record, SessionEntry
from compliance.domain.engine.verdicts import WindowRef, to_decimal
from compliance.domain.engine.windows import Span
from contracts.rulepacks.model import SessionFormat, SessionModality, SupervisionWeights

_ALL_FORMATS: tuple[SessionFormat, ...] = ("individual", "triadic", "group")


class Tally:
    """One window (at one site, or over all of them), or the program so far (`span` None).

    Read lazily and kept: a rule that reads only the sessions never sums the practice. A tally
    is read while nothing changes what counts in it; a void applied after that calls for a
    new tally.
    """

    __slots__ = (
        "_before",
        "_leaves",
        "_practice",
        "_record",
        "_sessions",
        "_weighted",
        "as_of",
        "site_id",
        "span",
    )

    def __init__(
        self,
        record: Record,
        span: Span | None,
        site_id: str | None = None,
        leaves: Sequence[ApprovedLeave] = (),
        before: Span | None = None,
    ) -> None:
        self.span = span
        self.site_id = site_id
        self.as_of = record.as_of
        self._record = record
        self._leaves = leaves
        self._before = before
        self._sessions: list[SessionEntry] | None = None
        self._practice: PracticeSums | None = None
        self._weighted: tuple[SupervisionWeights, Fraction | int] | None = None

    @property
    def _first(self) -> dt.date:
        return self.span.start if self.span is not None else self._record.practice.origin

    @property
    def _last(self) -> dt.date:
        return self.span.end if self.span is not None else self.as_of

    @property
    def sessions(self) -> list[SessionEntry]:
        """The sessions dated in the window (at the site), counted or not, in the order held."""
        if self._sessions is None:
            if self.span is None:
                self._sessions = list(self._record.sessions)
            else:
                self._sessions = self._record.sessions_between(
                    self.span.start, self.span.end, self.site_id
                )
        return self._sessions

    @property
    def practice(self) -> PracticeSums:
        if self._practice is None:
            self._practice = self._record.practice.sums(self._first, self._last, self.site_id)
        return self._practice

    @property
    def practice_event_ids(self) -> tuple[str, ...]:
        records = self._record.practice.records_between(self._first, self._last, self.site_id)
        return tuple(r.source_event_id for r in records)

    @property
    def leaves(self) -> tuple[ApprovedLeave, ...]:
        """The approved leaves overlapping the window."""
        span = self.span
        if not self._leaves:
            return ()
        if span is None:
            return tuple(self._leaves)
        return tuple(lv for lv in self._leaves if lv.start <= span.end and lv.end >= span.start)

    @property
    def leave_days(self) -> int:
        """Days of the window covered by approved leave."""
        if self.span is None or not self._leaves:
            return 0
        return _covered_days(self.leaves, self.span)

    @property
    def practised_before(self) -> bool:
        """Whether the supervisee practised in the window just before: a running window's
        practice is often recorded only after its weeks end."""
        before = self._before
        if before is None:
            return False
        return self._record.practice.sums(before.start, before.end, self.site_id).any

    @property
    def supervised(self) -> bool:
        """Whether an agreement (at the site) covers any day of the window."""
        span = self.span
        return any(
            (self.site_id is None or a.site_id == self.site_id)
            and (span is None or (a.start_date <= span.end and a.last_day >= span.start))
            for a in self._record.agreements
        )

    @property
    def running(self) -> bool:
        return self.span is not None and self.span.running_on(self.as_of)

    @property
    def days_left(self) -> int:
        return self.span.days_left(self.as_of) if self.span is not None else 0

    @property
    def practised(self) -> bool:
        return self.practice.any

    def counted(
        self,
        formats: Iterable[SessionFormat] = _ALL_FORMATS,
        modality: SessionModality | None = None,
    ) -> int:
        """Minutes still counting, of these formats (and this modality)."""
        chosen = formats if isinstance(formats, tuple) else tuple(formats)
        return sum(
            s.countable
            for s in self.sessions
            if s.format in chosen and (modality is None or s.modality == modality)
        )

    def weighted(self, weights: SupervisionWeights) -> Fraction | int:
        """Counted minutes weighted by format (CA: an hour of group is half a unit)."""
        known = self._weighted
        if known is not None and known[0] is weights:
            return known[1]
        factors, denominator = _weights(weights)
        individual = triadic = group = 0
        for s in self.sessions:
            if s.format == "individual":
                individual += s.countable
            elif s.format == "group":
                group += s.countable
            else:
                triadic += s.countable
        total = individual * factors[0] + triadic * factors[1] + group * factors[2]
        weighted = total if denominator == 1 else Fraction(total, denominator)
        self._weighted = (weights, weighted)
        return weighted

    def counting_sessions(self) -> list[SessionEntry]:
        return [s for s in self.sessions if s.countable > 0]

    def evidence(self) -> tuple[str, ...]:
        """The events the tally rests on: its sessions', then its practice records'."""
        ids: list[str] = []
        for s in self.sessions:
            ids.extend(s.source_event_ids)
        ids.extend(self.practice_event_ids)
        return tuple(dict.fromkeys(ids))

    def on_leave(self, min_leave_days: int = 0) -> bool:
        """Whether approved leave (each of at least `min_leave_days`) covers at least half of the
        window's days."""
        if self.span is None or not self._leaves:
            return False
        long_enough = (lv for lv in self.leaves if lv.days >= min_leave_days)
        return _covered_days(long_enough, self.span) * 2 >= self.span.days


# The weights of the packs loaded, by identity: a pack's weights are the same object for every
# tally, and hashing a model to find them would cost more than weighing.
_WEIGHTS: dict[int, tuple[SupervisionWeights, tuple[int, int, int], int]] = {}


def _weights(weights: SupervisionWeights) -> tuple[tuple[int, int, int], int]:
    """The weights over one common denominator, so that weighing stays in integers."""
    known = _WEIGHTS.get(id(weights))
    if known is not None and known[0] is weights:
        return known[1], known[2]
    fractions = (weights.of("individual"), weights.of("triadic"), weights.of("group"))
    denominator = lcm(*(f.denominator for f in fractions))
    factors = tuple(f.numerator * (denominator // f.denominator) for f in fractions)
    as_ints = (factors[0], factors[1], factors[2])
    if len(_WEIGHTS) > 1024:
        _WEIGHTS.clear()
    _WEIGHTS[id(weights)] = (weights, as_ints, denominator)
    return as_ints, denominator


def _covered_days(leaves: Iterable[ApprovedLeave], span: Span) -> int:
    """Days of the span covered by at least one leave."""
    intervals = sorted(
        (max(lv.start, span.start), min(lv.end, span.end))
        for lv in leaves
        if lv.start <= span.end and lv.end >= span.start
    )
    days = 0
    current: tuple[dt.date, dt.date] | None = None
    for start, end in intervals:
        if current is None or start > current[1] + dt.timedelta(days=1):
            if current is not None:
                days += (current[1] - current[0]).days + 1
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        days += (current[1] - current[0]).days + 1
    return days


# --- as shown ------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FormatModalityMinutes(_Out):
    format: SessionFormat
    modality: SessionModality
    recorded_minutes: int
    counted_minutes: int


class WindowTally(_Out):
    """A window's figures as an auditor reads them on a weekly or monthly log."""

    window: WindowRef
    site_id: str | None
    running: bool
    # Every (format, modality) with minutes recorded, recorded and counted.
    supervision: tuple[FormatModalityMinutes, ...]
    supervision_recorded_minutes: int
    supervision_counted_minutes: int
    practice_direct_minutes: Decimal
    practice_indirect_minutes: Decimal
    practice_direct_counted_minutes: Decimal
    practice_indirect_counted_minutes: Decimal
    leave_days: int
    session_ids: tuple[str, ...]
    practice_event_ids: tuple[str, ...]


def window_tally(tally: Tally) -> WindowTally:
    """The tally as shown, once every void has been applied."""
    assert tally.span is not None
    pairs: dict[tuple[SessionFormat, SessionModality], list[int]] = {}
    for s in tally.sessions:
        figures = pairs.setdefault((s.format, s.modality), [0, 0])
        figures[0] += s.minutes
        figures[1] += s.countable
    span, practice = tally.span, tally.practice
    return WindowTally.model_construct(
        window=WindowRef.model_construct(kind=span.kind, start=span.start, end=span.end),
        site_id=tally.site_id,
        running=tally.running,
        supervision=tuple(
            FormatModalityMinutes.model_construct(
                format=f, modality=m, recorded_minutes=r, counted_minutes=c
            )
            for (f, m), (r, c) in sorted(pairs.items())
        ),
        supervision_recorded_minutes=sum(r for r, _ in pairs.values()),
        supervision_counted_minutes=sum(c for _, c in pairs.values()),
        practice_direct_minutes=to_decimal(practice.direct, "minutes"),
        practice_indirect_minutes=to_decimal(practice.indirect, "minutes"),
        practice_direct_counted_minutes=to_decimal(practice.direct_counted, "minutes"),
        practice_indirect_counted_minutes=to_decimal(practice.indirect_counted, "minutes"),
        leave_days=tally.leave_days,
        session_ids=tuple(s.session_id for s in tally.sessions),
        practice_event_ids=tally.practice_event_ids,
    )
