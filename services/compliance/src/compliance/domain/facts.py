"""The facts the compliance view is built from, each traceable to the event it came from.

Minimum necessary: hours, dates, formats, signatures and ids; never client identities beyond a
pseudonymous id, never notes.

A view is "as it stood at the end of a date", and one rule says when a fact is part of it:
- an original fact (a session logged, an agreement signed, a referral raised, a license
  recorded, a week's practice hours first recorded) stands from its own date, however late it
  was recorded;
- a change with its own date (an approval, a termination, a sign-off, a referral accepted, a
  license suspended) takes effect on that date;
- a correction or a mark made after the fact (a session amended or voided, a supervisor lapse
  marked on a session, an agreement's terms amended, a week's practice hours recorded again)
  takes effect from the day it was recorded, so a view as of an earlier day shows the record as
  it stood then. Nothing is edited in place: every version is kept, and each names its event.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SessionKind = Literal["clinical", "administrative"]
# Triadic: one supervisor and two supervisees.
SessionFormat = Literal["individual", "triadic", "group"]
SessionModality = Literal["in_person", "video", "phone"]
LicenseLapse = Literal["suspended", "revoked", "expired"]
CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
Urgency = Literal["routine", "urgent"]


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def known_by(recorded_at: dt.datetime, day: dt.date) -> bool:
    """Whether something recorded at `recorded_at` (UTC) was on the record at the end of `day`."""
    return recorded_at.astimezone(dt.UTC).date() <= day


class SessionFigures(Fact):
    """What a session was: as logged, or as an amendment says it now stands."""

    kind: SessionKind = "clinical"
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    start_time: dt.time | None = None
    minutes: int = Field(gt=0)
    techniques: tuple[str, ...] = ()
    focus: tuple[str, ...] = ()


class SessionCorrection(Fact):
    """An amendment or a void of a logged session, in force from the day it was recorded."""

    change: Literal["amended", "voided"]
    recorded_at: dt.datetime
    by: str
    reason: str
    source_event_id: str
    # The session as it stands after an amendment; None for a void.
    amended_to: SessionFigures | None = None

    @model_validator(mode="after")
    def _amendments_say_what_the_session_became(self) -> Self:
        if (self.change == "amended") != (self.amended_to is not None):
            raise ValueError("an amendment carries the amended figures, and only an amendment")
        return self


class LapseMark(Fact):
    """The session's supervisor did not hold a license in good standing on the session's date."""

    license_id: str
    lapse: LicenseLapse
    lapsed_since: dt.date
    recorded_at: dt.datetime
    source_event_id: str


class SupervisionSessionFact(Fact):
    """One supervisee's part in one supervision session (one fact per session and supervisee):
    the figures as logged, and every correction and mark recorded since."""

    session_id: str
    supervisee_id: str
    kind: SessionKind = "clinical"
    date: dt.date
    format: SessionFormat
    modality: SessionModality
    minutes: int = Field(gt=0)
    start_time: dt.time | None = None
    techniques: tuple[str, ...] = ()
    focus: tuple[str, ...] = ()
    supervisor_id: str
    site_id: str
    # The SessionLogged event the figures as logged came from, and when it was recorded.
    source_event_id: str
    recorded_at: dt.datetime
    corrections: tuple[SessionCorrection, ...] = ()
    lapse_marks: tuple[LapseMark, ...] = ()

    @property
    def logged(self) -> SessionFigures:
        return SessionFigures(
            kind=self.kind,
            format=self.format,
            modality=self.modality,
            date=self.date,
            start_time=self.start_time,
            minutes=self.minutes,
            techniques=self.techniques,
            focus=self.focus,
        )


ReferralStatus = Literal[
    "raised",
    "accepted",
    "redirected",
    "scheduled",
    "completed",
    "declined",
    "closed_unable_to_engage",
    "cancelled",
]
# The statuses that close the loop: the referral leaves the open list.
CLOSED_STATUSES: frozenset[ReferralStatus] = frozenset(
    {"completed", "declined", "closed_unable_to_engage", "cancelled"}
)
ServiceLevelTarget = Literal["acknowledgement", "scheduling"]


class ReferralChange(Fact):
    """A step in a referral's loop, in force from its own date."""

    status: ReferralStatus
    on: dt.date
    recorded_at: dt.datetime
    source_event_id: str
    # A redirect sends the referral to another service.
    to_service: CareService | None = None
    # The first appointment a scheduling booked.
    appointment_on: dt.date | None = None


class ServiceLevelBreach(Fact):
    """A service-level target the referral missed, on the record from the day it was detected."""

    target: ServiceLevelTarget
    due_at: dt.datetime
    detected_at: dt.datetime
    source_event_id: str


class ReferralFact(Fact):
    """A referral as the compliance view knows it: how it was raised, and every step since."""

    referral_id: str
    client_id: str
    site_id: str
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    # The ReferralRaised event.
    source_event_ids: tuple[str, ...] = ()
    changes: tuple[ReferralChange, ...] = ()
    breaches: tuple[ServiceLevelBreach, ...] = ()
