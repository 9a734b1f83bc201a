"""The values referral records are made of.

Why a referral was made, declined, redirected or cancelled, and how it ended, are codes: they
are published, and a published event never carries free text about a client. What a person
wants to add in words goes in a `note` (or, on completion, the `feedback`), which stays inside
the referral service and is read back through its own API.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from contracts.fields import Id, check_text

# The services a client is referred between. A referral "from supervision" is not a fifth
# service: a supervisor who refers a supervisee's client refers them out of the supervisee's
# therapy, so it is recorded from therapy, raised_by the supervisor, with a supervision record as
# its source (see SUPERVISION_SOURCE_PREFIX). The published contract holds the same four values.
CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
# Urgency sets the service-level targets the referral is held to (see service_levels).
Urgency = Literal["routine", "urgent"]

ReferralStatus = Literal[
    "not_raised",
    # Waiting for the receiving service to acknowledge it (accept, decline or redirect).
    "raised",
    # Sent on to another service, and waiting there for acceptance again.
    "redirected",
    "accepted",
    "scheduled",
    # The four ends of the loop.
    "completed",
    "declined",
    "closed_unable_to_engage",
    "cancelled",
]
AWAITING_ACCEPTANCE: frozenset[ReferralStatus] = frozenset({"raised", "redirected"})
# Taken on by the receiving service, which is now trying to see the client.
TAKEN_ON: frozenset[ReferralStatus] = frozenset({"accepted", "scheduled"})
CLOSED: frozenset[ReferralStatus] = frozenset(
    {"completed", "declined", "closed_unable_to_engage", "cancelled"}
)

# Why the referrer referred. `other` needs a note.
ReferralReason = Literal[
    # A coach saw emotional symptoms return: back to therapy (a coach never treats).
    "symptoms_resurfaced",
    # A therapist judges the client stable enough for goal-directed coaching.
    "stable_for_coaching",
    "medication_evaluation",
    "specialist_consultation",
    "higher_level_of_care",
    "client_request",
    "other",
]
DeclineReason = Literal[
    "no_capacity",
    "outside_scope",
    "criteria_not_met",
    "client_declined",
    "duplicate_referral",
    "other",
]
RedirectReason = Literal["better_fit_elsewhere", "outside_scope", "no_capacity", "other"]
CancelReason = Literal[
    "client_withdrew",
    "need_resolved",
    "raised_in_error",
    "client_moved",
    "entered_other_care",
    "other",
]
# What came of a completed referral.
ReferralOutcome = Literal["engaged_in_care", "assessed_no_care_needed", "care_completed"]
# What the receiving service recommends for the referrer's own work with the client; only a
# referral from coaching can be answered with resume_coaching.
Recommendation = Literal["resume_coaching", "continue_in_therapy", "no_recommendation"]
# How the receiving service tried to reach the client.
ContactChannel = Literal["phone", "text_message", "email", "letter", "in_person"]
# The service-level targets a referral is held to.
ServiceLevelTarget = Literal["acknowledgement", "scheduling"]

_REFERENCE = re.compile(r"[A-Za-z0-9._:/-]{1,200}")


def _check_reference(value: str) -> str:
    if not _REFERENCE.fullmatch(value):
        raise ValueError("must be 1 to 200 characters of A-Z, a-z, 0-9, '.', '_', ':', '/' or '-'")
    return value


# A record elsewhere, as "<kind>/<id>": the source a referral came from ("coaching-concern/<id>",
# "supervision-session/<id>"), the origin waiting on its outcome ("coaching-engagement/<id>"),
# or the client's consent on file ("consent/<id>").
Reference = Annotated[str, AfterValidator(_check_reference)]

# A referral whose source is a supervision record was raised by a supervisor about a
# supervisee's client: it comes from therapy (see CareService).
SUPERVISION_SOURCE_PREFIX = "supervision-"

# Who did something: the caller named in the call's metadata, or the person a request names.
# An id, as every event's metadata and every consumer's store records who did something.
Actor = Id
# Words a person adds. They stay inside the referral service and are never published.
NOTE_MAX = 500
FEEDBACK_MAX = 2000
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX),
    AfterValidator(check_text),
]
Feedback = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=FEEDBACK_MAX),
    AfterValidator(check_text),
]


def feedback_reference(referral_id: str) -> str:
    """Where the referrer reads the feedback of a completed referral: the published
    ReferralCompleted carries this reference, never the feedback's words (which are about the
    client, and for a substance-use record may only be disclosed under the client's consent)."""
    return f"referral-feedback/{referral_id}"
