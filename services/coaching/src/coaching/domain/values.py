"""The values coaching records are made of."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from contracts.fields import check_text

# How soon therapy must act on a concern; the referral carries it over.
ConcernUrgency = Literal["routine", "urgent"]

# How an engagement ended. `referred_to_therapy`: the client went back to therapy and coaching
# does not continue (a paused engagement whose referral did not recommend resuming ends so).
EngagementOutcome = Literal[
    "goals_met",
    "partially_met",
    "goals_not_met",
    "client_withdrew",
    "lost_contact",
    "referred_to_therapy",
]

# The coach's reading of the client's progress toward their goals since the last note: a
# coaching measure of movement, never a clinical status.
Progress = Literal["setback", "no_change", "some_progress", "strong_progress"]

# What therapy recommends for coaching when a referral back to it completes (the referral
# contract's `recommendation`); only `resume_coaching` resumes a paused engagement.
Recommendation = Literal["resume_coaching", "continue_in_therapy", "no_recommendation"]

EngagementStatus = Literal["not_opened", "active", "paused", "closed"]
GoalStatus = Literal["open", "achieved", "dropped"]
HomeworkStatus = Literal["assigned", "completed", "missed"]
# A concern is open while its referral is with therapy, settled once the referral completed.
ConcernStatus = Literal["open", "settled"]

# Free text a coach writes (goal terms, reasons, homework, note summaries). It stays inside the
# coaching service: the published events carry ids, dates and statuses only.
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_text),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(check_text),
]
