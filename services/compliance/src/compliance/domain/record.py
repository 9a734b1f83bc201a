"""A supervisee's record as an auditor asks to see it, as it stood at the end of a date:
registration, agreements, every session with its corrections, voids and lapse marks (and the
supervisor's licenses on the session's date), month sign-offs, evaluations and practice hours.

Compliance has heard of a supervisee once it holds their registration or any fact naming them
(a session, an agreement, practice hours, a sign-off, an evaluation), or an event naming them it
could not apply; of anyone else it knows nothing (`UnknownSupervisee`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, Protocol, TypeVar

from pydantic import Field

from compliance.domain.agreements import AgreementAsOf, AgreementFact, agreements_as_of
from compliance.domain.facts import Fact, SupervisionSessionFact, known
from compliance.domain.hours import sessions_as_of
from compliance.domain.sessions import SessionAsOf
from compliance.domain.standing import (
    DesignationFact,
    LicenseFact,
    SupervisorStanding,
    standing_on,
)
from infra.ddd import NotFound

EvaluationTrigger = Literal["quarterly", "annual", "midterm", "final", "termination", "ad_hoc"]
MonthAction = Literal["signed_off", "reopened"]


class UnknownSupervisee(NotFound):
    """Compliance has never heard of this supervisee (by the moment the view is known at)."""

    def __init__(self, supervisee_id: str, known_at: dt.datetime) -> None:
        super().__init__(
            f"compliance has no record of supervisee {supervisee_id} "
            f"as known at {known_at.isoformat()}"
        )
        self.supervisee_id = supervisee_id
        self.known_at = known_at


class UnknownSite(NotFound):
    """No supervisee was ever at this site (by the moment the view is known at)."""

    def __init__(self, site_id: str, known_at: dt.datetime) -> None:
        super().__init__(
            f"compliance has no record of a supervisee at site {site_id} "
            f"as known at {known_at.isoformat()}"
        )
        self.site_id = site_id
        self.known_at = known_at


class UnknownSupervisor(NotFound):
    """No agreement names this supervisor and they hold no credential on the record (by the
    moment the view is known at)."""

    def __init__(self, supervisor_id: str, known_at: dt.datetime) -> None:
        super().__init__(
            f"compliance has no agreement or credential of supervisor {supervisor_id} "
            f"as known at {known_at.isoformat()}"
        )
        self.supervisor_id = supervisor_id
        self.known_at = known_at


class TransferFact(Fact):
    from_site_id: str
    to_site_id: str
    effective_on: dt.date
    recorded_at: dt.datetime
    source_event_id: str


class SuperviseeFact(Fact):
    supervisee_id: str
    credential_track: str
    license_number: str
    home_site_id: str
    registered_on: dt.date
    recorded_at: dt.datetime
    source_event_id: str
    transfers: tuple[TransferFact, ...] = ()

    def known_at(self, moment: dt.datetime) -> SuperviseeFact | None:
        if not known(self.recorded_at, moment):
            return None
        return self.model_copy(
            update={"transfers": tuple(t for t in self.transfers if known(t.recorded_at, moment))}
        )


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
    corrects that week."""

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
    """Per week and site, the latest record on file, for the weeks begun by the end of `as_of`,
    by week then site. A week stands from the week itself; each later record of it is a
    correction of that week."""
    by_week: dict[tuple[dt.date, str], list[PracticeHoursFact]] = defaultdict(list)
    for fact in facts:
        if fact.week_start <= as_of:
            by_week[fact.week_start, fact.site_id].append(fact)
    weeks = []
    for (week_start, site_id), records in sorted(by_week.items()):
        on_file = sorted(records, key=lambda r: (r.recorded_at, r.source_event_id))
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
    recorded_at: dt.datetime
    source_event_id: str
    acknowledged_on: dt.date | None = None
    acknowledgement_recorded_at: dt.datetime | None = None
    acknowledgement_event_id: str | None = None

    @property
    def source_event_ids(self) -> tuple[str, ...]:
        ack = self.acknowledgement_event_id
        return (self.source_event_id, *([ack] if ack else []))

    def _unacknowledged(self) -> EvaluationFact:
        return self.model_copy(
            update={
                "acknowledged_on": None,
                "acknowledgement_recorded_at": None,
                "acknowledgement_event_id": None,
            }
        )

    def known_at(self, moment: dt.datetime) -> EvaluationFact | None:
        if not known(self.recorded_at, moment):
            return None
        ack = self.acknowledgement_recorded_at
        return self if ack is None or known(ack, moment) else self._unacknowledged()


def evaluations_as_of(
    facts: Iterable[EvaluationFact], as_of: dt.date
) -> tuple[EvaluationFact, ...]:
    """The evaluations signed by the end of `as_of`, acknowledged only if by then too."""
    shown = []
    for fact in facts:
        if fact.signed_on > as_of:
            continue
        if fact.acknowledged_on is not None and fact.acknowledged_on > as_of:
            fact = fact._unacknowledged()
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

    @property
    def heard_of(self) -> bool:
        """Whether any fact names the supervisee (their registration or anything else)."""
        return self.registration is not None or any(
            (self.agreements, self.sessions, self.practice_hours, self.months, self.evaluations)
        )

    def known_at(self, moment: dt.datetime) -> SuperviseeFacts:
        """What had been recorded about the supervisee by `moment`: what the reader returns for
        a view known at that moment."""
        registration = self.registration.known_at(moment) if self.registration else None
        return SuperviseeFacts(
            supervisee_id=self.supervisee_id,
            registration=registration,
            agreements=_known(self.agreements, moment),
            sessions=_known(self.sessions, moment),
            practice_hours=tuple(p for p in self.practice_hours if known(p.recorded_at, moment)),
            months=tuple(m for m in self.months if known(m.recorded_at, moment)),
            evaluations=_known(self.evaluations, moment),
        )


F = TypeVar("F", covariant=True)


class _KnownAt(Protocol[F]):
    def known_at(self, moment: dt.datetime) -> F | None: ...


def _known(facts: Iterable[_KnownAt[F]], moment: dt.datetime) -> tuple[F, ...]:
    shown = (fact.known_at(moment) for fact in facts)
    return tuple(fact for fact in shown if fact is not None)


class Credentials(Fact):
    """Licenses and supervisor designations from the credential registry."""

    licenses: tuple[LicenseFact, ...] = ()
    designations: tuple[DesignationFact, ...] = ()

    def known_at(self, moment: dt.datetime) -> Credentials:
        return Credentials(
            licenses=_known(self.licenses, moment),
            designations=tuple(d for d in self.designations if known(d.recorded_at, moment)),
        )


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
