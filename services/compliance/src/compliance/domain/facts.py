"""The facts the compliance view is built from, each traceable to the event it came from.

Minimum necessary: hours, dates, formats, signatures and ids; never client identities beyond a
pseudonymous id, never notes.

Every view is read on two time axes, each applied in one place:
- `known_at` (a moment): only the facts recorded by then. Every fact carries `recorded_at`, the
  time the producing service recorded it (the CloudEvent's time, so a projection rebuilt from the
  log answers exactly as before); the reader keeps the facts with `recorded_at <= known_at` and
  nothing else. A report issued at a moment is reproduced exactly with `known_at` = that moment.
- `as_of` (a date, the end of that day): the state the facts describe, in valid time only, never
  in the time they were recorded. This is what the domain's `*_as_of` functions apply:
  - an original fact (a session logged, an agreement signed, a referral raised, a license
    recorded) stands from its own date, however late it was recorded;
  - a change with its own date (an approval, a termination, a transfer, a sign-off, a referral
    step, a license change) from that date;
  - a correction of a session (an amendment, a void) describes what the session was: it applies
    to every `as_of` once known (the session shows from its date, as corrected);
  - a supervisor's lapse marked on a session stands from the session's date;
  - a missed service-level target stands from the moment it was due;
  - a week's practice hours recorded again correct that week;
  - an agreement's new terms (an amendment has no date of its own) stand from the day they were
    recorded, and so does the agreement itself, as signed, before its start date.
  So a late entry shows in the current view of its period, and the view of a past period as it
  was known then is the same `as_of` with an earlier `known_at`.
Nothing is edited in place: every version is kept, and each names its event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal, Self

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


def recorded_on(recorded_at: dt.datetime) -> dt.date:
    """The day (UTC) a fact without a date of its own took effect: the day it was recorded."""
    return recorded_at.astimezone(dt.UTC).date()


def known(recorded_at: dt.datetime, known_at: dt.datetime) -> bool:
    """Whether a fact recorded at `recorded_at` had been recorded by `known_at`."""
    return recorded_at <= known_at


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
    """An amendment or a void of a logged session: what the session was, once known."""

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
    """The session's supervisor did not hold a license in good standing on the session's date
    (it stands from that date, once known)."""

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

    def known_at(self, moment: dt.datetime) -> SupervisionSessionFact | None:
        """The session as known at `moment`: None if not yet logged, and only the corrections
        and marks recorded by then."""
        if not known(self.recorded_at, moment):
            return None
        return self.model_copy(
            update={
                "corrections": tuple(c for c in self.corrections if known(c.recorded_at, moment)),
                "lapse_marks": tuple(m for m in self.lapse_marks if known(m.recorded_at, moment)),
            }
        )

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
    """A service-level target the referral missed: it stands from the moment it was due, however
    late the referral service's clock noticed and recorded it."""

    target: ServiceLevelTarget
    due_at: dt.datetime
    detected_at: dt.datetime
    recorded_at: dt.datetime
    source_event_id: str


class ReferralFact(Fact):
    """A referral as the compliance view knows it: how it was raised, and every step since."""

    referral_id: str
    client_id: str
    site_id: str
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    recorded_at: dt.datetime
    # The ReferralRaised event.
    source_event_ids: tuple[str, ...] = ()
    changes: tuple[ReferralChange, ...] = ()
    breaches: tuple[ServiceLevelBreach, ...] = ()

    def known_at(self, moment: dt.datetime) -> ReferralFact | None:
        """The referral as known at `moment`: None if not yet raised, and only the steps and
        breaches recorded by then."""
        if not known(self.recorded_at, moment):
            return None
        return self.model_copy(
            update={
                "changes": tuple(c for c in self.changes if known(c.recorded_at, moment)),
                "breaches": tuple(b for b in self.breaches if known(b.recorded_at, moment)),
            }
        )


ConcernKind = Literal[
    "supervisee", "session", "agreement", "evaluation", "referral", "site", "holder", "license"
]
Concern = tuple[ConcernKind, str]

# The payload fields that name what an event concerns. A credential holder is named by
# `holder_id` only: a session's `supervisor_id` concerns the session, not their licenses.
_CONCERN_FIELDS: tuple[tuple[str, ConcernKind], ...] = (
    ("supervisee_id", "supervisee"),
    ("supervisee_ids", "supervisee"),
    ("session_id", "session"),
    ("agreement_id", "agreement"),
    ("evaluation_id", "evaluation"),
    ("referral_id", "referral"),
    ("site_id", "site"),
    ("home_site_id", "site"),
    ("from_site_id", "site"),
    ("to_site_id", "site"),
    ("holder_id", "holder"),
    ("license_id", "license"),
)
_MAX_ID = 200


def concern_fields(field_names: Collection[str]) -> tuple[tuple[str, ConcernKind], ...]:
    """Of an event's fields, those that name what it concerns (worked out once per schema)."""
    return tuple((name, kind) for name, kind in _CONCERN_FIELDS if name in field_names)


def concerns(
    payload: Mapping[str, Any],
    fields: Sequence[tuple[str, ConcernKind]] = _CONCERN_FIELDS,
) -> tuple[Concern, ...]:
    """What an event's payload names (its supervisees, sessions, referrals, sites, credential
    holders...), read as far as it can be: a field that is not an id, or a list of them, is
    passed over rather than trusted. `fields` narrows the fields looked at (`concern_fields`)."""
    named: dict[Concern, None] = {}
    for name, kind in fields:
        value = payload.get(name)
        values = value if isinstance(value, list | tuple) else (value,)
        for item in values:
            if isinstance(item, str) and 0 < len(item) <= _MAX_ID:
                named[kind, item] = None
    return tuple(named)


class UnappliedEvent(Fact):
    """An event compliance received and could not apply (it went to the dead-letter topic): every
    view of what it concerned is incomplete until the event is applied after all."""

    # The event id, or where the message sat when it could not even be read as an event.
    event_key: str
    event_id: str | None
    event_type: str | None
    reason: str
    # When the producer recorded it (when compliance set it aside, if the message could not be
    # read): every view known from then on lacks it.
    recorded_at: dt.datetime
    # When compliance set it aside.
    failed_at: dt.datetime
    # What it names, as far as its payload could be read (see `concerns`).
    concerns: tuple[Concern, ...] = ()
