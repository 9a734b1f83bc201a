"""The Supervisee aggregate: one stream per supervisee holding their registration, agreements,
the supervision they received, their practice hours and the months their supervisor signed.

Everything that must hold across a supervisee's record is decided here: the concurrent-supervisor
limit spans all their agreements, a signed-off month locks every record dated in it, and an
agreement must keep covering the sessions recorded under it.

Retries are not decided here: every command is recorded with its id (the command runner answers a
retry with the first outcome, however much happened since), so the state holds the record as it
stands and no history kept only to recognise a retried command.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain.commands import (
    AmendAgreement,
    ApproveAgreement,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    TerminateAgreement,
    TransferSupervisee,
)
from supervision.domain.errors import (
    AgreementIdMustNotBeReused,
    AgreementMustBeApprovedOnce,
    AgreementMustBeInForceToChange,
    AgreementMustEndAfterItStarts,
    AgreementMustExist,
    AgreementMustStillCoverItsSessions,
    BoardApprovalMustBeRequiredByTheTrack,
    ConcurrentSupervisorsMustStayWithinTrackLimit,
    CorrectionMustHaveARecordToCorrect,
    CredentialTrackMustMatchRegistration,
    DateMustNotBeInTheFuture,
    MonthMustBeOpenToChange,
    MonthMustBeOpenToSignOff,
    MonthMustBeSignedOffToReopen,
    PracticeHoursCorrectionMustSayWhy,
    ReopeningMustNotPrecedeTheSignOff,
    SignOffMustBeByASupervisorOfTheMonth,
    SuperviseeIdMustNotBeReused,
    SuperviseeMustBeRegistered,
    TerminationMustFallWithinTheAgreement,
    TransferMustChangeTheSite,
    TransferMustNotPrecedeTheLastChange,
)
from supervision.domain.events import (
    AgreementAmended,
    AgreementApproved,
    AgreementSigned,
    AgreementTerminated,
    MonthReopened,
    MonthSignedOff,
    PracticeHoursRecorded,
    SuperviseeRegistered,
    SuperviseeTransferred,
    SupervisionAmended,
    SupervisionReceived,
    SupervisionVoided,
)
from supervision.domain.tracks import TrackRules, Tracks
from supervision.domain.values import (
    AgreementPeriod,
    SessionFormat,
    SessionKind,
    SessionModality,
    WellbeingCheck,
    month_bounds,
    month_of,
)

SuperviseeCommand = (
    RegisterSupervisee
    | TransferSupervisee
    | SignAgreement
    | ApproveAgreement
    | AmendAgreement
    | TerminateAgreement
    | RecordPracticeHours
    | SignOffMonth
    | ReopenMonth
)


def stream_id(supervisee_id: str) -> str:
    return f"supervisee-{supervisee_id}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Registration(_Frozen):
    credential_track: str
    license_number: str
    home_site_id: str
    registered_on: dt.date


class HomeSite(_Frozen):
    """The supervisee's home site and since when (registration or the last transfer)."""

    site_id: str
    since: dt.date


class AgreementTerms(_Frozen):
    end_date: dt.date
    modalities: tuple[SessionModality, ...] = ()
    # None on agreements signed before frequency was recorded.
    sessions_per_period: int | None = None
    period: AgreementPeriod | None = None


class Approval(_Frozen):
    approved_on: dt.date
    approval_reference: str


class Termination(_Frozen):
    terminated_on: dt.date
    reason: str
    terminated_by: str


class Agreement(_Frozen):
    """A signed agreement: one supervisor, one supervisee, one site, in force from start_date
    to its last day inclusive (the end date as amended, or the termination date)."""

    agreement_id: str
    supervisor_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    # As now in force (as signed, or as last amended).
    terms: AgreementTerms
    board_approval_required: bool = False
    approval: Approval | None = None
    termination: Termination | None = None
    amendments: int = 0

    @property
    def end_date(self) -> dt.date:
        return self.terms.end_date

    @property
    def last_day(self) -> dt.date:
        """The last day the agreement is in force."""
        if self.termination is None:
            return self.terms.end_date
        return min(self.terms.end_date, self.termination.terminated_on)

    def in_force_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.last_day

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.start_date <= end and start <= self.last_day

    def covers(self, supervisor_id: str, site_id: str, day: dt.date) -> bool:
        """Whether a session with this supervisor at this site on this day falls under it."""
        return (
            self.supervisor_id == supervisor_id
            and self.site_id == site_id
            and self.in_force_on(day)
        )


class SupervisionRecord(_Frozen):
    """One session as it counts for this supervisee, under the agreement that covers it."""

    session_id: str
    agreement_id: str
    date: dt.date
    minutes: int
    format: SessionFormat
    modality: SessionModality
    supervisor_id: str
    site_id: str
    kind: SessionKind = "clinical"
    wellbeing: WellbeingCheck | None = None
    voided: bool = False


class PracticeWeek(_Frozen):
    site_id: str
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    correction: str | None = None


class MonthSignOff(_Frozen):
    supervisor_id: str
    signed_on: dt.date


class SuperviseeState(_Frozen):
    """The supervisee's record as it stands."""

    # None until the first event.
    supervisee_id: str | None = None
    registration: Registration | None = None
    home: HomeSite | None = None
    agreements: tuple[Agreement, ...] = ()
    # By session id.
    supervision: Mapping[str, SupervisionRecord] = {}
    # By (week_start, site_id): the week's figures as last recorded.
    practice: Mapping[tuple[dt.date, str], PracticeWeek] = {}
    # By "YYYY-MM": the months signed off and not reopened since.
    signed_months: Mapping[str, MonthSignOff] = {}

    def agreement(self, agreement_id: str) -> Agreement | None:
        return next((a for a in self.agreements if a.agreement_id == agreement_id), None)

    def covering_agreement(
        self, supervisor_id: str, site_id: str, day: dt.date
    ) -> Agreement | None:
        """The agreement a session with this supervisor at this site on this day falls under;
        the earliest signed when several do."""
        return next((a for a in self.agreements if a.covers(supervisor_id, site_id, day)), None)

    def is_locked(self, day: dt.date) -> bool:
        """Whether the month of `day` is signed off (and so its record cannot change)."""
        return month_of(day) in self.signed_months

    def check_open(self, supervisee_id: str, day: dt.date, action: str) -> None:
        """Raises MonthMustBeOpenToChange when `day` falls in a signed-off month."""
        if self.is_locked(day):
            raise MonthMustBeOpenToChange(supervisee_id, month_of(day), action)


INITIAL = SuperviseeState()


def decide(
    state: SuperviseeState, command: SuperviseeCommand, today: dt.date, tracks: Tracks
) -> list[DomainEvent]:
    """The events a command records on the supervisee's stream; [] when it is already recorded.
    `tracks` are the credential tracks of the rule packs: which are known, and their limits."""
    if state.supervisee_id is not None and state.supervisee_id != command.supervisee_id:
        raise ValueError(f"{command.supervisee_id}'s command decided on another's state")
    match command:
        case RegisterSupervisee():
            return _register(state, command, today, tracks)
        case TransferSupervisee():
            return _transfer(state, command, today)
        case SignAgreement():
            return _sign(state, command, tracks)
        case ApproveAgreement():
            return _approve(state, command, today)
        case AmendAgreement():
            return _amend(state, command, tracks)
        case TerminateAgreement():
            return _terminate(state, command)
        case RecordPracticeHours():
            return _record_practice(state, command, today)
        case SignOffMonth():
            return _sign_off(state, command, today)
        case ReopenMonth():
            return _reopen(state, command, today)


def _register(
    state: SuperviseeState, command: RegisterSupervisee, today: dt.date, tracks: Tracks
) -> list[DomainEvent]:
    tracks.check_known(command.credential_track)
    proposed = Registration(
        credential_track=command.credential_track,
        license_number=command.license_number,
        home_site_id=command.home_site_id,
        registered_on=command.registered_on,
    )
    if state.registration is not None:
        raise SuperviseeIdMustNotBeReused(command.supervisee_id)
    if command.registered_on > today:
        raise DateMustNotBeInTheFuture("registered_on", command.registered_on, today)
    return [SuperviseeRegistered(supervisee_id=command.supervisee_id, **proposed.model_dump())]


def _transfer(
    state: SuperviseeState, command: TransferSupervisee, today: dt.date
) -> list[DomainEvent]:
    _registered(state, command.supervisee_id, "transferring them")
    home = state.home
    assert home is not None  # a registration sets it
    if home.site_id == command.to_site_id:
        raise TransferMustChangeTheSite(command.supervisee_id, home.site_id)
    if command.effective_on > today:
        raise DateMustNotBeInTheFuture("effective_on", command.effective_on, today)
    if command.effective_on < home.since:
        raise TransferMustNotPrecedeTheLastChange(
            command.supervisee_id, command.effective_on, home.since
        )
    return [
        SuperviseeTransferred(
            supervisee_id=command.supervisee_id,
            from_site_id=home.site_id,
            to_site_id=command.to_site_id,
            effective_on=command.effective_on,
        )
    ]


def _sign(state: SuperviseeState, command: SignAgreement, tracks: Tracks) -> list[DomainEvent]:
    if command.credential_track is not None:
        tracks.check_known(command.credential_track)
    if state.agreement(command.agreement_id) is not None:
        raise AgreementIdMustNotBeReused(command.agreement_id)
    registration = _registered(state, command.supervisee_id, "signing an agreement")
    track = registration.credential_track
    if command.credential_track is not None and command.credential_track != track:
        raise CredentialTrackMustMatchRegistration(
            command.supervisee_id, command.credential_track, track
        )
    # The agreement is checked by the rules in force on the day it starts.
    rules = tracks.on(track, command.start_date)
    _check_concurrent_supervisors(
        state.agreements,
        command.supervisee_id,
        rules,
        command.supervisor_id,
        command.start_date,
        command.end_date,
    )
    return [
        AgreementSigned(
            agreement_id=command.agreement_id,
            supervisor_id=command.supervisor_id,
            supervisee_id=command.supervisee_id,
            site_id=command.site_id,
            credential_track=track,
            start_date=command.start_date,
            end_date=command.end_date,
            modalities=command.modalities,
            sessions_per_period=command.sessions_per_period,
            period=command.period,
            board_approval_required=rules.board_approval_before_hours_count,
        )
    ]


def _approve(
    state: SuperviseeState, command: ApproveAgreement, today: dt.date
) -> list[DomainEvent]:
    agreement = _existing(state, command.supervisee_id, command.agreement_id)
    approval = Approval(
        approved_on=command.approved_on, approval_reference=command.approval_reference
    )
    if agreement.approval is not None:
        raise AgreementMustBeApprovedOnce(
            command.agreement_id,
            agreement.approval.approved_on,
            agreement.approval.approval_reference,
        )
    if not agreement.board_approval_required:
        raise BoardApprovalMustBeRequiredByTheTrack(
            command.agreement_id, agreement.credential_track
        )
    if command.approved_on > today:
        raise DateMustNotBeInTheFuture("approved_on", command.approved_on, today)
    return [
        AgreementApproved(
            supervisee_id=command.supervisee_id,
            agreement_id=command.agreement_id,
            **approval.model_dump(),
        )
    ]


def _amend(state: SuperviseeState, command: AmendAgreement, tracks: Tracks) -> list[DomainEvent]:
    agreement = _existing(state, command.supervisee_id, command.agreement_id)
    terms = AgreementTerms(
        end_date=command.end_date,
        modalities=command.modalities,
        sessions_per_period=command.sessions_per_period,
        period=command.period,
    )
    if agreement.termination is not None:
        raise AgreementMustBeInForceToChange(
            command.agreement_id, agreement.termination.terminated_on, "amended"
        )
    if _same_terms(agreement.terms, terms):
        return []  # these are the terms in force: nothing to amend
    if command.end_date <= agreement.start_date:
        raise AgreementMustEndAfterItStarts(agreement.start_date, command.end_date)
    _check_sessions_stay_covered(state, agreement, command.end_date)
    others = [a for a in state.agreements if a.agreement_id != agreement.agreement_id]
    _check_concurrent_supervisors(
        others,
        command.supervisee_id,
        tracks.on(agreement.credential_track, agreement.start_date),
        agreement.supervisor_id,
        agreement.start_date,
        command.end_date,
    )
    return [
        AgreementAmended(
            supervisee_id=command.supervisee_id,
            agreement_id=command.agreement_id,
            end_date=command.end_date,
            modalities=command.modalities,
            sessions_per_period=command.sessions_per_period,
            period=command.period,
            reason=command.reason,
            amended_by=command.actor,
        )
    ]


def _terminate(state: SuperviseeState, command: TerminateAgreement) -> list[DomainEvent]:
    agreement = _existing(state, command.supervisee_id, command.agreement_id)
    if agreement.termination is not None:
        raise AgreementMustBeInForceToChange(
            command.agreement_id, agreement.termination.terminated_on, "terminated"
        )
    if not agreement.start_date <= command.terminated_on <= agreement.end_date:
        raise TerminationMustFallWithinTheAgreement(
            command.agreement_id, command.terminated_on, agreement.start_date, agreement.end_date
        )
    _check_sessions_stay_covered(state, agreement, command.terminated_on)
    return [
        AgreementTerminated(
            supervisee_id=command.supervisee_id,
            agreement_id=command.agreement_id,
            terminated_on=command.terminated_on,
            reason=command.reason,
            terminated_by=command.actor,
        )
    ]


def _record_practice(
    state: SuperviseeState, command: RecordPracticeHours, today: dt.date
) -> list[DomainEvent]:
    _registered(state, command.supervisee_id, "recording their practice hours")
    key = (command.week_start, command.site_id)
    existing = state.practice.get(key)
    if existing is not None and (existing.direct_minutes, existing.indirect_minutes) == (
        command.direct_minutes,
        command.indirect_minutes,
    ):
        return []  # these are the week's figures: nothing to correct
    if command.week_start > today:
        raise DateMustNotBeInTheFuture("week_start", command.week_start, today)
    state.check_open(command.supervisee_id, command.week_start, "recording practice hours in it")
    if existing is None and command.correction is not None:
        raise CorrectionMustHaveARecordToCorrect(
            command.supervisee_id, command.site_id, command.week_start
        )
    if existing is not None and command.correction is None:
        raise PracticeHoursCorrectionMustSayWhy(
            command.supervisee_id, command.site_id, command.week_start
        )
    return [
        PracticeHoursRecorded(
            supervisee_id=command.supervisee_id,
            site_id=command.site_id,
            week_start=command.week_start,
            direct_minutes=command.direct_minutes,
            indirect_minutes=command.indirect_minutes,
            correction=command.correction,
        )
    ]


def _sign_off(state: SuperviseeState, command: SignOffMonth, today: dt.date) -> list[DomainEvent]:
    signed = state.signed_months.get(command.month)
    if signed is not None:
        raise MonthMustBeOpenToSignOff(
            command.supervisee_id, command.month, signed.supervisor_id, signed.signed_on
        )
    if command.signed_on > today:
        raise DateMustNotBeInTheFuture("signed_on", command.signed_on, today)
    first, last = month_bounds(command.month)
    if not any(
        a.supervisor_id == command.supervisor_id and a.overlaps(first, last)
        for a in state.agreements
    ):
        raise SignOffMustBeByASupervisorOfTheMonth(
            command.supervisee_id, command.month, command.supervisor_id
        )
    return [
        MonthSignedOff(
            supervisee_id=command.supervisee_id,
            month=command.month,
            supervisor_id=command.supervisor_id,
            signed_on=command.signed_on,
        )
    ]


def _reopen(state: SuperviseeState, command: ReopenMonth, today: dt.date) -> list[DomainEvent]:
    signed = state.signed_months.get(command.month)
    if signed is None:
        raise MonthMustBeSignedOffToReopen(command.supervisee_id, command.month)
    # Left undated, a reopening is dated the day it is decided (a retry is answered from its
    # record, so the day it arrives does not matter).
    reopened_on = command.reopened_on or today
    if reopened_on > today:
        raise DateMustNotBeInTheFuture("reopened_on", reopened_on, today)
    if reopened_on < signed.signed_on:
        raise ReopeningMustNotPrecedeTheSignOff(command.month, reopened_on, signed.signed_on)
    return [
        MonthReopened(
            supervisee_id=command.supervisee_id,
            month=command.month,
            reopened_by=command.actor,
            reason=command.reason,
            reopened_on=reopened_on,
        )
    ]


def evolve(state: SuperviseeState, event: DomainEvent) -> SuperviseeState:
    match event:
        case SuperviseeRegistered():
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "registration": Registration(
                        credential_track=event.credential_track,
                        license_number=event.license_number,
                        home_site_id=event.home_site_id,
                        registered_on=event.registered_on,
                    ),
                    "home": HomeSite(site_id=event.home_site_id, since=event.registered_on),
                }
            )
        case SuperviseeTransferred():
            home = HomeSite(site_id=event.to_site_id, since=event.effective_on)
            return state.model_copy(update={"home": home})
        case AgreementSigned():
            terms = AgreementTerms(
                end_date=event.end_date,
                modalities=event.modalities,
                sessions_per_period=event.sessions_per_period,
                period=event.period,
            )
            agreement = Agreement(
                agreement_id=event.agreement_id,
                supervisor_id=event.supervisor_id,
                site_id=event.site_id,
                credential_track=event.credential_track,
                start_date=event.start_date,
                terms=terms,
                board_approval_required=event.board_approval_required,
            )
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "agreements": (*state.agreements, agreement),
                }
            )
        case AgreementApproved():
            approval = Approval(
                approved_on=event.approved_on, approval_reference=event.approval_reference
            )
            return _with_agreement(state, event.agreement_id, approval=approval)
        case AgreementAmended():
            terms = AgreementTerms(
                end_date=event.end_date,
                modalities=event.modalities,
                sessions_per_period=event.sessions_per_period,
                period=event.period,
            )
            in_force = _agreement_of(state, event.agreement_id)
            return _with_agreement(
                state, event.agreement_id, terms=terms, amendments=in_force.amendments + 1
            )
        case AgreementTerminated():
            termination = Termination(
                terminated_on=event.terminated_on,
                reason=event.reason,
                terminated_by=event.terminated_by,
            )
            return _with_agreement(state, event.agreement_id, termination=termination)
        case SupervisionReceived():
            record = SupervisionRecord(
                session_id=event.session_id,
                agreement_id=event.agreement_id,
                date=event.date,
                minutes=event.minutes,
                format=event.format,
                modality=event.modality,
                supervisor_id=event.supervisor_id,
                site_id=event.site_id,
                kind=event.kind,
                wellbeing=event.wellbeing,
            )
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "supervision": {**state.supervision, event.session_id: record},
                }
            )
        case SupervisionAmended():
            amended = state.supervision[event.session_id].model_copy(
                update={
                    "agreement_id": event.agreement_id,
                    "date": event.date,
                    "minutes": event.minutes,
                    "format": event.format,
                    "modality": event.modality,
                    "kind": event.kind,
                }
            )
            return state.model_copy(
                update={"supervision": {**state.supervision, event.session_id: amended}}
            )
        case SupervisionVoided():
            voided = state.supervision[event.session_id].model_copy(update={"voided": True})
            return state.model_copy(
                update={"supervision": {**state.supervision, event.session_id: voided}}
            )
        case PracticeHoursRecorded():
            week = PracticeWeek(
                site_id=event.site_id,
                week_start=event.week_start,
                direct_minutes=event.direct_minutes,
                indirect_minutes=event.indirect_minutes,
                correction=event.correction,
            )
            key = (event.week_start, event.site_id)
            return state.model_copy(update={"practice": {**state.practice, key: week}})
        case MonthSignedOff():
            signed = MonthSignOff(supervisor_id=event.supervisor_id, signed_on=event.signed_on)
            return state.model_copy(
                update={"signed_months": {**state.signed_months, event.month: signed}}
            )
        case MonthReopened():
            signed_months = {m: s for m, s in state.signed_months.items() if m != event.month}
            return state.model_copy(update={"signed_months": signed_months})
        case _:
            raise TypeError(f"a supervisee stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: SuperviseeState = INITIAL) -> SuperviseeState:
    for event in events:
        state = evolve(state, event)
    return state


def _registered(state: SuperviseeState, supervisee_id: str, action: str) -> Registration:
    if state.registration is None:
        raise SuperviseeMustBeRegistered(supervisee_id, action)
    return state.registration


def _existing(state: SuperviseeState, supervisee_id: str, agreement_id: str) -> Agreement:
    agreement = state.agreement(agreement_id)
    if agreement is None:
        raise AgreementMustExist(supervisee_id, agreement_id)
    return agreement


def _agreement_of(state: SuperviseeState, agreement_id: str) -> Agreement:
    agreement = state.agreement(agreement_id)
    if agreement is None:
        raise ValueError(f"no agreement {agreement_id} on this stream")
    return agreement


def _with_agreement(
    state: SuperviseeState, agreement_id: str, **changes: object
) -> SuperviseeState:
    _agreement_of(state, agreement_id)
    agreements = tuple(
        a.model_copy(update=changes) if a.agreement_id == agreement_id else a
        for a in state.agreements
    )
    return state.model_copy(update={"agreements": agreements})


def _same_terms(a: AgreementTerms, b: AgreementTerms) -> bool:
    return (
        a.end_date == b.end_date
        and set(a.modalities) == set(b.modalities)
        and a.sessions_per_period == b.sessions_per_period
        and a.period == b.period
    )


def _check_sessions_stay_covered(
    state: SuperviseeState, agreement: Agreement, last_day: dt.date
) -> None:
    stranded = [
        record.session_id
        for record in state.supervision.values()
        if record.agreement_id == agreement.agreement_id
        and not record.voided
        and record.date > last_day
    ]
    if stranded:
        raise AgreementMustStillCoverItsSessions(agreement.agreement_id, last_day, stranded)


def _check_concurrent_supervisors(
    agreements: Iterable[Agreement],
    supervisee_id: str,
    rules: TrackRules,
    supervisor_id: str,
    start: dt.date,
    last_day: dt.date,
) -> None:
    """Counts distinct supervisors in force on each day of the proposed window. The count only
    rises on a day an agreement starts, so checking those days is enough. Two agreements with the
    same supervisor (for example at two sites) are one supervisor. Terminations and amended end
    dates count: an agreement is in force up to its last day."""
    limit = rules.concurrent_supervisors_max
    if limit is None:
        return
    windows = [
        (a.supervisor_id, a.start_date, a.last_day)
        for a in agreements
        if a.overlaps(start, last_day)
    ] + [(supervisor_id, start, last_day)]
    for day in sorted({max(first, start) for _, first, _ in windows}):
        supervisors = {who for who, first, last in windows if first <= day <= last}
        if len(supervisors) > limit:
            raise ConcurrentSupervisorsMustStayWithinTrackLimit(
                supervisee_id, rules.track_id, limit, day, supervisors
            )
