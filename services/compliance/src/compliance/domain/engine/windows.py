"""The periods a board's rules are judged over.

- calendar week: Monday to Sunday, as practice hours are recorded;
- two weeks: consecutive fortnights counted from the supervisee's registration date (FL1's
  "every two weeks" runs from when the experience began, not from a calendar);
- calendar month and calendar quarter.

A window is a closed span of dates. One that ends after the view's date is still running: it is
never judged a violation before its last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contracts.rulepacks.model import Window

_FORTNIGHT = 14


@dataclass(frozen=True, slots=True)
class Span:
    """One window: its kind and its first and last day (inclusive)."""

    kind: Window
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """Stable and readable: `calendar_month/2026-03-01`."""
        return f"{self.kind}/{self.start.isoformat()}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def running_on(self, as_of: dt.date) -> bool:
        """Whether the window has days left after `as_of`."""
        return self.end > as_of

    def days_left(self, as_of: dt.date) -> int:
        """Days of the window after `as_of` (0 once it has ended)."""
        return max(0, (self.end - as_of).days)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (or earlier), on the month's last day when the
    month is shorter (January 31 + 1 month = February 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, _month_length(year, month)))


def months_elapsed(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (0 when `end` is before a month has passed)."""
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months


def _month_length(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def window_containing(kind: Window, day: dt.date, fortnights_from: dt.date) -> Span:
    """The window of `kind` that `day` falls in; fortnights count from `fortnights_from`."""
    if kind == "calendar_week":
        start = day - dt.timedelta(days=day.weekday())
        return Span(kind, start, start + dt.timedelta(days=6))
    if kind == "two_weeks":
        index = (day - fortnights_from).days // _FORTNIGHT
        start = fortnights_from + dt.timedelta(days=index * _FORTNIGHT)
        return Span(kind, start, start + dt.timedelta(days=_FORTNIGHT - 1))
    if kind == "calendar_month":
        start = day.replace(day=1)
        return Span(kind, start, add_months(start, 1) - dt.timedelta(days=1))
    first_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first_month, 1)
    return Span(kind, start, add_months(start, 3) - dt.timedelta(days=1))


def windows_through(
    kind: Window, first: dt.date, last: dt.date, fortnights_from: dt.date
) -> list[Span]:
    """Every window of `kind` from the one holding `first` to the one holding `last`."""
    spans: list[Span] = []
    if last < first:
        return spans
    span = window_containing(kind, first, fortnights_from)
    while span.start <= last:
        spans.append(span)
        span = window_containing(kind, span.end + dt.timedelta(days=1), fortnights_from)
    return spans
