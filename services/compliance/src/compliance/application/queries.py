"""The compliance views: read the projected facts, let the domain compute the figures."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from compliance.domain import (
    HoursSummary,
    ReferralFact,
    SupervisionSessionFact,
    hours_as_of,
    open_as_of,
)


class ProjectedFacts(Protocol):
    """Where the projected facts are read from."""

    async def sessions_of(self, supervisee_id: str) -> list[SupervisionSessionFact]:
        """Every session the supervisee took part in, of any date."""
        ...

    async def referrals_at(self, site_id: str, raised_by: dt.date) -> list[ReferralFact]:
        """The site's referrals raised on or before a date."""
        ...


async def supervisee_hours(
    facts: ProjectedFacts, supervisee_id: str, as_of: dt.date
) -> HoursSummary:
    return hours_as_of(await facts.sessions_of(supervisee_id), as_of)


async def open_referrals(
    facts: ProjectedFacts, site_id: str, as_of: dt.date
) -> tuple[ReferralFact, ...]:
    return open_as_of(await facts.referrals_at(site_id, as_of), as_of)
