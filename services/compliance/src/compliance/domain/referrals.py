"""The referrals that were open at the end of a date: the pending loop the field complains of."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from compliance.domain.facts import ReferralFact


def open_as_of(facts: Iterable[ReferralFact], as_of: dt.date) -> tuple[ReferralFact, ...]:
    """Referrals raised on or before `as_of` and not closed by its end, oldest first."""
    return tuple(
        sorted(
            (fact for fact in facts if fact.open_on(as_of)),
            key=lambda fact: (fact.raised_on, fact.referral_id),
        )
    )
