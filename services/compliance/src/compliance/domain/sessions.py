"""A supervision session as it stood on a date, and whether it counts toward licensure.

A session stands from its date as corrected: an amendment or a void says what the session was,
so once known it applies to every view of the session's period (see compliance.domain.facts).
A session that does not count is never dropped: it is listed with the reason. In order:
- voided: a void makes it count for no one;
- administrative: administrative supervision never counts;
- board_approval_missing: it falls under an agreement whose track needs the board's approval,
  and no approval was dated on or before the session's date.
A session held under a supervisor's license lapse still counts and is flagged for review.

What the record counts, the licensing board's rules may still withhold, in whole (a session by
telephone in Ohio) or in part (the minutes above a cap): `withheld`, with the rules that say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from compliance.domain.agreements import AgreementAsOf, governing_agreement
from compliance.domain.facts import (
    Fact,
    LapseMark,
    SessionCorrection,
    SessionFigures,
    SessionFormat,
    SessionKind,
    SessionModality,
    SupervisionSessionFact,
)

ExclusionCode = Literal["voided", "administrative", "board_approval_missing"]
EXCLUSION_CODES: tuple[ExclusionCode, ...] = ("voided", "administrative", "board_approval_missing")


class Exclusion(Fact):
    """Why a session does not count, in a code and in words."""

    code: ExclusionCode
    detail: str


class Withheld(Fact):
    """Minutes of a session the board's rules do not count, and the rules that say so."""

    minutes: int
    detail: str


class SessionAsOf(Fact):
    """One supervisee's session as it stood at the end of `as_of`."""

    as_of: dt.date
    session_id: str
    supervisee_id: str
    supervisor_id: str
    site_id: str
    # The figures in force: as logged, or as last amended.
    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    start_time: dt.time | None
    minutes: int
    techniques: tuple[str, ...]
    focus: tuple[str, ...]
    # The figures as first logged, and every correction on the record, oldest first.
    logged: SessionFigures
    corrections: tuple[SessionCorrection, ...]
    lapse_marks: tuple[LapseMark, ...]
    # The agreement the session falls under, if any.
    agreement_id: str | None
    exclusion: Exclusion | None
    # The event the figures in force came from (the log, or the amendment in force).
    source_event_id: str
    # Every event that shaped what is shown, oldest first.
    source_event_ids: tuple[str, ...]
    # What the board's rules withhold of what the record counts; None when they withhold nothing.
    withheld: Withheld | None = None

    @property
    def counted_minutes(self) -> int:
        if self.exclusion is not None:
            return 0
        return self.minutes - (self.withheld.minutes if self.withheld else 0)

    @property
    def counts(self) -> bool:
        """Whether any of its minutes count."""
        return self.counted_minutes > 0

    @property
    def flagged_for_review(self) -> bool:
        return bool(self.lapse_marks)

    @property
    def voided(self) -> bool:
        return self.exclusion is not None and self.exclusion.code == "voided"


def session_as_of(
    fact: SupervisionSessionFact, as_of: dt.date, agreements: Sequence[AgreementAsOf] = ()
) -> SessionAsOf | None:
    """The session at the end of `as_of`; None while it is dated (as corrected) after that day.

    `agreements` are the supervisee's agreements as of the same day.
    """
    corrections = tuple(sorted(fact.corrections, key=lambda c: (c.recorded_at, c.source_event_id)))
    figures, source = fact.logged, fact.source_event_id
    void: SessionCorrection | None = None
    for correction in corrections:
        if correction.change == "voided":
            void = void or correction
        elif void is None and correction.amended_to is not None:
            figures, source = correction.amended_to, correction.source_event_id
    if figures.date > as_of:
        return None
    marks = tuple(sorted(fact.lapse_marks, key=lambda m: (m.recorded_at, m.source_event_id)))
    since: list[SessionCorrection | LapseMark] = sorted(
        (*corrections, *marks), key=lambda later: (later.recorded_at, later.source_event_id)
    )
    agreement = governing_agreement(agreements, fact.supervisor_id, fact.site_id, figures.date)
    exclusion: Exclusion | None = None
    if void is not None:
        exclusion = Exclusion(
            code="voided",
            detail=f"voided on {void.recorded_at.date()} by {void.by}: {void.reason}",
        )
    elif figures.kind == "administrative":
        exclusion = Exclusion(
            code="administrative",
            detail="administrative supervision never counts toward licensure",
        )
    elif agreement is not None and not agreement.approved_by(figures.date):
        exclusion = Exclusion(
            code="board_approval_missing",
            detail=(
                f"agreement {agreement.agreement_id} under {agreement.credential_track} needs "
                f"the board's approval, and none was recorded by {figures.date}"
            ),
        )
    return SessionAsOf(
        as_of=as_of,
        session_id=fact.session_id,
        supervisee_id=fact.supervisee_id,
        supervisor_id=fact.supervisor_id,
        site_id=fact.site_id,
        kind=figures.kind,
        format=figures.format,
        modality=figures.modality,
        date=figures.date,
        start_time=figures.start_time,
        minutes=figures.minutes,
        techniques=figures.techniques,
        focus=figures.focus,
        logged=fact.logged,
        corrections=corrections,
        lapse_marks=marks,
        agreement_id=agreement.agreement_id if agreement else None,
        exclusion=exclusion,
        source_event_id=source,
        source_event_ids=(fact.source_event_id, *(later.source_event_id for later in since)),
    )
