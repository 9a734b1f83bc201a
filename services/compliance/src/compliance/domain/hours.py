"""A supervisee's supervision hours as they stood at the end of a date.

Only what counts is summed; what does not is listed with its reason and its minutes, never
dropped silently (see compliance.domain.sessions for the reasons). What counts is what the
licensing board's rules count: the minutes they withhold of a session (`withheld`, from the
compliance engine's judgement) are not counted, under the reason "board_rule".
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, get_args

from compliance.domain.agreements import AgreementAsOf
from compliance.domain.facts import (
    Fact,
    SessionFormat,
    SessionKind,
    SessionModality,
    SupervisionSessionFact,
)
from compliance.domain.sessions import (
    EXCLUSION_CODES,
    ExclusionCode,
    SessionAsOf,
    Withheld,
    session_as_of,
)

KINDS: tuple[SessionKind, ...] = get_args(SessionKind)
FORMATS: tuple[SessionFormat, ...] = get_args(SessionFormat)
MODALITIES: tuple[SessionModality, ...] = get_args(SessionModality)
# Why minutes do not count: the record's own reasons, or a rule of the board's pack.
NotCountedReason = ExclusionCode | Literal["board_rule"]
NOT_COUNTED_REASONS: tuple[NotCountedReason, ...] = (*EXCLUSION_CODES, "board_rule")


class KindMinutes(Fact):
    counted: int = 0
    excluded: int = 0


class HoursSummary(Fact):
    as_of: dt.date
    total_minutes: int
    # Every (format, modality) pair, zero included, so a reader sees what was not earned too.
    by_format_and_modality: dict[tuple[SessionFormat, SessionModality], int]
    # Minutes counted and excluded per kind (administrative supervision is always excluded).
    by_kind: dict[SessionKind, KindMinutes]
    excluded_minutes: int
    excluded_by_reason: dict[NotCountedReason, int]
    # Counted minutes of sessions flagged for review (a supervisor's license lapse).
    flagged_minutes: int
    # Every session with minutes that count, by date then session id: each figure traces to its
    # source event (a session a rule withholds in part is here, with what is withheld).
    sessions: tuple[SessionAsOf, ...]
    # Every session dated by `as_of` of which nothing counts, each with its reason.
    excluded: tuple[SessionAsOf, ...]


def sessions_as_of(
    facts: Iterable[SupervisionSessionFact],
    as_of: dt.date,
    agreements: Sequence[AgreementAsOf] = (),
) -> tuple[SessionAsOf, ...]:
    """One supervisee's sessions dated on or before `as_of`, as they stood then, by date.

    Facts are keyed by (session, supervisee); a repeated key means the projection double-applied
    an event, and is refused rather than counted twice or dropped silently.
    """
    facts = list(facts)
    keys = Counter((fact.session_id, fact.supervisee_id) for fact in facts)
    repeated = sorted(key for key, n in keys.items() if n > 1)
    if repeated:
        raise ValueError(f"session facts repeated for (session, supervisee): {repeated}")
    if len({fact.supervisee_id for fact in facts}) > 1:
        raise ValueError("sessions are read for one supervisee at a time")
    shown = (session_as_of(fact, as_of, agreements) for fact in facts)
    return tuple(sorted((s for s in shown if s is not None), key=lambda s: (s.date, s.session_id)))


def hours_as_of(
    facts: Iterable[SupervisionSessionFact],
    as_of: dt.date,
    agreements: Sequence[AgreementAsOf] = (),
    withheld: Mapping[str, Withheld] | None = None,
) -> HoursSummary:
    """Sums one supervisee's sessions that count, as they stood at the end of `as_of`.

    `agreements` are the supervisee's agreements as of the same day (board approval);
    `withheld`, per session id, what the board's rules do not count of a session the record
    counts.
    """
    shown = sessions_as_of(facts, as_of, agreements)
    if withheld:
        shown = tuple(
            s.model_copy(update={"withheld": withheld[s.session_id]})
            if s.exclusion is None and s.session_id in withheld
            else s
            for s in shown
        )
    counted = tuple(s for s in shown if s.counts)
    excluded = tuple(s for s in shown if not s.counts)
    by_format = dict.fromkeys(itertools.product(FORMATS, MODALITIES), 0)
    for session in counted:
        by_format[session.format, session.modality] += session.counted_minutes
    by_reason = dict.fromkeys(NOT_COUNTED_REASONS, 0)
    for session in shown:
        if session.exclusion is not None:
            by_reason[session.exclusion.code] += session.minutes
        elif session.withheld is not None:
            by_reason["board_rule"] += session.withheld.minutes
    by_kind = {
        kind: KindMinutes(
            counted=sum(s.counted_minutes for s in shown if s.kind == kind),
            excluded=sum(s.minutes - s.counted_minutes for s in shown if s.kind == kind),
        )
        for kind in KINDS
    }
    return HoursSummary(
        as_of=as_of,
        total_minutes=sum(by_format.values()),
        by_format_and_modality=by_format,
        by_kind=by_kind,
        excluded_minutes=sum(by_reason.values()),
        excluded_by_reason=by_reason,
        flagged_minutes=sum(s.counted_minutes for s in counted if s.flagged_for_review),
        sessions=counted,
        excluded=excluded,
    )
