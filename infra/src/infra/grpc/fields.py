"""Reading request fields that proto3 cannot type: ISO dates and enums with an UNSPECIFIED zero.

A bad value is InvalidInput naming the request's field, as every other validation error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from infra.ddd import InvalidInput

V = TypeVar("V")


def date_field(value: str, field: str, *, default: dt.date | None = None) -> dt.date:
    """An ISO 8601 calendar date; an empty field takes the default if there is one."""
    if not value:
        if default is not None:
            return default
        raise InvalidInput(field, "is required (an ISO date, YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


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
