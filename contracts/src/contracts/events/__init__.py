"""Published event schemas: the versioned contract a service keeps with its consumers.

Each schema is a pydantic model. Its CloudEvents `type` is `<name>.v<version>`, for example
`continuum.supervision.SessionLogged.v1`. A consumer looks the type up in `REGISTRY` to parse
the data; an older version is upcast to the newest on read.
"""

from contracts.events.base import REGISTRY, EventContract, UnknownEventType, parse
from contracts.events.coaching import CoachingConcernRaised, EngagementOpened
from contracts.events.referral import ReferralRaised
from contracts.events.supervision import AgreementSigned, SessionLogged

__all__ = [
    "REGISTRY",
    "AgreementSigned",
    "CoachingConcernRaised",
    "EngagementOpened",
    "EventContract",
    "ReferralRaised",
    "SessionLogged",
    "UnknownEventType",
    "parse",
]
