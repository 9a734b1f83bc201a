"""The Supervisee aggregate: one stream per supervisee holding their agreements and the
supervision they received. Deciding a new agreement needs all of a supervisee's agreements,
because the concurrent-supervisor limit spans them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain.commands import SignAgreement
from supervision.domain.errors import (
    AgreementIdMustNotBeReused,
    ConcurrentSupervisorsMustStayWithinTrackLimit,
)
from supervision.domain.events import AgreementSigned, SupervisionReceived
from supervision.domain.tracks import track_rules
from supervision.domain.values import SessionFormat, SessionModality


def stream_id(supervisee_id: str) -> str:
    return f"supervisee-{supervisee_id}"


class Agreement(BaseModel):
    """A signed agreement: one supervisor, one supervisee, one site, in force from start_date to
    end_date inclusive."""

    model_config = ConfigDict(frozen=True)

    agreement_id: str
    supervisor_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    end_date: dt.date

    def in_force_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.end_date

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.start_date <= end and start <= self.end_date

    def covers(self, supervisor_id: str, site_id: str, day: dt.date) -> bool:
        """Whether a session with this supervisor at this site on this day falls under it."""
        return (
            self.supervisor_id == supervisor_id
            and self.site_id == site_id
            and self.in_force_on(day)
        )


class SupervisionRecord(BaseModel):
    """One session as it counts for this supervisee, under the agreement that covered it."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    agreement_id: str
    date: dt.date
    minutes: int
    format: SessionFormat
    modality: SessionModality
    supervisor_id: str
    site_id: str


class SuperviseeState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # None until the first event: a supervisee's stream begins with their first agreement.
    supervisee_id: str | None = None
    agreements: tuple[Agreement, ...] = ()
    supervision: tuple[SupervisionRecord, ...] = ()

    def agreement(self, agreement_id: str) -> Agreement | None:
        return next((a for a in self.agreements if a.agreement_id == agreement_id), None)

    def covering_agreement(
        self, supervisor_id: str, site_id: str, day: dt.date
    ) -> Agreement | None:
        """The agreement a session with this supervisor at this site on this day falls under;
        the earliest signed when several do."""
        return next((a for a in self.agreements if a.covers(supervisor_id, site_id, day)), None)


INITIAL = SuperviseeState()


def decide(state: SuperviseeState, command: SignAgreement) -> list[DomainEvent]:
    """The events signing an agreement records; [] when the same agreement is already recorded."""
    if state.supervisee_id is not None and state.supervisee_id != command.supervisee_id:
        raise ValueError(f"{command.supervisee_id}'s agreement decided on another's state")
    proposed = _agreement_of(command)
    existing = state.agreement(command.agreement_id)
    if existing is not None:
        if existing == proposed:
            return []
        raise AgreementIdMustNotBeReused(command.agreement_id)
    _check_concurrent_supervisors(state, command.supervisee_id, proposed)
    return [
        AgreementSigned(
            agreement_id=command.agreement_id,
            supervisor_id=command.supervisor_id,
            supervisee_id=command.supervisee_id,
            site_id=command.site_id,
            credential_track=command.credential_track,
            start_date=command.start_date,
            end_date=command.end_date,
        )
    ]


def evolve(state: SuperviseeState, event: DomainEvent) -> SuperviseeState:
    match event:
        case AgreementSigned():
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "agreements": (*state.agreements, _agreement_of(event)),
                }
            )
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
            )
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "supervision": (*state.supervision, record),
                }
            )
        case _:
            raise TypeError(f"a supervisee stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: SuperviseeState = INITIAL) -> SuperviseeState:
    for event in events:
        state = evolve(state, event)
    return state


def _agreement_of(source: SignAgreement | AgreementSigned) -> Agreement:
    return Agreement(
        agreement_id=source.agreement_id,
        supervisor_id=source.supervisor_id,
        site_id=source.site_id,
        credential_track=source.credential_track,
        start_date=source.start_date,
        end_date=source.end_date,
    )


def _check_concurrent_supervisors(
    state: SuperviseeState, supervisee_id: str, proposed: Agreement
) -> None:
    """Counts distinct supervisors in force on each day of the proposed agreement. The count only
    rises on a day an agreement starts, so checking those days is enough. Two agreements with the
    same supervisor (for example at two sites) are one supervisor."""
    rules = track_rules(proposed.credential_track)
    limit = rules.concurrent_supervisors_max
    if limit is None:
        return
    overlapping = [
        a for a in state.agreements if a.overlaps(proposed.start_date, proposed.end_date)
    ] + [proposed]
    days = sorted({max(a.start_date, proposed.start_date) for a in overlapping})
    for day in days:
        supervisors = {a.supervisor_id for a in overlapping if a.in_force_on(day)}
        if len(supervisors) > limit:
            raise ConcurrentSupervisorsMustStayWithinTrackLimit(
                supervisee_id, rules.track_id, limit, day, supervisors
            )
