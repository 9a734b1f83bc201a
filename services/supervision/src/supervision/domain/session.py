"""The Session aggregate: one stream per supervision session.

Logging, amending and voiding a session are decided against the session's own stream, the
Supervisee streams of everyone in it and the Supervisor stream of whoever led it:
- each supervisee must be covered by an agreement in force that day, in a month not signed off,
  and receives the session (or its correction) on their own stream, so a supervisee's record is
  complete without reading other streams;
- the supervisor's standing is read, never written: a session held on a day the supervisor was in
  lapse is recorded as it happened AND marked, never refused. (The service's index of sessions
  by supervisor, written with the session, is how a lapse learnt later finds them.)
The result is a `Decision`: the events per stream, appended in ONE transaction with the versions
the states were read at. A retried command is answered from its record by the command runner;
nothing here recognises retries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain import supervisee
from supervision.domain.commands import AmendSession, LogSession, VoidSession
from supervision.domain.decision import Decision
from supervision.domain.errors import (
    SessionIdMustNotBeReused,
    SessionMustExist,
    SessionMustNotBeDatedInTheFuture,
    SessionMustStandToBeChanged,
    SessionSizeMustFitItsFormat,
    SuperviseeMustBeCoveredByAnAgreement,
)
from supervision.domain.events import (
    SessionAmended,
    SessionLogged,
    SessionVoided,
    SupervisionAmended,
    SupervisionReceived,
    SupervisionVoided,
    SupervisorLapseMarked,
)
from supervision.domain.supervisee import Agreement, SuperviseeState
from supervision.domain.supervisor import SupervisorState
from supervision.domain.tracks import Tracks
from supervision.domain.values import (
    Focus,
    LicenseLapse,
    SessionFormat,
    SessionKind,
    SessionModality,
    Technique,
)

__all__ = [
    "INITIAL",
    "Decision",
    "SessionRecord",
    "SessionState",
    "decide_amend_session",
    "decide_log_session",
    "decide_void_session",
    "evolve",
    "fold",
    "lapse_mark",
    "stream_id",
]


def stream_id(session_id: str) -> str:
    return f"session-{session_id}"


class SessionRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    kind: SessionKind = "clinical"
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    start_time: dt.time | None = None
    minutes: int
    supervisor_id: str
    supervisee_ids: tuple[str, ...]
    site_id: str
    techniques: tuple[Technique, ...] = ()
    focus: tuple[Focus, ...] = ()

    def same_fields_as(self, other: AmendSession | LogSession | SessionRecord) -> bool:
        """Whether the session's own fields match; the order of lists does not matter."""
        return (
            self.kind == other.kind
            and self.format == other.format
            and self.modality == other.modality
            and self.date == other.date
            and self.start_time == other.start_time
            and self.minutes == other.minutes
            and set(self.techniques) == set(other.techniques)
            and set(self.focus) == set(other.focus)
        )


class LapseMark(BaseModel):
    model_config = ConfigDict(frozen=True)

    license_id: str
    lapse: LicenseLapse
    lapsed_since: dt.date


class SessionState(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["not_logged", "logged", "voided"] = "not_logged"
    # As it now stands (as logged, or as last amended).
    session: SessionRecord | None = None
    amendments: int = 0
    void_reason: str | None = None
    lapse: LapseMark | None = None


INITIAL = SessionState()


def decide_log_session(
    state: SessionState,
    supervisees: Mapping[str, SuperviseeState],
    standing: SupervisorState,
    command: LogSession,
    today: dt.date,
    tracks: Tracks,
) -> Decision:
    """Decides logging a session. `supervisees` maps each supervisee id of the command to that
    supervisee's state (a missing one counts as a supervisee with no record); `standing` is the
    supervisor's; `tracks` say what each supervisee's track allows on the session's date."""
    if state.session is not None:
        raise SessionIdMustNotBeReused(command.session_id)
    if command.date > today:
        raise SessionMustNotBeDatedInTheFuture(command.date, today)
    covering = _covering_agreements(
        supervisees,
        command.supervisee_ids,
        command.supervisor_id,
        command.site_id,
        command.date,
        command.format,
        "logging a session in it",
        tracks,
    )
    logged = SessionLogged(
        session_id=command.session_id,
        kind=command.kind,
        format=command.format,
        modality=command.modality,
        date=command.date,
        start_time=command.start_time,
        minutes=command.minutes,
        supervisor_id=command.supervisor_id,
        supervisee_ids=command.supervisee_ids,
        site_id=command.site_id,
        techniques=command.techniques,
        focus=command.focus,
    )
    session_events: list[DomainEvent] = [logged]
    mark = lapse_mark(evolve(state, logged), standing)
    if mark is not None:
        session_events.append(mark)
    received = {
        supervisee.stream_id(supervisee_id): (
            SupervisionReceived(
                session_id=command.session_id,
                supervisee_id=supervisee_id,
                agreement_id=agreement.agreement_id,
                date=command.date,
                minutes=command.minutes,
                format=command.format,
                modality=command.modality,
                supervisor_id=command.supervisor_id,
                site_id=command.site_id,
                kind=command.kind,
                wellbeing=command.wellbeing_of(supervisee_id),
            ),
        )
        for supervisee_id, agreement in covering.items()
    }
    return Decision(
        {stream_id(command.session_id): tuple(session_events), **received},
        lapse_marked=mark is not None,
    )


def decide_amend_session(
    state: SessionState,
    supervisees: Mapping[str, SuperviseeState],
    standing: SupervisorState,
    command: AmendSession,
    today: dt.date,
    tracks: Tracks,
) -> Decision:
    """Decides a correction: the session as it now stands, recorded as a new event, and followed
    by each supervisee's record. Both the month it was in and the month it moves to must be
    open."""
    current = _standing_session(state, command.session_id, "amended")
    if current.same_fields_as(command):
        return Decision(lapse_marked=state.lapse is not None)  # nothing to correct
    if command.date > today:
        raise SessionMustNotBeDatedInTheFuture(command.date, today)
    for supervisee_id in current.supervisee_ids:
        record = supervisees.get(supervisee_id, supervisee.INITIAL)
        record.check_open(supervisee_id, current.date, "amending a session in it")
    covering = _covering_agreements(
        supervisees,
        current.supervisee_ids,
        current.supervisor_id,
        current.site_id,
        command.date,
        command.format,
        "moving a session into it",
        tracks,
    )
    amended = SessionAmended(
        session_id=command.session_id,
        supervisee_ids=current.supervisee_ids,
        kind=command.kind,
        format=command.format,
        modality=command.modality,
        date=command.date,
        start_time=command.start_time,
        minutes=command.minutes,
        techniques=command.techniques,
        focus=command.focus,
        reason=command.reason,
        amended_by=command.actor,
    )
    session_events: list[DomainEvent] = [amended]
    mark = lapse_mark(evolve(state, amended), standing)
    if mark is not None:
        session_events.append(mark)
    events: dict[str, tuple[DomainEvent, ...]] = {
        stream_id(command.session_id): tuple(session_events)
    }
    for supervisee_id, agreement in covering.items():
        events[supervisee.stream_id(supervisee_id)] = (
            SupervisionAmended(
                session_id=command.session_id,
                supervisee_id=supervisee_id,
                agreement_id=agreement.agreement_id,
                date=command.date,
                minutes=command.minutes,
                format=command.format,
                modality=command.modality,
                kind=command.kind,
                reason=command.reason,
                amended_by=command.actor,
            ),
        )
    return Decision(events, lapse_marked=state.lapse is not None or mark is not None)


def decide_void_session(
    state: SessionState, supervisees: Mapping[str, SuperviseeState], command: VoidSession
) -> Decision:
    """Decides voiding: the session stays on the record and counts for no one."""
    current = _standing_session(state, command.session_id, "voided")
    for supervisee_id in current.supervisee_ids:
        record = supervisees.get(supervisee_id, supervisee.INITIAL)
        record.check_open(supervisee_id, current.date, "voiding a session in it")
    voided = SessionVoided(
        session_id=command.session_id,
        supervisee_ids=current.supervisee_ids,
        date=current.date,
        reason=command.reason,
        voided_by=command.actor,
    )
    return Decision(
        {
            stream_id(command.session_id): (voided,),
            **{
                supervisee.stream_id(supervisee_id): (
                    SupervisionVoided(
                        session_id=command.session_id,
                        supervisee_id=supervisee_id,
                        reason=command.reason,
                        voided_by=command.actor,
                    ),
                )
                for supervisee_id in current.supervisee_ids
            },
        },
        lapse_marked=state.lapse is not None,
    )


def lapse_mark(state: SessionState, standing: SupervisorState) -> SupervisorLapseMarked | None:
    """The mark a standing session gets when its supervisor was in lapse on its date; None when
    they were not, when their standing is unknown, or when it is marked already (once only)."""
    current = state.session
    if current is None or state.status != "logged" or state.lapse is not None:
        return None
    lapse = standing.lapse_on(current.date)
    if lapse is None:
        return None
    return SupervisorLapseMarked(
        session_id=current.session_id,
        supervisor_id=current.supervisor_id,
        date=current.date,
        license_id=lapse.license_id,
        lapse=lapse.lapse,
        lapsed_since=lapse.since,
    )


def evolve(state: SessionState, event: DomainEvent) -> SessionState:
    match event:
        case SessionLogged():
            record = SessionRecord(
                session_id=event.session_id,
                kind=event.kind,
                format=event.format,
                modality=event.modality,
                date=event.date,
                start_time=event.start_time,
                minutes=event.minutes,
                supervisor_id=event.supervisor_id,
                supervisee_ids=event.supervisee_ids,
                site_id=event.site_id,
                techniques=event.techniques,
                focus=event.focus,
            )
            return SessionState(status="logged", session=record)
        case SessionAmended():
            current = _logged(state, event)
            amended = current.model_copy(
                update={
                    "kind": event.kind,
                    "format": event.format,
                    "modality": event.modality,
                    "date": event.date,
                    "start_time": event.start_time,
                    "minutes": event.minutes,
                    "techniques": event.techniques,
                    "focus": event.focus,
                }
            )
            return state.model_copy(update={"session": amended, "amendments": state.amendments + 1})
        case SessionVoided():
            _logged(state, event)
            return state.model_copy(update={"status": "voided", "void_reason": event.reason})
        case SupervisorLapseMarked():
            _logged(state, event)
            mark = LapseMark(
                license_id=event.license_id, lapse=event.lapse, lapsed_since=event.lapsed_since
            )
            return state.model_copy(update={"lapse": mark})
        case _:
            raise TypeError(f"a session stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: SessionState = INITIAL) -> SessionState:
    for event in events:
        state = evolve(state, event)
    return state


def _logged(state: SessionState, event: DomainEvent) -> SessionRecord:
    if state.session is None:
        raise ValueError(f"{event.type} on a session stream before SessionLogged")
    return state.session


def _standing_session(state: SessionState, session_id: str, action: str) -> SessionRecord:
    if state.session is None:
        raise SessionMustExist(session_id)
    if state.status == "voided":
        raise SessionMustStandToBeChanged(session_id, action)
    return state.session


def _covering_agreements(
    supervisees: Mapping[str, SuperviseeState],
    supervisee_ids: Iterable[str],
    supervisor_id: str,
    site_id: str,
    day: dt.date,
    session_format: SessionFormat,
    action: str,
    tracks: Tracks,
) -> dict[str, Agreement]:
    """Each supervisee's agreement covering a session on `day`, checking that their month is
    open and that the session's size fits the format under their track."""
    ids = tuple(supervisee_ids)
    covering: dict[str, Agreement] = {}
    for supervisee_id in ids:
        record = supervisees.get(supervisee_id, supervisee.INITIAL)
        record.check_open(supervisee_id, day, action)
        agreement = record.covering_agreement(supervisor_id, site_id, day)
        if agreement is None:
            raise SuperviseeMustBeCoveredByAnAgreement(supervisee_id, supervisor_id, site_id, day)
        # Each supervisee's own board defines what an individual, triadic or group session is,
        # by the rules in force on the session's date.
        rules = tracks.on(agreement.credential_track, day)
        lowest, highest = rules.supervisee_range(session_format)
        if not lowest <= len(ids) <= highest:
            raise SessionSizeMustFitItsFormat(
                rules.track_id, session_format, len(ids), lowest, highest
            )
        covering[supervisee_id] = agreement
    return covering
