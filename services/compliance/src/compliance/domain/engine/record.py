"""The record the engine judges: one supervisee's facts as they stood at the end of a date, read
once into lean values (slotted dataclasses, no validation) so that judging hundreds of sessions
costs microseconds each.

The meaning of "as it stood" belongs to the projection's own functions (`session_as_of`,
`practice_hours_as_of`, `agreements_as_of`, ...), and the engine reads through them. Only the
plain case is read directly, because its meaning cannot differ: a session with no correction and
no mark stands as it was logged, from its own date; a week with a single record of practice at a
site stands as recorded. Everything else goes through the projection's functions.

Facts delivered twice (at-least-once delivery) are read once; two different facts under the same
key are refused (`FactsDisagree`) rather than counted twice or one dropped.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import accumulate
from typing import TypeVar

from compliance.domain.agreements import AgreementAsOf, agreements_as_of, governing_agreement
from compliance.domain.facts import (
    SessionFormat,
    SessionKind,
    SessionModality,
    SupervisionSessionFact,
)
from compliance.domain.record import (
    EvaluationFact,
    MonthStatus,
    PracticeHoursFact,
    SuperviseeAsOf,
    SuperviseeFacts,
    evaluations_as_of,
    months_as_of,
    practice_hours_as_of,
    supervisee_as_of,
)
from compliance.domain.sessions import ExclusionCode, session_as_of

_WEEK = 7
_T = TypeVar("_T")


class FactsDisagree(ValueError):
    """Two different facts arrived under one key: the projection applied something twice."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"two different {what} facts share the key {key!r}")
        self.what = what
        self.key = key


@dataclass(slots=True, eq=False)
class SessionEntry:
    """One session of the supervisee as it stood, and how many of its minutes still count.

    `countable` starts at the session's minutes (0 when the record itself excludes it: voided,
    administrative) and only goes down, each time a rule's void withdraws minutes.
    """

    session_id: str
    date: dt.date
    ordinal: int
    start_time: dt.time | None
    site_id: str
    supervisor_id: str
    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    minutes: int
    techniques: tuple[str, ...]
    # When the session was first put on the record (the SessionLogged event).
    recorded_at: dt.datetime
    agreement_id: str | None
    # Why the record itself says it does not count (a void, administrative supervision, an
    # approval the agreement lacked); None when it does.
    excluded: ExclusionCode | None
    excluded_detail: str | None
    source_event_ids: tuple[str, ...]
    lapse_event_ids: tuple[str, ...]
    countable: int = 0
    verdict_ids: list[str] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple[int, dt.time, str]:
        return (self.ordinal, self.start_time or dt.time.min, self.session_id)


@dataclass(slots=True)
class PracticeRecord:
    """The record in force of one week's client hours at one site."""

    site_id: str
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    source_event_id: str
    superseded_event_ids: tuple[str, ...]


class SitePractice:
    """A site's practice day by day, in sevenths of a minute.

    A week's record says how much, not on which day: each of its seven days carries a seventh of
    it, so a window that cuts a week (a month, a fortnight) takes its share of the week exactly.
    Integers throughout; a seventh of a minute is the unit. Running sums make the practice of
    any span two subtractions; those of what counts are worked out again after a void.
    """

    __slots__ = (
        "_counted_sums",
        "direct",
        "direct_counted",
        "direct_sums",
        "indirect",
        "indirect_counted",
        "indirect_sums",
    )

    def __init__(self, days: int) -> None:
        self.direct = [0] * days
        self.indirect = [0] * days
        self.direct_counted = [0] * days
        self.indirect_counted = [0] * days
        self.direct_sums: list[int] = []
        self.indirect_sums: list[int] = []
        self._counted_sums: tuple[list[int], list[int]] | None = None

    def recorded(self) -> None:
        """Every week is in: the running sums of what was recorded."""
        self.direct_sums = list(accumulate(self.direct, initial=0))
        self.indirect_sums = list(accumulate(self.indirect, initial=0))
        self._counted_sums = None

    def counted_sums(self) -> tuple[list[int], list[int]]:
        if self._counted_sums is None:
            self._counted_sums = (
                list(accumulate(self.direct_counted, initial=0)),
                list(accumulate(self.indirect_counted, initial=0)),
            )
        return self._counted_sums

    def withdrawn(self) -> None:
        """What counts has changed."""
        self._counted_sums = None


@dataclass(slots=True)
class PracticeSums:
    """Practice in a span, in sevenths of a minute (exact, as the days carry them); read in
    minutes through the properties."""

    direct7: int
    indirect7: int
    direct_counted7: int
    indirect_counted7: int

    @property
    def any(self) -> bool:
        return bool(self.direct7 or self.indirect7)

    @property
    def direct(self) -> Fraction:
        return Fraction(self.direct7, _WEEK)

    @property
    def indirect(self) -> Fraction:
        return Fraction(self.indirect7, _WEEK)

    @property
    def total(self) -> Fraction:
        return Fraction(self.direct7 + self.indirect7, _WEEK)

    @property
    def direct_counted(self) -> Fraction:
        return Fraction(self.direct_counted7, _WEEK)

    @property
    def indirect_counted(self) -> Fraction:
        return Fraction(self.indirect_counted7, _WEEK)

    @property
    def total_counted(self) -> Fraction:
        return Fraction(self.direct_counted7 + self.indirect_counted7, _WEEK)


class PracticeBook:
    """Every week of practice in force, at every site, and what of it still counts."""

    __slots__ = ("_days", "_origin", "_weeks", "origin", "records", "sites")

    def __init__(self, records: Sequence[PracticeRecord]) -> None:
        self.records = sorted(records, key=lambda r: (r.week_start, r.site_id))
        self._weeks = [r.week_start.toordinal() for r in self.records]
        self.origin = min((r.week_start for r in self.records), default=dt.date(1970, 1, 5))
        last = max((r.week_start for r in self.records), default=self.origin)
        self._days = (last - self.origin).days + _WEEK
        self.sites: dict[str, SitePractice] = {}
        for record in self.records:
            site = self.sites.get(record.site_id)
            if site is None:
                site = self.sites[record.site_id] = SitePractice(self._days)
            first = (record.week_start - self.origin).days
            for index in range(first, first + _WEEK):
                site.direct[index] = site.direct_counted[index] = record.direct_minutes
                site.indirect[index] = site.indirect_counted[index] = record.indirect_minutes
        for site in self.sites.values():
            site.recorded()
        self._origin = self.origin.toordinal()

    def _range(self, start: dt.date, end: dt.date) -> tuple[int, int]:
        origin, days = self._origin, self._days
        first = min(days, max(0, start.toordinal() - origin))
        last = min(days, end.toordinal() - origin + 1)
        return first, max(first, last)

    def _chosen(self, site_id: str | None) -> list[SitePractice]:
        if site_id is None:
            return list(self.sites.values())
        site = self.sites.get(site_id)
        return [site] if site is not None else []

    def sums(self, start: dt.date, end: dt.date, site_id: str | None = None) -> PracticeSums:
        first, last = self._range(start, end)
        d = i = dc = ic = 0
        for site in self._chosen(site_id):
            d += site.direct_sums[last] - site.direct_sums[first]
            i += site.indirect_sums[last] - site.indirect_sums[first]
            counted_direct, counted_indirect = site.counted_sums()
            dc += counted_direct[last] - counted_direct[first]
            ic += counted_indirect[last] - counted_indirect[first]
        return PracticeSums(d, i, dc, ic)

    def sites_between(self, start: dt.date, end: dt.date) -> set[str]:
        """The sites with practice recorded in the span."""
        first, last = self._range(start, end)
        return {
            site_id
            for site_id, site in self.sites.items()
            if site.direct_sums[last] - site.direct_sums[first]
            or site.indirect_sums[last] - site.indirect_sums[first]
        }

    def records_between(
        self, start: dt.date, end: dt.date, site_id: str | None = None
    ) -> list[PracticeRecord]:
        """The weekly records a span draws on, by week then site."""
        first = bisect_left(self._weeks, (start - dt.timedelta(days=_WEEK - 1)).toordinal())
        last = bisect_right(self._weeks, end.toordinal())
        chosen = self.records[first:last]
        if site_id is None:
            return chosen
        return [r for r in chosen if r.site_id == site_id]

    def withdraw(
        self,
        start: dt.date,
        end: dt.date,
        site_id: str | None,
        excess: Fraction | None = None,
    ) -> tuple[Fraction, Fraction]:
        """Stop counting practice in the span (at one site, or at all): all of it, or `excess`
        minutes of it.

        An excess comes off the indirect minutes first, then off the direct ones, the latest
        days first each time, so that the direct client hours the boards weigh are kept where a
        cap allows. Returns the (direct, indirect) minutes withdrawn.
        """
        first, last = self._range(start, end)
        sites = [s for sid, s in sorted(self.sites.items(), reverse=True) if site_id in (None, sid)]
        left = None if excess is None else _ceil(excess * _WEEK)
        taken = {"indirect": 0, "direct": 0}
        for which in ("indirect", "direct"):
            for index in range(last - 1, first - 1, -1):
                for site in sites:
                    counted = site.indirect_counted if which == "indirect" else site.direct_counted
                    value = counted[index]
                    if not value:
                        continue
                    take = value if left is None else min(value, left)
                    counted[index] = value - take
                    site.withdrawn()
                    taken[which] += take
                    if left is not None:
                        left -= take
                        if left <= 0:
                            return (
                                Fraction(taken["direct"], _WEEK),
                                Fraction(taken["indirect"], _WEEK),
                            )
        return Fraction(taken["direct"], _WEEK), Fraction(taken["indirect"], _WEEK)


def _ceil(value: Fraction | int) -> int:
    return -(-value.numerator // value.denominator) if isinstance(value, Fraction) else value


@dataclass(slots=True)
class Record:
    """One supervisee's record at the end of `as_of`, in the engine's lean values."""

    supervisee_id: str
    as_of: dt.date
    registration: SuperviseeAsOf | None
    agreements: tuple[AgreementAsOf, ...]
    # Every session dated by `as_of`, counted or not, in the order they were held.
    sessions: list[SessionEntry]
    practice: PracticeBook
    months: tuple[MonthStatus, ...]
    evaluations: tuple[EvaluationFact, ...]
    _ordinals: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ordinals = [s.ordinal for s in self.sessions]

    def sessions_between(
        self, start: dt.date, end: dt.date, site_id: str | None = None
    ) -> list[SessionEntry]:
        first = bisect_left(self._ordinals, start.toordinal())
        last = bisect_right(self._ordinals, end.toordinal())
        chosen = self.sessions[first:last]
        if site_id is None:
            return chosen
        return [s for s in chosen if s.site_id == site_id]

    @property
    def experience_start(self) -> dt.date | None:
        """When the supervised experience began: the first agreement's start, else the
        registration, else the first session."""
        if self.agreements:
            return min(a.start_date for a in self.agreements)
        if self.registration is not None:
            return self.registration.registered_on
        return self.sessions[0].date if self.sessions else None


def _held(session: SessionEntry) -> tuple[int, dt.time, str]:
    return (session.ordinal, session.start_time or dt.time.min, session.session_id)


def _once(facts: Iterable[_T], key: str, what: str) -> list[_T]:
    """Each fact once: a repeat of an identical fact is dropped, a different one refused."""
    seen: dict[object, _T] = {}
    for fact in facts:
        k = getattr(fact, key)
        if k in seen:
            if seen[k] != fact:
                raise FactsDisagree(what, k)
            continue
        seen[k] = fact
    return list(seen.values())


def _session_entry(
    fact: SupervisionSessionFact,
    as_of: dt.date,
    agreements: Sequence[AgreementAsOf],
    covering: dict[tuple[str, str], list[AgreementAsOf]],
) -> SessionEntry | None:
    """`covering`: the agreements by (supervisor, site), so that each session looks only at
    its own supervisor's at its own site."""
    if fact.corrections or fact.lapse_marks:
        shown = session_as_of(fact, as_of, agreements)
        if shown is None:
            return None
        exclusion = shown.exclusion
        return SessionEntry(
            shown.session_id,
            shown.date,
            shown.date.toordinal(),
            shown.start_time,
            shown.site_id,
            shown.supervisor_id,
            shown.kind,
            shown.format,
            shown.modality,
            shown.minutes,
            shown.techniques,
            fact.recorded_at,
            shown.agreement_id,
            exclusion.code if exclusion else None,
            exclusion.detail if exclusion else None,
            shown.source_event_ids,
            tuple(m.source_event_id for m in shown.lapse_marks),
            shown.minutes if exclusion is None else 0,
        )
    if fact.date > as_of:
        return None
    # The plain case of session_as_of: no correction, no mark; the same exclusions in the same
    # order (administrative, then an approval the agreement lacked).
    mine = covering.get((fact.supervisor_id, fact.site_id), ())
    if len(mine) == 1:
        # With one agreement of the supervisor at the site, it governs what it covers.
        agreement: AgreementAsOf | None = mine[0] if mine[0].covers(fact.date) else None
    else:
        agreement = governing_agreement(mine, fact.supervisor_id, fact.site_id, fact.date)
    excluded: ExclusionCode | None = None
    detail: str | None = None
    if fact.kind == "administrative":
        excluded = "administrative"
        detail = "administrative supervision never counts toward licensure"
    elif agreement is not None and not agreement.approved_by(fact.date):
        excluded = "board_approval_missing"
        detail = (
            f"agreement {agreement.agreement_id} under {agreement.credential_track} needs "
            f"the board's approval, and none was recorded by {fact.date}"
        )
    return SessionEntry(
        fact.session_id,
        fact.date,
        fact.date.toordinal(),
        fact.start_time,
        fact.site_id,
        fact.supervisor_id,
        fact.kind,
        fact.format,
        fact.modality,
        fact.minutes,
        fact.techniques,
        fact.recorded_at,
        agreement.agreement_id if agreement else None,
        excluded,
        detail,
        (fact.source_event_id,),
        (),
        fact.minutes if excluded is None else 0,
    )


def _practice_records(facts: Sequence[PracticeHoursFact], as_of: dt.date) -> list[PracticeRecord]:
    by_week: dict[tuple[dt.date, str], list[PracticeHoursFact]] = defaultdict(list)
    for fact in facts:
        if fact.week_start <= as_of:
            by_week[fact.week_start, fact.site_id].append(fact)
    records: list[PracticeRecord] = []
    corrected: list[PracticeHoursFact] = []
    for group in by_week.values():
        if len(group) == 1:
            only = group[0]
            records.append(
                PracticeRecord(
                    only.site_id,
                    only.week_start,
                    only.direct_minutes,
                    only.indirect_minutes,
                    only.source_event_id,
                    (),
                )
            )
        else:
            corrected.extend(group)
    if corrected:
        for week in practice_hours_as_of(corrected, as_of).weeks:
            records.append(
                PracticeRecord(
                    week.site_id,
                    week.week_start,
                    week.direct_minutes,
                    week.indirect_minutes,
                    week.source_event_id,
                    week.superseded_event_ids,
                )
            )
    return records


def read_record(facts: SuperviseeFacts, as_of: dt.date) -> Record:
    """The supervisee's record at the end of `as_of`."""
    agreements = agreements_as_of(_once(facts.agreements, "agreement_id", "agreement"), as_of)
    covering: dict[tuple[str, str], list[AgreementAsOf]] = defaultdict(list)
    for agreement in agreements:
        covering[agreement.supervisor_id, agreement.site_id].append(agreement)
    sessions: list[SessionEntry] = []
    for fact in _once(facts.sessions, "session_id", "session"):
        if fact.supervisee_id != facts.supervisee_id:
            raise FactsDisagree("session", (fact.session_id, fact.supervisee_id))
        entry = _session_entry(fact, as_of, agreements, covering)
        if entry is not None:
            sessions.append(entry)
    sessions.sort(key=_held)
    registration = facts.registration
    return Record(
        supervisee_id=facts.supervisee_id,
        as_of=as_of,
        registration=supervisee_as_of(registration, as_of) if registration else None,
        agreements=agreements,
        sessions=sessions,
        practice=PracticeBook(
            _practice_records(
                _once(facts.practice_hours, "source_event_id", "practice hours"), as_of
            )
        ),
        months=months_as_of(_once(facts.months, "source_event_id", "month sign-off"), as_of),
        evaluations=evaluations_as_of(
            _once(facts.evaluations, "evaluation_id", "evaluation"), as_of
        ),
    )
