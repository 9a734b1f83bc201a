"""The referral domain: pure decisions over the referral loop, and the policies that raise
referrals from other services' facts (no I/O).

Stream: `referral-<id>`.
"""

from referral.domain import referral
from referral.domain.commands import RaiseReferral
from referral.domain.events import EVENT_TYPES, ReferralRaised
from referral.domain.policy import CoachingConcern, referral_for_concern, referral_id_for
from referral.domain.referral import ReferralState, decide, evolve, fold

__all__ = [
    "EVENT_TYPES",
    "CoachingConcern",
    "RaiseReferral",
    "ReferralRaised",
    "ReferralState",
    "decide",
    "evolve",
    "fold",
    "referral",
    "referral_for_concern",
    "referral_id_for",
]
