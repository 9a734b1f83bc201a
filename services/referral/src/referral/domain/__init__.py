"""The referral domain: pure decisions over the referral loop, its service-level targets, and
the policies that raise referrals from other services' facts (no I/O).

Stream: `referral-<id>`.
"""

from referral.domain import referral
from referral.domain.commands import (
    AcceptReferral,
    CancelReferral,
    CloseReferralUnableToEngage,
    CompleteReferral,
    DeclineReferral,
    RaiseReferral,
    RecordContactAttempt,
    RedirectReferral,
    ReferralCommand,
    ScheduleReferral,
)
from referral.domain.events import (
    EVENT_TYPES,
    ContactAttemptRecorded,
    ReferralAccepted,
    ReferralCancelled,
    ReferralClosedUnableToEngage,
    ReferralCompleted,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ServiceLevelBreached,
)
from referral.domain.policy import (
    CoachingConcern,
    already_raised,
    referral_for_concern,
    referral_id_for,
)
from referral.domain.referral import (
    MIN_CONTACT_ATTEMPTS,
    ReferralState,
    breaches_due,
    decide,
    evolve,
    fold,
    next_due_at,
)
from referral.domain.service_levels import DEFAULT_SERVICE_LEVELS, ServiceLevelPolicy, Targets

__all__ = [
    "DEFAULT_SERVICE_LEVELS",
    "EVENT_TYPES",
    "MIN_CONTACT_ATTEMPTS",
    "AcceptReferral",
    "CancelReferral",
    "CloseReferralUnableToEngage",
    "CoachingConcern",
    "CompleteReferral",
    "ContactAttemptRecorded",
    "DeclineReferral",
    "RaiseReferral",
    "RecordContactAttempt",
    "RedirectReferral",
    "ReferralAccepted",
    "ReferralCancelled",
    "ReferralClosedUnableToEngage",
    "ReferralCommand",
    "ReferralCompleted",
    "ReferralDeclined",
    "ReferralRaised",
    "ReferralRedirected",
    "ReferralScheduled",
    "ReferralState",
    "ScheduleReferral",
    "ServiceLevelBreached",
    "ServiceLevelPolicy",
    "Targets",
    "already_raised",
    "breaches_due",
    "decide",
    "evolve",
    "fold",
    "next_due_at",
    "referral",
    "referral_for_concern",
    "referral_id_for",
]
