"""Request fields proto3 cannot type are read into domain values, or refused naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from infra.ddd import InvalidInput
from infra.grpc.fields import (
    date_field,
    enum_field,
    enum_list,
    id_field,
    optional_date,
    optional_text,
    time_field,
    timestamp_field,
)

pytestmark = pytest.mark.unit

COLOURS = {1: "red", 2: "green"}


def _refusal(call: object) -> tuple[str, str]:
    assert callable(call)
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.field, refused.value.reason


def test_a_timestamp_names_a_moment_with_its_offset_read_in_utc() -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)

    assert timestamp_field("2026-04-30T17:00:00Z", "known_at", default=now) == dt.datetime(
        2026, 4, 30, 17, tzinfo=dt.UTC
    )
    assert timestamp_field("2026-04-30T19:00:00+02:00", "known_at", default=now) == dt.datetime(
        2026, 4, 30, 17, tzinfo=dt.UTC
    )
    assert timestamp_field("", "known_at", default=now) == now
    assert _refusal(lambda: timestamp_field("2026-04-30T17:00:00", "known_at", default=now)) == (
        "known_at",
        "'2026-04-30T17:00:00' has no UTC offset (add Z or +HH:MM)",
    )
    assert _refusal(lambda: timestamp_field("yesterday", "known_at", default=now))[0] == (
        "known_at"
    )


def test_dates_are_iso_and_an_empty_one_is_required_unless_defaulted() -> None:
    assert date_field("2026-03-02", "date") == dt.date(2026, 3, 2)
    assert date_field("", "date", default=dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
    assert _refusal(lambda: date_field("", "date"))[0] == "date"
    assert _refusal(lambda: date_field("02/03/2026", "date")) == (
        "date",
        "'02/03/2026' is not an ISO date (YYYY-MM-DD)",
    )
    assert optional_date("", "due_on") is None
    assert optional_date("2026-05-01", "due_on") == dt.date(2026, 5, 1)


def test_enums_refuse_the_unspecified_zero_and_unknown_numbers() -> None:
    assert enum_field(2, "colour", COLOURS) == "green"
    assert _refusal(lambda: enum_field(0, "colour", COLOURS)) == ("colour", "must be specified")
    assert _refusal(lambda: enum_field(9, "colour", COLOURS)) == (
        "colour",
        "9 is not a known value",
    )
    assert enum_list([1, 2], "colours", COLOURS) == ("red", "green")
    assert _refusal(lambda: enum_list([1, 0], "colours", COLOURS))[0] == "colours"


def test_times_of_day_are_hours_and_minutes() -> None:
    assert time_field("", "start_time") is None
    assert time_field("09:30", "start_time") == dt.time(9, 30)
    for bad in ("9:30", "24:00", "12:60", "noon"):
        assert _refusal(lambda bad=bad: time_field(bad, "start_time"))[0] == "start_time"


def test_ids_are_checked_as_commands_check_them_and_empty_text_is_absent() -> None:
    assert id_field("see-001", "supervisee_id") == "see-001"
    field, reason = _refusal(lambda: id_field("", "supervisee_id"))
    assert field == "supervisee_id"
    assert "1 to 64 characters" in reason
    assert optional_text("") is None
    assert optional_text("x") == "x"
