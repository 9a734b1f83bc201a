"""A supervisee's supervision hours as of a date, each figure traceable to its source event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.domain import SupervisionSessionFact, hours_as_of

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def fact(session_id: str, date: str, **overrides: Any) -> SupervisionSessionFact:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "supervisee_id": "see-1",
        "date": D(date),
        "format": "individual",
        "modality": "in_person",
        "minutes": 60,
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "source_event_id": f"evt-{session_id}",
        "recorded_at": dt.datetime.combine(D(date), dt.time(18), tzinfo=dt.UTC),
    }
    return SupervisionSessionFact(**(fields | overrides))


FACTS = [
    fact("s3", "2026-03-20", format="group", modality="video", minutes=120),
    fact("s1", "2026-03-02"),
    fact("s2", "2026-03-09", modality="video", minutes=45),
    fact("s4", "2026-04-01", minutes=90),
]


def test_hours_sum_every_session_on_or_before_the_date() -> None:
    summary = hours_as_of(FACTS, D("2026-03-20"))

    assert summary.total_minutes == 60 + 45 + 120
    assert [s.session_id for s in summary.sessions] == ["s1", "s2", "s3"]


def test_sessions_after_the_date_do_not_count() -> None:
    summary = hours_as_of(FACTS, D("2026-03-19"))

    assert summary.total_minutes == 105
    assert "s3" not in {s.session_id for s in summary.sessions}


def test_minutes_are_split_by_format_and_modality_with_zeros_shown() -> None:
    summary = hours_as_of(FACTS, D("2026-12-31"))

    assert summary.by_format_and_modality == {
        ("individual", "in_person"): 150,
        ("individual", "video"): 45,
        ("individual", "phone"): 0,
        ("triadic", "in_person"): 0,
        ("triadic", "video"): 0,
        ("triadic", "phone"): 0,
        ("group", "in_person"): 0,
        ("group", "video"): 120,
        ("group", "phone"): 0,
    }
    assert sum(summary.by_format_and_modality.values()) == summary.total_minutes


def test_sessions_are_listed_by_date_then_session_id() -> None:
    same_day = [fact("b", "2026-03-02"), fact("a", "2026-03-02"), fact("c", "2026-03-01")]

    summary = hours_as_of(same_day, D("2026-03-02"))

    assert [s.session_id for s in summary.sessions] == ["c", "a", "b"]


def test_every_counted_session_names_its_source_event() -> None:
    summary = hours_as_of(FACTS, D("2026-12-31"))

    assert [s.source_event_id for s in summary.sessions] == ["evt-s1", "evt-s2", "evt-s3", "evt-s4"]


def test_no_sessions_means_zero_hours() -> None:
    summary = hours_as_of([], D("2026-03-01"))

    assert summary.total_minutes == 0
    assert summary.sessions == ()
    assert set(summary.by_format_and_modality.values()) == {0}
    assert summary.as_of == D("2026-03-01")


def test_a_session_counted_twice_for_the_same_supervisee_is_refused() -> None:
    with pytest.raises(ValueError, match="repeated"):
        hours_as_of([fact("s1", "2026-03-02"), fact("s1", "2026-03-02")], D("2026-03-31"))


def test_sessions_of_several_supervisees_are_not_summed_together() -> None:
    with pytest.raises(ValueError, match="one supervisee"):
        hours_as_of(
            [fact("s1", "2026-03-02"), fact("s1", "2026-03-02", supervisee_id="see-2")],
            D("2026-03-31"),
        )


@pytest.mark.parametrize("minutes", [0, -15])
def test_a_session_fact_without_positive_minutes_is_invalid(minutes: int) -> None:
    with pytest.raises(ValidationError):
        fact("s1", "2026-03-02", minutes=minutes)
