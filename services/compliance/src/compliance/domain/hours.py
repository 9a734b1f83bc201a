"""A supervisee's supervision hours as they stood at the end of a date.

Only what counts is summed; what does not is listed with its reason and its minutes, never
dropped silently (see compliance.domain.sessions for the reasons).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import get_args

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
    session_as_of,
)

KINDS: tuple[SessionKind, ...] = get_args(SessionKind)
FORMATS: tuple[SessionFormat, ...] = get_args(SessionFormat)
MODALITIES: tuple[SessionModality, ...] = get_args(SessionModality)


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
    excluded_by_reason: dict[ExclusionCode, int]
    # Counted minutes of sessions flagged for review (a supervisor's license lapse).
    flagged_minutes: int
    # Every session counted, by date then session id: each figure traces to its source event.
    sessions: tuple[SessionAsOf, ...]
    # Every session dated by `as_of` that does not count, each with its reason.
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
) -> HoursSummary:
    """Sums one supervisee's sessions that count, as they stood at the end of `as_of`.

    `agreements` are the supervisee's agreements as of the same day (board approval).
    """
    shown = sessions_as_of(facts, as_of, agreements)
    counted = tuple(s for s in shown if s.counts)
    excluded = tuple(s for s in shown if not s.counts)
    by_format = dict.fromkeys(itertools.product(FORMATS, MODALITIES), 0)
    for session in counted:
        by_format[session.format, session.modality] += session.minutes
    by_reason = dict.fromkeys(EXCLUSION_CODES, 0)
    for session in excluded:
        assert session.exclusion is not None
        by_reason[session.exclusion.code] += session.minutes
    by_kind = {
        kind: KindMinutes(
            counted=sum(s.minutes for s in counted if s.kind == kind),
            excluded=sum(s.minutes for s in excluded if s.kind == kind),
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
        flagged_minutes=sum(s.minutes for s in counted if s.flagged_for_review),
        sessions=counted,
        excluded=excluded,
    )
