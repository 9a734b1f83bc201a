"""The compliance views: read the projected facts, let the domain compute the figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Protocol

from compliance.domain.agreements import agreements_as_of
from compliance.domain.facts import ReferralFact
from compliance.domain.hours import HoursSummary, hours_as_of
from compliance.domain.record import (
    Credentials,
    SuperviseeFacts,
    SuperviseeRecord,
    record_as_of,
    supervisors_of,
)
from compliance.domain.referrals import ReferralAsOf, breached_as_of, open_as_of
from compliance.domain.standing import Expiring, expiring_within


class ProjectedFacts(Protocol):
    """Where the projected facts are read from."""

    async def supervisee_facts(self, supervisee_id: str) -> SuperviseeFacts:
        """Everything projected about one supervisee, of any date."""
        ...

    async def referrals_at(self, site_id: str, raised_by: dt.date) -> list[ReferralFact]:
        """The site's referrals raised on or before a date, with every step since."""
        ...

    async def credentials(self, holder_ids: Collection[str] | None = None) -> Credentials:
        """The licenses and designations of these holders, or of everyone (None)."""
        ...


async def supervisee_hours(
    facts: ProjectedFacts, supervisee_id: str, as_of: dt.date
) -> HoursSummary:
    known = await facts.supervisee_facts(supervisee_id)
    return hours_as_of(known.sessions, as_of, agreements_as_of(known.agreements, as_of))


async def supervisee_record(
    facts: ProjectedFacts, supervisee_id: str, as_of: dt.date
) -> SuperviseeRecord:
    known = await facts.supervisee_facts(supervisee_id)
    credentials = await facts.credentials(supervisors_of(known))
    return record_as_of(known, credentials, as_of)


async def open_referrals(
    facts: ProjectedFacts, site_id: str, as_of: dt.date
) -> tuple[ReferralAsOf, ...]:
    return open_as_of(await facts.referrals_at(site_id, as_of), as_of)


async def service_level_breaches(
    facts: ProjectedFacts, site_id: str, as_of: dt.date
) -> tuple[ReferralAsOf, ...]:
    return breached_as_of(await facts.referrals_at(site_id, as_of), as_of)


async def licenses_expiring(facts: ProjectedFacts, as_of: dt.date, within_days: int) -> Expiring:
    credentials = await facts.credentials()
    return expiring_within(credentials.licenses, credentials.designations, as_of, within_days)
