"""A supervisee's record as an auditor asks to see it, as it stood at the end of a date:
registration, agreements, every session with its corrections, voids and lapse marks (and the
supervisor's licenses on the session's date), month sign-offs, evaluations and practice hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from compliance.domain.agreements import AgreementAsOf, AgreementFact, agreements_as_of
from compliance.domain.facts import Fact, SupervisionSessionFact, known_by
from compliance.domain.hours import sessions_as_of
from compliance.domain.sessions import SessionAsOf
from compliance.domain.standing import (
    DesignationFact,
    LicenseFact,
    SupervisorStanding,
    standing_on,
)

EvaluationTrigger = Literal["quarterly", "annual", "midterm", "final", "termination", "ad_hoc"]
MonthAction = Literal["signed_off", "reopened"]


class TransferFact(Fact):
    from_site_id: str
    to_site_id: str
    effective_on: dt.date
    source_event_id: str


class SuperviseeFact(Fact):
    supervisee_id: str
    credential_track: str
    license_number: str
    home_site_id: str
    registered_on: dt.date
    source_event_id: str
    transfers: tuple[TransferFact, ...] = ()


class SuperviseeAsOf(Fact):
    supervisee_id: str
    credential_track: str
    license_number: str
    registered_on: dt.date
    # The home site at the end of the day, after the transfers effective by then.
    home_site_id: str
    transfers: tuple[TransferFact, ...]
    source_event_ids: tuple[str, ...]


def supervisee_as_of(fact: SuperviseeFact, as_of: dt.date) -> SuperviseeAsOf | None:
    if fact.registered_on > as_of:
        return None
    transfers = tuple(
        sorted(
            (t for t in fact.transfers if t.effective_on <= as_of),
            key=lambda t: (t.effective_on, t.source_event_id),
        )
    )
    return SuperviseeAsOf(
        supervisee_id=fact.supervisee_id,
        credential_track=fact.credential_track,
        license_number=fact.license_number,
        registered_on=fact.registered_on,
        home_site_id=transfers[-1].to_site_id if transfers else fact.home_site_id,
        transfers=transfers,
        source_event_ids=(fact.source_event_id, *(t.source_event_id for t in transfers)),
    )


class PracticeHoursFact(Fact):
    """One record of a week's client hours at a site; a later one for the same week and site
    replaces it from the day it was recorded."""

    site_id: str
    # The Monday the week starts on.
    week_start: dt.date
    direct_minutes: int = Field(ge=0)
    indirect_minutes: int = Field(ge=0)
    correction: str | None = None
    recorded_at: dt.datetime
    source_event_id: str


class PracticeWeek(Fact):
    site_id: str
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    correction: str | None
    # The record in force, and the earlier ones it replaced, oldest first.
    source_event_id: str
    superseded_event_ids: tuple[str, ...]


class PracticeHours(Fact):
    weeks: tuple[PracticeWeek, ...]
    direct_minutes: int
    indirect_minutes: int


def practice_hours_as_of(facts: Iterable[PracticeHoursFact], as_of: dt.date) -> PracticeHours:
    """Per week and site, the latest record on file by the end of `as_of`, by week then site.

    A week's first record stands from the week itself; each later one is a correction, in force
    from the day it was recorded."""
    by_week: dict[tuple[dt.date, str], list[PracticeHoursFact]] = defaultdict(list)
    for fact in facts:
        if fact.week_start <= as_of:
            by_week[fact.week_start, fact.site_id].append(fact)
    weeks = []
    for (week_start, site_id), records in sorted(by_week.items()):
        first, *later = sorted(records, key=lambda r: (r.recorded_at, r.source_event_id))
        on_file = [first, *(r for r in later if known_by(r.recorded_at, as_of))]
        current = on_file[-1]
        weeks.append(
            PracticeWeek(
                site_id=site_id,
                week_start=week_start,
                direct_minutes=current.direct_minutes,
                indirect_minutes=current.indirect_minutes,
                correction=current.correction,
                source_event_id=current.source_event_id,
                superseded_event_ids=tuple(r.source_event_id for r in on_file[:-1]),
            )
        )
    return PracticeHours(
        weeks=tuple(weeks),
        direct_minutes=sum(w.direct_minutes for w in weeks),
        indirect_minutes=sum(w.indirect_minutes for w in weeks),
    )


class MonthEvent(Fact):
    """A month signed off by the supervisor, or reopened for a correction."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    action: MonthAction
    on: dt.date
    by: str
    reason: str | None = None
    recorded_at: dt.datetime
    source_event_id: str


class MonthStatus(Fact):
    month: str
    # signed_off: locked; reopened: open for a correction, to be signed again.
    status: MonthAction
    signed_by: str | None
    signed_on: dt.date | None
    history: tuple[MonthEvent, ...]
    source_event_ids: tuple[str, ...]


def months_as_of(events: Iterable[MonthEvent], as_of: dt.date) -> tuple[MonthStatus, ...]:
    """Each month signed off by the end of `as_of`, with its sign-offs and reopenings."""
    by_month: dict[str, list[MonthEvent]] = defaultdict(list)
    for event in events:
        if event.on <= as_of:
            by_month[event.month].append(event)
    months = []
    for month, history in sorted(by_month.items()):
        history.sort(key=lambda e: (e.on, e.recorded_at, e.source_event_id))
        signed = [e for e in history if e.action == "signed_off"]
        months.append(
            MonthStatus(
                month=month,
                status=history[-1].action,
                signed_by=signed[-1].by if signed else None,
                signed_on=signed[-1].on if signed else None,
                history=tuple(history),
                source_event_ids=tuple(e.source_event_id for e in history),
            )
        )
    return tuple(months)


class DomainScore(Fact):
    domain: str
    score: int


class EvaluationFact(Fact):
    """A signed competency evaluation (the narrative stays in supervision), and the
    supervisee's acknowledgement once recorded."""

    evaluation_id: str
    supervisor_id: str
    framework: str
    framework_version: str
    scale_min: int
    scale_max: int
    expected_min: int
    trigger: EvaluationTrigger
    period_start: dt.date
    period_end: dt.date
    scores: tuple[DomainScore, ...]
    below_expectations: tuple[str, ...]
    remediation_required: bool
    evidence_session_ids: tuple[str, ...]
    signed_on: dt.date
    source_event_id: str
    acknowledged_on: dt.date | None = None
    acknowledgement_event_id: str | None = None

    @property
    def source_event_ids(self) -> tuple[str, ...]:
        ack = self.acknowledgement_event_id
        return (self.source_event_id, *([ack] if ack else []))


def evaluations_as_of(
    facts: Iterable[EvaluationFact], as_of: dt.date
) -> tuple[EvaluationFact, ...]:
    """The evaluations signed by the end of `as_of`, acknowledged only if by then too."""
    shown = []
    for fact in facts:
        if fact.signed_on > as_of:
            continue
        if fact.acknowledged_on is not None and fact.acknowledged_on > as_of:
            fact = fact.model_copy(
                update={"acknowledged_on": None, "acknowledgement_event_id": None}
            )
        shown.append(fact)
    return tuple(sorted(shown, key=lambda e: (e.signed_on, e.evaluation_id)))


class SuperviseeFacts(Fact):
    """Everything projected about one supervisee, of any date."""

    supervisee_id: str
    registration: SuperviseeFact | None = None
    agreements: tuple[AgreementFact, ...] = ()
    sessions: tuple[SupervisionSessionFact, ...] = ()
    practice_hours: tuple[PracticeHoursFact, ...] = ()
    months: tuple[MonthEvent, ...] = ()
    evaluations: tuple[EvaluationFact, ...] = ()


class Credentials(Fact):
    """Licenses and supervisor designations from the credential registry."""

    licenses: tuple[LicenseFact, ...] = ()
    designations: tuple[DesignationFact, ...] = ()


class RecordedSession(Fact):
    session: SessionAsOf
    # The supervisor's licenses and designations on the session's date.
    supervisor: SupervisorStanding


class SuperviseeRecord(Fact):
    supervisee_id: str
    as_of: dt.date
    registration: SuperviseeAsOf | None
    agreements: tuple[AgreementAsOf, ...]
    # Every session dated by `as_of`, counted or not, by date.
    sessions: tuple[RecordedSession, ...]
    months: tuple[MonthStatus, ...]
    evaluations: tuple[EvaluationFact, ...]
    practice_hours: PracticeHours


def supervisors_of(facts: SuperviseeFacts) -> frozenset[str]:
    """Whose credentials the record needs."""
    return frozenset(s.supervisor_id for s in facts.sessions)


def record_as_of(
    facts: SuperviseeFacts, credentials: Credentials, as_of: dt.date
) -> SuperviseeRecord:
    agreements = agreements_as_of(facts.agreements, as_of)
    sessions = sessions_as_of(facts.sessions, as_of, agreements)
    registration = facts.registration
    return SuperviseeRecord(
        supervisee_id=facts.supervisee_id,
        as_of=as_of,
        registration=supervisee_as_of(registration, as_of) if registration else None,
        agreements=agreements,
        sessions=tuple(
            RecordedSession(
                session=session,
                supervisor=standing_on(
                    session.supervisor_id,
                    credentials.licenses,
                    credentials.designations,
                    session.date,
                ),
            )
            for session in sessions
        ),
        months=months_as_of(facts.months, as_of),
        evaluations=evaluations_as_of(facts.evaluations, as_of),
        practice_hours=practice_hours_as_of(facts.practice_hours, as_of),
    )
