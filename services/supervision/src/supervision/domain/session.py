"""The Session aggregate: one stream per supervision session.

Logging a session is decided against the session's own stream and the Supervisee streams of
everyone in it: each supervisee must be covered by an agreement, and each receives a
SupervisionReceived on their own stream, so a supervisee's record is complete without reading
other streams (and a later month sign-off can lock it). The result is a `Decision`: the events
per stream, to be appended in ONE transaction with the versions the states were read at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain import supervisee
from supervision.domain.commands import LogSession
from supervision.domain.errors import (
    SessionIdMustNotBeReused,
    SessionMustNotBeDatedInTheFuture,
    SessionSizeMustFitItsFormat,
    SuperviseeMustBeCoveredByAnAgreement,
)
from supervision.domain.events import SessionLogged, SupervisionReceived
from supervision.domain.supervisee import SuperviseeState
from supervision.domain.tracks import track_rules
from supervision.domain.values import SessionFormat, SessionModality


def stream_id(session_id: str) -> str:
    return f"session-{session_id}"


class SessionRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    minutes: int
    supervisor_id: str
    supervisee_ids: tuple[str, ...]
    site_id: str

    def same_content_as(self, command: LogSession) -> bool:
        """Whether a command asks for exactly this session; supervisee order does not matter."""
        return (
            self.format == command.format
            and self.modality == command.modality
            and self.date == command.date
            and self.minutes == command.minutes
            and self.supervisor_id == command.supervisor_id
            and set(self.supervisee_ids) == set(command.supervisee_ids)
            and self.site_id == command.site_id
        )


class SessionState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Later lifecycle steps (amended, voided) extend this.
    status: Literal["not_logged", "logged"] = "not_logged"
    session: SessionRecord | None = None


INITIAL = SessionState()


@dataclass(frozen=True)
class Decision:
    """Events to append, by stream id. Empty when the command was already recorded."""

    events_by_stream: Mapping[str, tuple[DomainEvent, ...]] = field(default_factory=dict)

    @property
    def already_recorded(self) -> bool:
        return not self.events_by_stream

    def events(self) -> list[DomainEvent]:
        """Every event in append order: the session's first, then each supervisee's."""
        return [event for events in self.events_by_stream.values() for event in events]


def decide_log_session(
    state: SessionState,
    supervisees: Mapping[str, SuperviseeState],
    command: LogSession,
    today: dt.date,
) -> Decision:
    """Decides logging a session. `supervisees` maps each supervisee id of the command to that
    supervisee's state (a missing one counts as a supervisee with no agreements)."""
    if state.session is not None:
        if state.session.same_content_as(command):
            return Decision()
        raise SessionIdMustNotBeReused(command.session_id)
    if command.date > today:
        raise SessionMustNotBeDatedInTheFuture(command.date, today)

    received: dict[str, tuple[DomainEvent, ...]] = {}
    size = len(command.supervisee_ids)
    for supervisee_id in command.supervisee_ids:
        record = supervisees.get(supervisee_id, supervisee.INITIAL)
        agreement = record.covering_agreement(command.supervisor_id, command.site_id, command.date)
        if agreement is None:
            raise SuperviseeMustBeCoveredByAnAgreement(
                supervisee_id, command.supervisor_id, command.site_id, command.date
            )
        # Each supervisee's own board defines what an individual or a group session is.
        rules = track_rules(agreement.credential_track)
        lowest, highest = rules.supervisee_range(command.format)
        if not lowest <= size <= highest:
            raise SessionSizeMustFitItsFormat(rules.track_id, command.format, size, lowest, highest)
        received[supervisee.stream_id(supervisee_id)] = (
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
            ),
        )
    logged = SessionLogged(
        session_id=command.session_id,
        format=command.format,
        modality=command.modality,
        date=command.date,
        minutes=command.minutes,
        supervisor_id=command.supervisor_id,
        supervisee_ids=command.supervisee_ids,
        site_id=command.site_id,
    )
    return Decision({stream_id(command.session_id): (logged,), **received})


def evolve(state: SessionState, event: DomainEvent) -> SessionState:
    match event:
        case SessionLogged():
            return SessionState(
                status="logged",
                session=SessionRecord(
                    session_id=event.session_id,
                    format=event.format,
                    modality=event.modality,
                    date=event.date,
                    minutes=event.minutes,
                    supervisor_id=event.supervisor_id,
                    supervisee_ids=event.supervisee_ids,
                    site_id=event.site_id,
                ),
            )
        case _:
            raise TypeError(f"a session stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: SessionState = INITIAL) -> SessionState:
    for event in events:
        state = evolve(state, event)
    return state
