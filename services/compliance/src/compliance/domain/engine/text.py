"""How the engine words figures and periods in a verdict's reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from compliance.domain.engine.windows import Span
from contracts.rulepacks.model import Sourced

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def hours(minutes: Fraction | int) -> str:
    """Minutes as hours, the way boards state them: 210 -> "3.5 h" (to the hundredth)."""
    numerator, denominator = minutes.numerator, minutes.denominator
    # Hundredths of an hour, rounded half up, in integers: n / d minutes * 100 / 60.
    hundredths = (numerator * 200 + denominator * 60) // (denominator * 120)
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    if not part:
        return f"{sign}{whole} h"
    return f"{sign}{whole}.{part:02d}".rstrip("0") + " h"


def share(value: Fraction) -> str:
    percent = (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.1"))
    return f"{percent.normalize():f}%"


def period(span: Span) -> str:
    """The window as a sentence names it: "the calendar month of March 2026"."""
    if span.kind == "calendar_week":
        return f"the week of {span.start.isoformat()}"
    if span.kind == "two_weeks":
        return f"the two weeks from {span.start.isoformat()} to {span.end.isoformat()}"
    if span.kind == "calendar_month":
        return f"the calendar month of {_MONTHS[span.start.month - 1]} {span.start.year}"
    return f"the calendar quarter {span.start.year}-Q{(span.start.month - 1) // 3 + 1}"


def at_site(site_id: str | None) -> str:
    return f" at {site_id}" if site_id else ""


def cited(rule: Sourced) -> str:
    """The rule's sources, as a reason cites them: " (TX1)"."""
    return f" ({'; '.join(rule.src)})" if rule.src else ""


def day(value: dt.date) -> str:
    return value.isoformat()
