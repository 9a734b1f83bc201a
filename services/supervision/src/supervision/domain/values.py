"""The values supervision records are made of."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

# Individual: one supervisee; triadic: two with one supervisor (most boards count it as
# individual); group: three or more (two under some boards), up to the track's cap.
SessionFormat = Literal["individual", "triadic", "group"]
SessionModality = Literal["in_person", "video", "phone"]
# Administrative supervision (caseload, scheduling, policy) never counts toward licensure.
SessionKind = Literal["clinical", "administrative"]
Technique = Literal[
    "corrective_feedback",
    "discussion_of_interventions",
    "role_play",
    "direct_observation",
    "case_review",
    "recording_review",
]
# Bernard's discrimination model: what the supervisor attended to.
Focus = Literal["intervention", "conceptualization", "personalization"]
AgreementPeriod = Literal["week", "two_weeks", "month"]
# What a licensing board's action (or the calendar) did to a supervisor's license.
LicenseChangeKind = Literal["recorded", "renewed", "suspended", "reinstated", "revoked", "expired"]
LicenseLapse = Literal["suspended", "revoked", "expired"]

# The wellbeing check's scale: 1 (none) to 5 (severe). Numbers only: the check never holds text.
WELLBEING_LOWEST = 1
WELLBEING_HIGHEST = 5


class WellbeingCheck(BaseModel):
    """How a supervisee was doing at a session, on the scale above. Private to the supervisee's
    own record: never published."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    burnout: int
    vicarious_trauma: int


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def parse_month(text: str) -> str:
    """A calendar month as "YYYY-MM"; a ValueError for anything else."""
    if not _MONTH.fullmatch(text):
        raise ValueError(f"{text!r} is not a month (YYYY-MM)")
    return text


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of a "YYYY-MM" month."""
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])
