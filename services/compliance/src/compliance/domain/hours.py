"""A supervisee's supervision hours as they stood at the end of a date."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable
from typing import get_args

from pydantic import BaseModel, ConfigDict

from compliance.domain.facts import SessionFormat, SessionModality, SupervisionSessionFact

FORMATS: tuple[SessionFormat, ...] = get_args(SessionFormat)
MODALITIES: tuple[SessionModality, ...] = get_args(SessionModality)


class HoursSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: dt.date
    total_minutes: int
    # Every (format, modality) pair, zero included, so a reader sees what was not earned too.
    by_format_and_modality: dict[tuple[SessionFormat, SessionModality], int]
    # Every session counted, by date then session id: each figure traces to its source event.
    sessions: tuple[SupervisionSessionFact, ...]


def hours_as_of(facts: Iterable[SupervisionSessionFact], as_of: dt.date) -> HoursSummary:
    """Sums one supervisee's sessions dated on or before `as_of`.

    Facts are keyed by (session, supervisee); a repeated key means the projection double-applied
    an event, and is refused rather than counted twice or dropped silently.
    """
    counted = sorted(
        (fact for fact in facts if fact.date <= as_of),
        key=lambda fact: (fact.date, fact.session_id),
    )
    keys = Counter((fact.session_id, fact.supervisee_id) for fact in counted)
    repeated = sorted(key for key, n in keys.items() if n > 1)
    if repeated:
        raise ValueError(f"session facts repeated for (session, supervisee): {repeated}")
    if len({fact.supervisee_id for fact in counted}) > 1:
        raise ValueError("hours_as_of sums the sessions of one supervisee at a time")
    by_kind = dict.fromkeys(itertools.product(FORMATS, MODALITIES), 0)
    for fact in counted:
        by_kind[fact.format, fact.modality] += fact.minutes
    return HoursSummary(
        as_of=as_of,
        total_minutes=sum(by_kind.values()),
        by_format_and_modality=by_kind,
        sessions=tuple(counted),
    )
