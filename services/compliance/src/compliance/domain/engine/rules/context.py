"""What window and program rules read beside their tally."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from compliance.domain.record import MonthStatus
from contracts.rulepacks.model import OrganizationPolicy, SessionFormat, minutes


@dataclass(frozen=True, slots=True)
class RuleContext:
    policy: OrganizationPolicy
    # How the version counts a session of one supervisor with two supervisees.
    triadic_counts_as: str
    # The month sign-offs on the record, by month ("2026-03").
    months: Mapping[str, MonthStatus]
    as_of: dt.date

    def individual_formats(self) -> tuple[SessionFormat, ...]:
        if self.triadic_counts_as == "individual":
            return ("individual", "triadic")
        return ("individual",)

    def group_formats(self) -> tuple[SessionFormat, ...]:
        if self.triadic_counts_as == "group":
            return ("group", "triadic")
        return ("group",)


@lru_cache(maxsize=256)
def in_minutes(hours: Decimal) -> int:
    """A board's figure in hours, in whole minutes (worked out once per figure)."""
    return minutes(hours)
