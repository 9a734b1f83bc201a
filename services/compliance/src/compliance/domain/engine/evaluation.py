"""What the engine says of one supervisee: the standing, computed at once, and the detail,
built the first time it is read.

`status`, `progress` and `verdicts` are what a site's view needs of each supervisee; every
outcome, every window's tally and every session and week of practice as judged are what one
supervisee's view shows, and are worded and built only then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from compliance.domain.engine.progress import Progress
from compliance.domain.engine.record import Record
from compliance.domain.engine.status import SuperviseeStatus
from compliance.domain.engine.tallies import WindowTally
from compliance.domain.engine.verdicts import RuleOutcome, Verdict, to_decimal
from compliance.domain.sessions import ExclusionCode
from contracts.rulepacks.model import SessionFormat, SessionModality

_DAY = dt.timedelta(days=1)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JudgedSession(_Out):
    """A session as the record shows it, with the minutes that count and why the rest do not."""

    session_id: str
    date: dt.date
    start_time: dt.time | None
    site_id: str
    supervisor_id: str
    kind: str
    format: SessionFormat
    modality: SessionModality
    minutes: int
    counted_minutes: int
    agreement_id: str | None
    # Why the record itself does not count it (voided, administrative, approval missing).
    excluded: ExclusionCode | None
    excluded_detail: str | None
    # The verdicts that concern it (voids that withdrew its minutes, findings about it).
    verdict_ids: tuple[str, ...]
    source_event_ids: tuple[str, ...]


class JudgedPracticeWeek(_Out):
    site_id: str
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    direct_counted_minutes: Decimal
    indirect_counted_minutes: Decimal
    source_event_id: str
    superseded_event_ids: tuple[str, ...]


def judged_sessions(record: Record) -> tuple[JudgedSession, ...]:
    return tuple(
        JudgedSession.model_construct(
            session_id=s.session_id,
            date=s.date,
            start_time=s.start_time,
            site_id=s.site_id,
            supervisor_id=s.supervisor_id,
            kind=s.kind,
            format=s.format,
            modality=s.modality,
            minutes=s.minutes,
            counted_minutes=s.countable,
            agreement_id=s.agreement_id,
            excluded=s.excluded,
            excluded_detail=s.excluded_detail,
            verdict_ids=tuple(s.verdict_ids),
            source_event_ids=s.source_event_ids,
        )
        for s in record.sessions
    )


def practice_weeks(record: Record) -> tuple[JudgedPracticeWeek, ...]:
    weeks = []
    for r in record.practice.records:
        counted = record.practice.sums(r.week_start, r.week_start + 6 * _DAY, r.site_id)
        weeks.append(
            JudgedPracticeWeek.model_construct(
                site_id=r.site_id,
                week_start=r.week_start,
                direct_minutes=r.direct_minutes,
                indirect_minutes=r.indirect_minutes,
                direct_counted_minutes=to_decimal(counted.direct_counted, "minutes"),
                indirect_counted_minutes=to_decimal(counted.indirect_counted, "minutes"),
                source_event_id=r.source_event_id,
                superseded_event_ids=r.superseded_event_ids,
            )
        )
    return tuple(weeks)


class SuperviseeEvaluation:
    """Everything the engine says of one supervisee at the end of `as_of`.

    `status`, `progress` and `verdicts` are computed at once; `outcomes`, `windows`,
    `sessions` and `practice` the first time they are read (then kept). Two evaluations are
    equal when everything they say is.
    """

    __slots__ = (
        "_build_outcomes",
        "_build_windows",
        "_outcomes",
        "_practice",
        "_sessions",
        "_windows",
        "as_of",
        "progress",
        "record",
        "status",
        "supervisee_id",
        "track",
        "verdicts",
    )

    def __init__(
        self,
        record: Record,
        track: str | None,
        status: SuperviseeStatus,
        progress: Progress,
        verdicts: tuple[Verdict, ...],
        outcomes: Callable[[], tuple[RuleOutcome, ...]] = tuple,
        windows: Callable[[], tuple[WindowTally, ...]] = tuple,
    ) -> None:
        self.supervisee_id = record.supervisee_id
        self.as_of = record.as_of
        self.track = track
        self.status = status
        self.progress = progress
        # Every verdict, resolved or not, by the day it concerns.
        self.verdicts = verdicts
        self.record = record
        self._build_outcomes = outcomes
        self._build_windows = windows
        self._outcomes: tuple[RuleOutcome, ...] | None = None
        self._windows: tuple[WindowTally, ...] | None = None
        self._sessions: tuple[JudgedSession, ...] | None = None
        self._practice: tuple[JudgedPracticeWeek, ...] | None = None

    @property
    def outcomes(self) -> tuple[RuleOutcome, ...]:
        """Every rule of every window and of the program, in the order judged."""
        if self._outcomes is None:
            self._outcomes = self._build_outcomes()
        return self._outcomes

    @property
    def windows(self) -> tuple[WindowTally, ...]:
        """Every window's tally (over all sites, and per site where a rule judges per site)."""
        if self._windows is None:
            self._windows = self._build_windows()
        return self._windows

    @property
    def sessions(self) -> tuple[JudgedSession, ...]:
        """Every session dated by `as_of`, counted or not, in the order held."""
        if self._sessions is None:
            self._sessions = judged_sessions(self.record)
        return self._sessions

    @property
    def practice(self) -> tuple[JudgedPracticeWeek, ...]:
        """Every week of practice in force, with what of it counts."""
        if self._practice is None:
            self._practice = practice_weeks(self.record)
        return self._practice

    @property
    def open_verdicts(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.resolved)

    def verdict(self, verdict_id: str) -> Verdict:
        for v in self.verdicts:
            if v.verdict_id == verdict_id:
                return v
        raise KeyError(verdict_id)

    def _said(self) -> tuple[object, ...]:
        return (
            self.supervisee_id,
            self.as_of,
            self.track,
            self.status,
            self.progress,
            self.verdicts,
            self.outcomes,
            self.windows,
            self.sessions,
            self.practice,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SuperviseeEvaluation):
            return NotImplemented
        return self._said() == other._said()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"SuperviseeEvaluation({self.supervisee_id!r}, as_of={self.as_of}, "
            f"status={self.status.level!r}, verdicts={len(self.verdicts)})"
        )
