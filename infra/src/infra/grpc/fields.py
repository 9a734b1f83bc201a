"""Reading request fields that proto3 cannot type: ids, ISO dates and times, enums with an
UNSPECIFIED zero, and the empty string that stands for "not given".

A bad value is InvalidInput naming the request's field, as every other validation error. Dates
and moments are held to the bounds of `contracts.fields` (1900-01-01..2199-12-31), so no query
or command computes with a day Python's calendar or a database cannot hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from contracts.fields import check_date, check_instant
from infra.ddd import InvalidInput, check_id

V = TypeVar("V")


def date_field(value: str, field: str, *, default: dt.date | None = None) -> dt.date:
    """An ISO 8601 calendar date; an empty field takes the default if there is one."""
    if not value:
        if default is not None:
            return default
        raise InvalidInput(field, "is required (an ISO date, YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{_shown(value)} is not an ISO date (YYYY-MM-DD)") from None
    return _checked(check_date, day, field)


def timestamp_field(value: str, field: str, *, default: dt.datetime) -> dt.datetime:
    """An RFC 3339 timestamp with its UTC offset (2026-04-30T17:00:00Z), in UTC; an empty field
    takes the default. A time without an offset is refused: it names no moment."""
    if not value:
        return default
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, f"{_shown(value)} is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SSZ)"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(field, f"{_shown(value)} has no UTC offset (add Z or +HH:MM)")
    return _checked(check_instant, moment, field).astimezone(dt.UTC)


def enum_field(value: int, field: str, choices: Mapping[Any, V]) -> V:
    """The domain value of a proto enum; the UNSPECIFIED zero and unknown numbers are refused."""
    try:
        return choices[value]
    except KeyError:
        raise (
            InvalidInput(field, "must be specified")
            if value == 0
            else InvalidInput(field, f"{value} is not a known value")
        ) from None


def enum_list(values: Iterable[int], field: str, choices: Mapping[Any, V]) -> tuple[V, ...]:
    """The domain values of a repeated proto enum; any UNSPECIFIED or unknown entry is refused."""
    return tuple(enum_field(value, field, choices) for value in values)


def optional_text(value: str) -> str | None:
    """proto3 sends an absent string as ""; None says it was not given."""
    return value or None


def optional_date(value: str, field: str) -> dt.date | None:
    """An optional ISO date; None when empty."""
    return date_field(value, field) if value else None


_HOURS_MINUTES = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def time_field(value: str, field: str) -> dt.time | None:
    """An optional "HH:MM" time of day; None when empty."""
    if not value:
        return None
    match = _HOURS_MINUTES.fullmatch(value)
    if match is None:
        raise InvalidInput(field, f"{_shown(value)} is not a time of day (HH:MM)")
    return dt.time(int(match[1]), int(match[2]))


def id_field(value: str, field: str) -> str:
    """A required id, checked as every id a command carries."""
    try:
        return check_id(value)
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None


def _checked(check: Callable[[V], V], value: V, field: str) -> V:
    try:
        return check(value)
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None


# A refused value is quoted back to the caller; a long one only in part, so that the reply
# stays small whatever was sent.
_SHOWN_MAX = 40


def _shown(value: str) -> str:
    return repr(value) if len(value) <= _SHOWN_MAX else f"{value[:_SHOWN_MAX]!r}..."
