"""The compliance domain: pure projection logic over facts from the other services (no I/O).
The read model itself is SQL; these functions say what its figures mean."""

from compliance.domain.facts import ReferralFact, SupervisionSessionFact
from compliance.domain.hours import HoursSummary, hours_as_of
from compliance.domain.referrals import open_as_of

__all__ = [
    "HoursSummary",
    "ReferralFact",
    "SupervisionSessionFact",
    "hours_as_of",
    "open_as_of",
]
