"""How coaching recognises what referrals mean for it.

- A referral raised from a coaching concern carries the engagement that waits on it as its
  `origin`, "coaching-engagement/<engagement id>"; its completion settles that concern.
- A referral to coaching, once accepted, opens an engagement whose id is derived from the
  referral id, so that however often the acceptance arrives the same engagement opens once.
"""

from __future__ import annotations

import uuid

# Fixed for all time: changing it would give every past referral a new engagement id, and a
# redelivered acceptance would then open a second engagement.
ENGAGEMENT_ID_NAMESPACE = uuid.UUID("2b0c6f3e-8d57-4a0e-9a61-3f7c2d9e5b14")

ENGAGEMENT_ORIGIN_PREFIX = "coaching-engagement/"


def engagement_id_for_referral(referral_id: str) -> str:
    """The engagement a referral to coaching opens: the same referral, the same engagement."""
    return str(uuid.uuid5(ENGAGEMENT_ID_NAMESPACE, referral_id))


def engagement_origin(engagement_id: str) -> str:
    """The `origin` a referral raised from this engagement carries."""
    return f"{ENGAGEMENT_ORIGIN_PREFIX}{engagement_id}"


def engagement_of_origin(origin: str | None) -> str | None:
    """The coaching engagement a referral's origin names; None when it names none."""
    if origin is None or not origin.startswith(ENGAGEMENT_ORIGIN_PREFIX):
        return None
    return origin.removeprefix(ENGAGEMENT_ORIGIN_PREFIX) or None
