"""Progress toward the license: hours counted against what the board requires, time elapsed
against the shortest the experience may take, and when it would be complete at the recent pace.

- total hours are the experience hours counted: client hours (direct and indirect) and the
  supervision counted; direct client hours and supervision hours are shown apart;
- a requirement the pack does not know is reported unknown (`required_minutes` None), one the
  pack marks unconfirmed is shown with that confidence;
- the projection paces each known requirement on what counted over the last
  `policy.pace_weeks` weeks; it is None when nothing counted in them or nothing is required.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from math import ceil

from pydantic import BaseModel, ConfigDict

from compliance.domain.engine.record import Record
from compliance.domain.engine.verdicts import to_decimal
from compliance.domain.engine.windows import add_months, months_elapsed
from contracts.rulepacks.model import Confidence, Figure, OrganizationPolicy, PackVersion

_MINUTES_PER_HOUR = 60
_DAY = dt.timedelta(days=1)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HoursProgress(_Out):
    counted_minutes: Decimal
    # None: the board's figure is not known.
    required_minutes: int | None
    remaining_minutes: Decimal | None
    src: tuple[str, ...] = ()
    confidence: Confidence | None = None
    note: str | None = None


class DurationProgress(_Out):
    started_on: dt.date | None
    months_elapsed: int
    weeks_elapsed: int
    min_months: Decimal | None
    min_weeks: Decimal | None
    # The day the minimum duration is reached, at its end; None when the pack sets none.
    minimum_reached_on: dt.date | None
    minimum_met: bool | None


class Progress(_Out):
    # The version of the pack whose requirements are shown (in force on the view's date).
    pack_effective_from: dt.date | None
    total: HoursProgress
    direct_client: HoursProgress
    supervision: HoursProgress
    duration: DurationProgress
    pace_weeks: int
    projected_completion: dt.date | None
    projection_note: str


def _hours(counted: Fraction, figure: Figure | None) -> HoursProgress:
    value = figure.value if figure is not None else None
    required = int(value * _MINUTES_PER_HOUR) if value is not None else None
    remaining = max(Fraction(0), required - counted) if required is not None else None
    return HoursProgress(
        counted_minutes=to_decimal(counted, "minutes") or Decimal(0),
        required_minutes=required,
        remaining_minutes=to_decimal(remaining, "minutes"),
        src=figure.src if figure is not None else (),
        confidence=figure.confidence if figure is not None else None,
        note=figure.note if figure is not None else None,
    )


def _counted(record: Record, start: dt.date, end: dt.date) -> tuple[Fraction, Fraction, int]:
    """(total, direct, supervision) minutes counted in the span."""
    supervision = sum(s.countable for s in record.sessions_between(start, end))
    practice = record.practice.sums(start, end)
    return practice.total_counted + supervision, practice.direct_counted, supervision


def progress_of(
    record: Record,
    version: PackVersion | None,
    policy: OrganizationPolicy,
    started: dt.date | None,
) -> Progress:
    as_of = record.as_of
    total, direct, supervision = _counted(record, dt.date.min, as_of)
    requirements = version.requirements if version is not None else None
    shown = (
        _hours(total, requirements.total_hours if requirements else None),
        _hours(direct, requirements.direct_client_hours if requirements else None),
        _hours(Fraction(supervision), requirements.supervision_hours if requirements else None),
    )
    min_months = requirements.min_months.value if requirements and requirements.min_months else None
    min_weeks = requirements.min_weeks.value if requirements and requirements.min_weeks else None
    reached: dt.date | None = None
    if started is not None and (min_months is not None or min_weeks is not None):
        # The minimum is reached at the end of its last day.
        candidates = []
        if min_months is not None:
            candidates.append(add_months(started, ceil(min_months)) - _DAY)
        if min_weeks is not None:
            candidates.append(started + dt.timedelta(weeks=ceil(min_weeks)) - _DAY)
        reached = max(candidates)
    # A view describes the end of its day: that day has elapsed too.
    duration = DurationProgress(
        started_on=started,
        months_elapsed=months_elapsed(started, as_of + _DAY) if started else 0,
        weeks_elapsed=(as_of + _DAY - started).days // 7 if started and as_of >= started else 0,
        min_months=min_months,
        min_weeks=min_weeks,
        minimum_reached_on=reached,
        minimum_met=(as_of >= reached) if reached is not None else None,
    )
    projected, note = _projection(record, policy, shown, (total, direct, Fraction(supervision)))
    if projected is not None and reached is not None:
        projected = max(projected, reached)
    return Progress(
        pack_effective_from=version.effective_from if version is not None else None,
        total=shown[0],
        direct_client=shown[1],
        supervision=shown[2],
        duration=duration,
        pace_weeks=policy.pace_weeks,
        projected_completion=projected,
        projection_note=note,
    )


def _projection(
    record: Record,
    policy: OrganizationPolicy,
    shown: tuple[HoursProgress, HoursProgress, HoursProgress],
    counted: tuple[Fraction, Fraction, Fraction],
) -> tuple[dt.date | None, str]:
    as_of = record.as_of
    days = policy.pace_weeks * 7
    total, direct, supervision = _counted(record, as_of - dt.timedelta(days=days - 1), as_of)
    recent = (total, direct, Fraction(supervision))
    dates: list[dt.date] = []
    for progress, so_far, pace in zip(shown, counted, recent, strict=True):
        if progress.required_minutes is None:
            continue
        remaining = progress.required_minutes - so_far
        if remaining <= 0:
            dates.append(as_of)
            continue
        if pace <= 0:
            return (
                None,
                f"nothing counted toward a requirement in the last {policy.pace_weeks} weeks",
            )
        dates.append(as_of + dt.timedelta(days=ceil(remaining * days / pace)))
    if not dates:
        return None, "the pack states no requirement to pace"
    return max(dates), f"at the pace of the last {policy.pace_weeks} weeks"
