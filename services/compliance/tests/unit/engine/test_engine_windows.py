"""The periods rules are judged over: calendar weeks from Monday, fortnights from registration,
calendar months and quarters."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from compliance.domain.engine.windows import (
    Span,
    add_months,
    months_elapsed,
    window_containing,
    windows_through,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
REGISTERED = D("2026-01-07")  # a Wednesday


def test_a_calendar_week_runs_monday_to_sunday_like_practice_hours() -> None:
    week = window_containing("calendar_week", D("2026-03-05"), REGISTERED)

    assert (week.start, week.end) == (D("2026-03-02"), D("2026-03-08"))
    assert week.start.weekday() == 0 and week.days == 7


def test_two_week_windows_are_consecutive_fortnights_from_the_registration_date() -> None:
    first = window_containing("two_weeks", D("2026-01-07"), REGISTERED)
    later = window_containing("two_weeks", D("2026-02-04"), REGISTERED)
    before = window_containing("two_weeks", D("2026-01-06"), REGISTERED)

    assert (first.start, first.end) == (D("2026-01-07"), D("2026-01-20"))
    assert later.start == D("2026-02-04")
    assert (before.start, before.end) == (D("2025-12-24"), D("2026-01-06"))


def test_months_and_quarters_follow_the_calendar() -> None:
    february = window_containing("calendar_month", D("2028-02-10"), REGISTERED)
    quarter = window_containing("calendar_quarter", D("2026-05-31"), REGISTERED)

    assert (february.start, february.end) == (D("2028-02-01"), D("2028-02-29"))
    assert (quarter.start, quarter.end) == (D("2026-04-01"), D("2026-06-30"))


def test_windows_through_cover_every_day_between_two_dates_once() -> None:
    spans = windows_through("calendar_week", D("2026-03-04"), D("2026-03-31"), REGISTERED)

    assert [s.start for s in spans] == [
        D(d) for d in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30")
    ]
    assert all(b.start == a.end + dt.timedelta(days=1) for a, b in itertools.pairwise(spans))


def test_a_window_running_on_the_date_has_days_left() -> None:
    march = Span("calendar_month", D("2026-03-01"), D("2026-03-31"))

    assert march.running_on(D("2026-03-25")) and march.days_left(D("2026-03-25")) == 6
    assert not march.running_on(D("2026-03-31")) and march.days_left(D("2026-04-02")) == 0


def test_adding_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(D("2026-01-31"), 1) == D("2026-02-28")
    assert add_months(D("2028-01-31"), 1) == D("2028-02-29")
    assert add_months(D("2026-03-15"), -12 * 6) == D("2020-03-15")
    assert months_elapsed(D("2026-01-31"), D("2026-02-27")) == 0
    assert months_elapsed(D("2026-01-31"), D("2026-02-28")) == 1
    assert months_elapsed(D("2026-01-05"), D("2028-01-04")) == 23
